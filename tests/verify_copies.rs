//! Keypoint verification on real photographs: copies that defeat a
//! perceptual hash (70 % crops, 10° rotations, mirror images, watermarks,
//! screenshot frames) verify as the same picture, and different
//! photographs do not.
//!
//! The originals are the CC0 / public-domain photographs of
//! `tests/fixtures/hash`; the rotated, watermarked and framed copies in
//! `tests/fixtures/verify` were made from them by
//! `cargo run --example copy_eval -- fixtures tests/fixtures/hash tests/fixtures/verify`
//! (the evaluation's own transformations). Crops, flips and greyscale are
//! made here.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use image::DynamicImage;
use provenance::decode::{decode, DecodeLimits};
use provenance::verify::{self, Features, QueryFeatures, VerifySettings};

const PHOTOS: [&str; 10] = [
    "astronaut",
    "brick",
    "camera",
    "chelsea",
    "coffee",
    "coins",
    "gravel",
    "hubble_deep_field",
    "retina",
    "rocket",
];
const COPIED: [&str; 3] = ["chelsea", "coffee", "rocket"];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn load(path: &Path) -> DynamicImage {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    decode(&bytes, &DecodeLimits::default()).unwrap().image
}

fn photo(name: &str) -> DynamicImage {
    load(&fixtures().join("hash").join(format!("{name}.jpg")))
}

/// Stored features of a photo, through the stored byte form.
fn stored(image: &DynamicImage, settings: &VerifySettings) -> Features {
    let bytes = verify::encode(&verify::extract(image, settings.max_keypoints));
    verify::decode(&bytes).unwrap()
}

/// Stored features of every photo (default settings), computed once.
fn all_stored() -> &'static [Features] {
    static ALL: OnceLock<Vec<Features>> = OnceLock::new();
    ALL.get_or_init(|| {
        let settings = VerifySettings::default();
        PHOTOS
            .iter()
            .map(|n| stored(&photo(n), &settings))
            .collect()
    })
}

/// Inliers of `query` against every photo, by name.
fn inliers_against_all(
    query: &DynamicImage,
    settings: &VerifySettings,
) -> Vec<(&'static str, usize)> {
    let query = QueryFeatures::new(query, settings);
    PHOTOS
        .iter()
        .zip(all_stored())
        .map(|(name, candidate)| (*name, verify::verify(&query, candidate, settings).inliers))
        .collect()
}

/// The copy verifies against its original only.
fn assert_only_original(copy: &DynamicImage, original: &str, what: &str) {
    let settings = VerifySettings::default();
    for (name, inliers) in inliers_against_all(copy, &settings) {
        if name == original {
            assert!(
                inliers >= settings.min_inliers,
                "{what} of {original}: only {inliers} inliers"
            );
        } else {
            assert!(
                inliers < settings.min_inliers,
                "{what} of {original} verified against {name} ({inliers} inliers)"
            );
        }
    }
}

#[test]
fn committed_rotated_watermarked_and_framed_copies_verify_against_their_original_only() {
    for original in COPIED {
        for transform in ["rotate+10", "watermark", "frame"] {
            let path = fixtures()
                .join("verify")
                .join(format!("{original}__{transform}.jpg"));
            assert_only_original(&load(&path), original, transform);
        }
    }
}

#[test]
fn crops_to_seventy_percent_verify() {
    for original in COPIED {
        let image = photo(original);
        let (w, h) = (image.width(), image.height());
        let crop = image.crop_imm(w * 3 / 20, h / 10, w * 7 / 10, h * 7 / 10);
        assert_only_original(&crop, original, "70 % crop");
    }
}

#[test]
fn mirror_images_verify_through_the_mirrored_query() {
    let settings = VerifySettings::default();
    for original in COPIED {
        let mirrored = photo(original).fliph();
        let query = QueryFeatures::new(&mirrored, &settings);
        let result = verify::verify(&query, &stored(&photo(original), &settings), &settings);
        assert!(result.is_same_picture(&settings), "{original}: {result:?}");
        assert!(result.mirrored, "{original}: found without mirroring?");
        let transform = result.transform.unwrap();
        assert!((transform.scale() - 1.0).abs() < 0.1, "{transform:?}");
        assert!(transform.rotation_degrees().abs() < 3.0, "{transform:?}");
    }
}

#[test]
fn the_transform_found_is_the_one_applied() {
    // A 70 % crop scaled back to the same longer side is magnified
    // 1/0.7 ≈ 1.43: the transform query → original has scale ≈ 0.7.
    let settings = VerifySettings::default();
    let image = photo("chelsea");
    let (w, h) = (image.width(), image.height());
    let crop = image.crop_imm(0, 0, w * 7 / 10, h * 7 / 10);
    let query = QueryFeatures::new(&crop, &settings);
    let result = verify::verify(&query, &stored(&image, &settings), &settings);
    let transform = result.transform.expect("a transform");
    assert!((transform.scale() - 0.7).abs() < 0.05, "{transform:?}");
    assert!(transform.rotation_degrees().abs() < 2.0, "{transform:?}");
    assert!(!result.mirrored);
}

#[test]
fn different_photographs_do_not_verify_against_each_other() {
    let settings = VerifySettings::default();
    let all = all_stored();
    for (i, name) in PHOTOS.iter().enumerate() {
        let query = QueryFeatures::new(&photo(name), &settings);
        for (j, other) in PHOTOS.iter().enumerate() {
            let inliers = verify::verify(&query, &all[j], &settings).inliers;
            if i == j {
                assert!(
                    inliers >= 3 * settings.min_inliers,
                    "{name} against itself: {inliers}"
                );
            } else {
                assert!(
                    inliers < settings.min_inliers,
                    "{name} against {other}: {inliers}"
                );
            }
        }
    }
}
