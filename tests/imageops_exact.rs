//! The fast resize and grey conversion (`provenance::imageops`) give the
//! same bytes as the `image` crate on real photographs, for every shape
//! the hashes and keypoints use, so hashes stored before them still match.

use std::path::PathBuf;

use image::imageops::FilterType;
use image::DynamicImage;
use image_hasher::{HashAlg, HasherConfig};
use provenance::hash::{perceptual_hashes, trim_uniform_border, MIRROR_SUFFIX};
use provenance::imageops::{self, resize_exact, resize_grey};

fn photos() -> Vec<(String, DynamicImage)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hash");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "jpg"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 10, "the hash fixtures are real photographs");
    paths
        .iter()
        .map(|p| {
            let image = image::open(p).expect("fixture decodes");
            (p.display().to_string(), image)
        })
        .collect()
}

fn assert_same(ours: &DynamicImage, theirs: &DynamicImage, what: &str) {
    assert_eq!(ours.color(), theirs.color(), "{what}: colour type");
    assert_eq!(ours.dimensions(), theirs.dimensions(), "{what}: size");
    assert!(
        ours.as_bytes() == theirs.as_bytes(),
        "{what}: pixels differ"
    );
}

trait Dimensions {
    fn dimensions(&self) -> (u32, u32);
}

impl Dimensions for DynamicImage {
    fn dimensions(&self) -> (u32, u32) {
        (self.width(), self.height())
    }
}

#[test]
fn resizes_equal_image_crate_on_photographs() {
    for (name, photo) in photos() {
        let (w, h) = (photo.width(), photo.height());
        let shapes = [
            (16, 16, FilterType::Lanczos3),
            (17, 16, FilterType::Triangle),
            (512, 512 * h / w.max(1), FilterType::Triangle),
            (w / 3 + 1, h / 2 + 1, FilterType::CatmullRom),
            (w * 3 / 2, h + 7, FilterType::Triangle),
            (w, h / 4, FilterType::Lanczos3),
        ];
        let variants = [
            ("rgb", DynamicImage::ImageRgb8(photo.to_rgb8())),
            ("rgba", DynamicImage::ImageRgba8(photo.to_rgba8())),
            ("grey", DynamicImage::ImageLuma8(photo.to_luma8())),
            (
                "grey+alpha",
                DynamicImage::ImageLumaA8(photo.to_luma_alpha8()),
            ),
        ];
        for (kind, picture) in &variants {
            for (tw, th, filter) in shapes {
                let what = format!("{name} {kind} -> {tw}x{th} {filter:?}");
                assert_same(
                    &resize_exact(picture, tw, th, filter),
                    &picture.resize_exact(tw, th, filter),
                    &what,
                );
            }
        }
        let grey = photo.to_luma8();
        let level = resize_grey(&grey, w * 10 / 13, h * 10 / 13, FilterType::Triangle);
        let reference =
            image::imageops::resize(&grey, w * 10 / 13, h * 10 / 13, FilterType::Triangle);
        assert!(level == reference, "{name}: grey pyramid level differs");
        assert!(
            imageops::grey(&photo) == photo.to_luma8(),
            "{name}: grey differs"
        );
    }
}

/// The stored hashes, computed the way they were before the fast path:
/// `image_hasher` on the trimmed picture and on its mirror.
fn hashes_the_slow_way(photo: &DynamicImage) -> Vec<(String, Vec<u8>)> {
    let trimmed = trim_uniform_border(photo);
    let hasher = HasherConfig::new()
        .hash_alg(HashAlg::Median)
        .hash_size(8, 8)
        .preproc_dct()
        .to_hasher();
    vec![
        (
            "phash64".to_owned(),
            hasher.hash_image(&*trimmed).as_bytes().to_vec(),
        ),
        (
            format!("phash64{MIRROR_SUFFIX}"),
            hasher.hash_image(&trimmed.fliph()).as_bytes().to_vec(),
        ),
    ]
}

#[test]
fn stored_hashes_are_unchanged_by_the_fast_path() {
    for (name, photo) in photos() {
        let fast: Vec<(String, Vec<u8>)> = perceptual_hashes(&photo)
            .into_iter()
            .map(|h| (h.kind, h.bits))
            .collect();
        assert_eq!(fast, hashes_the_slow_way(&photo), "{name}");
        let shrunk =
            photo.resize_exact(photo.width() / 3, photo.height() / 3, FilterType::Triangle);
        let fast: Vec<(String, Vec<u8>)> = perceptual_hashes(&shrunk)
            .into_iter()
            .map(|h| (h.kind, h.bits))
            .collect();
        assert_eq!(fast, hashes_the_slow_way(&shrunk), "{name} shrunk");
    }
}
