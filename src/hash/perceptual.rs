//! Perceptual hashes with `image_hasher`: the algorithms measured for this
//! project ([`CANDIDATES`]) and the ones stored ([`STORED`]). A hash of the
//! mirrored picture is kept too, so a flipped copy still matches.

use std::borrow::Cow;

use image::imageops::FilterType;
use image::{DynamicImage, GrayImage, Rgb, RgbImage};
use image_hasher::{HashAlg, HasherConfig};

use crate::imageops;
use crate::model::PerceptualHash;

/// How one perceptual hash is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashSpec {
    /// Stored kind name, e.g. `phash64`.
    pub kind: &'static str,
    /// The `image_hasher` algorithm.
    pub alg: HashAlg,
    /// Hash width and height in cells (bits = width × height for most algorithms).
    pub size: (u32, u32),
    /// DCT preprocessing (turns `Mean` into the classic pHash).
    pub dct: bool,
}

impl HashSpec {
    /// Hashes a picture with this spec.
    pub fn hash(&self, image: &DynamicImage) -> Vec<u8> {
        self.hash_grey(&imageops::grey(image))
    }

    /// Hashes a grey picture with this spec. `image_hasher` would shrink
    /// it with `image`'s slow resize: it is shrunk here to the size the
    /// algorithm works at with [`imageops::resize_grey`] (same bytes), so
    /// `image_hasher`'s own resize becomes a copy.
    pub fn hash_grey(&self, grey: &GrayImage) -> Vec<u8> {
        let mut config = HasherConfig::new()
            .hash_alg(self.alg)
            .hash_size(self.size.0, self.size.1);
        if self.dct {
            config = config.preproc_dct();
        }
        let hasher = config.to_hasher();
        match self.working_size() {
            Some((w, h)) => {
                let small = imageops::resize_grey(grey, w, h, HASHER_RESIZE_FILTER);
                hasher.hash_image(&small)
            }
            None => hasher.hash_image(grey),
        }
        .as_bytes()
        .to_vec()
    }

    /// The size `image_hasher` resizes to before hashing (its
    /// `resize_dimensions`, doubled for DCT); `None` for Blockhash, which
    /// reads the whole picture.
    fn working_size(&self) -> Option<(u32, u32)> {
        let (w, h) = self.size;
        let (w, h) = match self.alg {
            HashAlg::Mean | HashAlg::Median => (w, h),
            HashAlg::Gradient => (w + 1, h),
            HashAlg::VertGradient => (w, h + 1),
            HashAlg::DoubleGradient => (w / 2 + 1, h / 2 + 1),
            _ => return None,
        };
        Some(if self.dct { (w * 2, h * 2) } else { (w, h) })
    }
}

/// `image_hasher`'s default resize filter (its `HasherConfig::new`).
const HASHER_RESIZE_FILTER: FilterType = FilterType::Lanczos3;

const fn spec(kind: &'static str, alg: HashAlg, size: u32, dct: bool) -> HashSpec {
    HashSpec {
        kind,
        alg,
        size: (size, size),
        dct,
    }
}

/// Every algorithm the measurement (`tests/hash_measure.rs`) compares.
pub const CANDIDATES: [HashSpec; 10] = [
    spec("phash64", HashAlg::Median, 8, true),
    spec("phash256", HashAlg::Median, 16, true),
    spec("meandct64", HashAlg::Mean, 8, true),
    spec("meandct256", HashAlg::Mean, 16, true),
    spec("dhash64", HashAlg::Gradient, 8, false),
    spec("dhash256", HashAlg::Gradient, 16, false),
    spec("ddhash64", HashAlg::DoubleGradient, 8, false),
    spec("ahash64", HashAlg::Mean, 8, false),
    spec("mhash64", HashAlg::Median, 8, false),
    spec("blockhash64", HashAlg::Blockhash, 8, false),
];

/// The hashes stored for every image (chosen by measurement, see [`crate::hash`]):
/// the classic pHash, a median over the 8×8 lowest DCT frequencies.
pub const STORED: [HashSpec; 1] = [spec("phash64", HashAlg::Median, 8, true)];

/// Below this [`hash_detail`] a picture is too smooth for a meaningful
/// perceptual hash (flat colours, soft gradients): none is stored.
pub const MIN_HASH_DETAIL: f32 = 1.0;

/// A side row or column counts as border when this share of its pixels is
/// within [`BORDER_TOLERANCE`] of the corner colour.
const BORDER_SHARE: f32 = 0.98;
/// Largest per-channel difference from the corner colour still "border".
const BORDER_TOLERANCE: u8 = 24;
/// At most this fraction of a side is trimmed.
const BORDER_MAX_FRACTION: f32 = 0.4;

/// Suffix of the kind of a hash computed on the mirrored picture.
pub const MIRROR_SUFFIX: &str = "-mirror";

/// The stored hashes of a picture: each of [`STORED`], and each again on the
/// horizontally mirrored picture (kind + [`MIRROR_SUFFIX`]), computed after
/// trimming uniform frames. Empty for pictures too smooth to hash
/// ([`MIN_HASH_DETAIL`]): they are matched by embedding only.
pub fn perceptual_hashes(image: &DynamicImage) -> Vec<PerceptualHash> {
    let image = trim_uniform_border(image);
    if hash_detail(&image) < MIN_HASH_DETAIL {
        return Vec::new();
    }
    // Grey first, then mirrored: the same pixels as grey of the mirror.
    let grey = imageops::grey(&image);
    let mirrored = image::imageops::flip_horizontal(&grey);
    STORED
        .iter()
        .flat_map(|spec| {
            [
                PerceptualHash {
                    kind: spec.kind.to_owned(),
                    bits: spec.hash_grey(&grey),
                },
                PerceptualHash {
                    kind: format!("{}{MIRROR_SUFFIX}", spec.kind),
                    bits: spec.hash_grey(&mirrored),
                },
            ]
        })
        .collect()
}

/// How much structure a picture has at hash scale: the mean absolute
/// difference between horizontally adjacent pixels of its 17×16 grey
/// thumbnail (0–255). Smooth pictures (flat colours, vignettes, gradients,
/// textures finer than the thumbnail) score low; their gradient hashes are
/// mostly noise and would match each other.
pub fn hash_detail(image: &DynamicImage) -> f32 {
    let thumbnail = imageops::grey(&imageops::resize_exact(image, 17, 16, FilterType::Triangle));
    let mut total = 0u32;
    for y in 0..16 {
        for x in 0..16 {
            total +=
                u32::from(thumbnail.get_pixel(x, y)[0].abs_diff(thumbnail.get_pixel(x + 1, y)[0]));
        }
    }
    total as f32 / 256.0
}

/// Removes uniform frames (white borders, letterboxing) so a framed copy
/// hashes like the original. Leaves the picture alone (borrowed, not
/// copied) when it has none.
pub fn trim_uniform_border(image: &DynamicImage) -> Cow<'_, DynamicImage> {
    let rgb: Cow<'_, RgbImage> = match image.as_rgb8() {
        Some(rgb) => Cow::Borrowed(rgb),
        None => Cow::Owned(image.to_rgb8()),
    };
    let (w, h) = rgb.dimensions();
    if w < 8 || h < 8 {
        return Cow::Borrowed(image);
    }
    let max_x = (w as f32 * BORDER_MAX_FRACTION) as u32;
    let max_y = (h as f32 * BORDER_MAX_FRACTION) as u32;
    let row = |y: u32, corner: Rgb<u8>| is_uniform((0..w).map(|x| *rgb.get_pixel(x, y)), corner);
    let column = |x: u32, corner: Rgb<u8>| is_uniform((0..h).map(|y| *rgb.get_pixel(x, y)), corner);
    let top_left = *rgb.get_pixel(0, 0);
    let bottom_right = *rgb.get_pixel(w - 1, h - 1);
    let top = (0..max_y).take_while(|y| row(*y, top_left)).count() as u32;
    let bottom = (0..max_y)
        .take_while(|d| row(h - 1 - d, bottom_right))
        .count() as u32;
    let left = (0..max_x).take_while(|x| column(*x, top_left)).count() as u32;
    let right = (0..max_x)
        .take_while(|d| column(w - 1 - d, bottom_right))
        .count() as u32;
    if top + bottom + left + right == 0 {
        return Cow::Borrowed(image);
    }
    Cow::Owned(image.crop_imm(left, top, w - left - right, h - top - bottom))
}

fn is_uniform(pixels: impl ExactSizeIterator<Item = Rgb<u8>>, corner: Rgb<u8>) -> bool {
    let total = pixels.len();
    let close = pixels
        .filter(|p| {
            p.0.iter()
                .zip(corner.0)
                .all(|(a, b)| a.abs_diff(b) <= BORDER_TOLERANCE)
        })
        .count();
    close as f32 >= total as f32 * BORDER_SHARE
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    fn gradient(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            Rgb([
                (x * 7 % 256) as u8,
                (y * 5 % 256) as u8,
                ((x + y) % 256) as u8,
            ])
        })
    }

    #[test]
    fn frames_are_trimmed() {
        let inner = gradient(60, 40);
        let mut framed = RgbImage::from_pixel(80, 60, Rgb([255, 255, 255]));
        image::imageops::overlay(&mut framed, &inner, 10, 10);
        let framed = DynamicImage::ImageRgb8(framed);
        let trimmed = trim_uniform_border(&framed);
        // The gradient starts black at (0,0), so at most the frame goes.
        assert_eq!((trimmed.width(), trimmed.height()), (60, 40));
    }

    #[test]
    fn uniform_and_unframed_pictures_are_left_alone() {
        let flat = DynamicImage::ImageRgb8(RgbImage::from_pixel(50, 50, Rgb([9, 9, 9])));
        assert_eq!(trim_uniform_border(&flat).width(), 50 - 2 * 20);
        let plain = DynamicImage::ImageRgb8(gradient(50, 30));
        assert_eq!(
            (
                trim_uniform_border(&plain).width(),
                trim_uniform_border(&plain).height()
            ),
            (50, 30)
        );
    }

    #[test]
    fn stored_hashes_come_in_plain_and_mirror_pairs() {
        let hashes = perceptual_hashes(&DynamicImage::ImageRgb8(gradient(64, 48)));
        let kinds: Vec<&str> = hashes.iter().map(|h| h.kind.as_str()).collect();
        assert_eq!(kinds, ["phash64", "phash64-mirror"]);
        assert_eq!(hashes[0].bits.len(), 8);
    }

    #[test]
    fn smooth_pictures_get_no_hash() {
        let flat = DynamicImage::ImageRgb8(RgbImage::from_pixel(64, 48, Rgb([120, 130, 140])));
        assert!(hash_detail(&flat) < MIN_HASH_DETAIL);
        assert!(perceptual_hashes(&flat).is_empty());
        let soft = DynamicImage::ImageRgb8(RgbImage::from_fn(64, 48, |x, _| {
            Rgb([100 + (x / 8) as u8, 100, 100])
        }));
        assert!(perceptual_hashes(&soft).is_empty());
        assert!(hash_detail(&DynamicImage::ImageRgb8(gradient(64, 48))) > MIN_HASH_DETAIL);
    }
}
