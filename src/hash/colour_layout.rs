//! A colour-layout signature for pictures too smooth for a perceptual hash
//! (flat colours, soft gradients, textures finer than the hash sees:
//! [`crate::hash::perceptual::MIN_HASH_DETAIL`]), so a resized or
//! re-encoded copy of such a picture can still be found without the
//! embedding. Pure functions, no I/O.
//!
//! The signature is an 8×8 grid of mean colours, one sRGB byte per channel
//! (192 bytes), computed after trimming uniform frames and with the
//! project's area-like resize (triangle filter over the whole cell), so a
//! thumbnail and the full-size picture agree. [`colour_distance`] sums,
//! over the 64 cells, the Euclidean distance of the two cells' colours,
//! and takes the smaller of the plain and the horizontally mirrored
//! comparison.
//!
//! ## Measured (`examples/colour_layout_eval.rs`)
//!
//! Real smooth pictures are rare: of 77 Debian wallpapers (gnome, mate,
//! plasma; transparent overlays left out) 3 are under `MIN_HASH_DETAIL`
//! and 6 under 2.0, and none of 1,298 photographs. The measurement adds
//! synthetic smooth pictures made from the photographs: 163 soft,
//! low-contrast layouts (a photo shrunk to 8 px, blown up, contrast
//! lowered to detail 0.7) and 143 flat patterns (a 32-px patch tiled over
//! 1280×960), 312 in all, stored together with the 1,298 photographs;
//! 100 more photographs are queries only. Each smooth picture is edited;
//! each edit must find its original and nothing else:
//!
//! | edit | median | p95 | max | recall at 96 |
//! |---|---|---|---|---|
//! | resize to 30 % | 4 | 27 | 713 | 0.994 |
//! | 160-px thumbnail | 8 | 59 | 718 | 0.984 |
//! | mirror | 0 | 158 | 596 | 0.936 |
//! | blur σ 2 | 0 | 39 | 710 | 0.990 |
//! | crop to 95 % | 16 | 70 | 309 | 0.978 |
//! | WebP q30 (Pillow) | 68 | 181 | 1030 | 0.859 |
//! | JPEG q15 | 244 | 475 | 724 | 0.173 |
//! | resize 30 % + JPEG q15 | 298 | 490 | 737 | 0.045 |
//! | **nearest different picture** (any edit, all 1,671 stored) | **117** | | | no false positive |
//!
//! Different pictures: two different smooth pictures came no closer than
//! 117 (an edit against any other stored picture); photographs with
//! detail ≥ 3 no closer than 542 to any smooth picture. Hence
//! [`COLOUR_MATCH_DISTANCE`] = 96, about 20 % under the nearest different
//! picture.
//!
//! **JPEG at q15 is mostly out of reach** (as is a fraction of WebP q30):
//! its coarse DC quantisation moves the colour of every flat 8×8 block by
//! up to ±3 levels per YCbCr channel, the same way across the picture, so
//! a flat picture's copy lands about as far from it as a different flat
//! picture of a nearby colour. No threshold catches 95 % of q15 copies
//! without false positives on this set (p95 475 vs nearest 117); stronger
//! JPEG copies of flat pictures are left to the embedding. Most misses
//! of resize, thumbnail, mirror and blur come from a few pictures (one
//! dark MATE wallpaper misses with every edit, at ~710); the likely cause,
//! not yet checked, is [`trim_uniform_border`] trimming a near-uniform
//! frame differently once the picture is edited or mirrored (it compares
//! against the top-left and bottom-right corners).
//!
//! Rejected by the same measurement (recall of resize, thumbnail, JPEG
//! q15, WebP q30 and mirror at the largest threshold with no false
//! positive): Oklab 0.64 (8×8), 0.68 (6×6), 0.64 (4×4); YCbCr 0.70
//! (8×8), 0.73 (6×6), 0.70 (4×4); sRGB 8×8 0.81 (this design). Oklab's
//! cube root probably magnifies the quantisation noise of dark pictures
//! (not checked). Summed absolute differences or one Euclidean distance
//! over all bytes gave the same recall as the per-cell sum within 0.01.

use image::imageops::FilterType;
use image::DynamicImage;

use crate::decode::to_rgb8;
use crate::hash::trim_uniform_border;
use crate::imageops::resize_exact;

/// Kind under which the signature is stored.
pub const KIND: &str = "colour-layout-v1";

/// Cells per side of the grid.
const GRID: usize = 8;
/// Bytes per cell: sRGB R, G, B.
const CHANNELS: usize = 3;
/// Length of a signature.
const LEN: usize = GRID * GRID * CHANNELS;

/// At or under this [`colour_distance`], two smooth pictures are the same
/// picture (resized, thumbnailed, mirrored, blurred, cropped by 5 %, most
/// WebP copies): measured, no different picture came closer than 117.
pub const COLOUR_MATCH_DISTANCE: u32 = 96;

/// The signature of a picture: its 8×8 grid of mean sRGB colours, row by
/// row ([`KIND`], 192 bytes), after flattening alpha over white (as the
/// decoder does for the embedder) and trimming uniform frames.
pub fn colour_layout(image: &DynamicImage) -> Vec<u8> {
    let flattened;
    let image = if image.color().has_alpha() {
        flattened = DynamicImage::ImageRgb8(to_rgb8(image));
        &flattened
    } else {
        image
    };
    let image = trim_uniform_border(image);
    let grid = resize_exact(&image, GRID as u32, GRID as u32, FilterType::Triangle).to_rgb8();
    grid.into_raw()
}

/// Distance between two signatures of [`colour_layout`]: the sum over the
/// 64 cells of the Euclidean distance between the cells' colours (0–28,270;
/// a uniform shift of 1 level in each channel gives 111), the smaller of
/// the plain and the horizontally mirrored comparison. `None` unless both
/// are signatures.
pub fn colour_distance(a: &[u8], b: &[u8]) -> Option<u32> {
    if a.len() != LEN || b.len() != LEN {
        return None;
    }
    let plain = cell_distance(a, b, |x, y| (y * GRID + x) * CHANNELS);
    let mirrored = cell_distance(a, b, |x, y| (y * GRID + GRID - 1 - x) * CHANNELS);
    Some(plain.min(mirrored))
}

/// Sum over cells of the Euclidean distance between `a`'s cell `(x, y)`
/// and the cell of `b` at offset `b_cell(x, y)`, in byte units.
fn cell_distance(a: &[u8], b: &[u8], b_cell: impl Fn(usize, usize) -> usize) -> u32 {
    let mut total = 0.0f32;
    for y in 0..GRID {
        for x in 0..GRID {
            let at = (y * GRID + x) * CHANNELS;
            let other = b_cell(x, y);
            let squares: f32 = (0..CHANNELS)
                .map(|c| (f32::from(a[at + c]) - f32::from(b[other + c])).powi(2))
                .sum();
            total += squares.sqrt();
        }
    }
    total.round() as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::perceptual::{hash_detail, MIN_HASH_DETAIL};
    use image::codecs::jpeg::JpegEncoder;
    use image::{Rgb, RgbImage};

    /// A soft picture: a diagonal blend from `from` to `to` with a faint
    /// warm blob left of centre, too smooth for a perceptual hash.
    fn smooth(from: [f32; 3], to: [f32; 3]) -> DynamicImage {
        let (w, h) = (640u32, 480u32);
        DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
            let t = (x as f32 / w as f32 + y as f32 / h as f32) / 2.0;
            let (dx, dy) = (x as f32 - 200.0, y as f32 - 240.0);
            let blob = 12.0 * (-(dx * dx + dy * dy) / (2.0 * 120.0f32.powi(2))).exp();
            let channel = |c: usize| from[c] + (to[c] - from[c]) * t;
            Rgb([
                (channel(0) + blob).clamp(0.0, 255.0) as u8,
                channel(1) as u8,
                (channel(2) - blob).clamp(0.0, 255.0) as u8,
            ])
        }))
    }

    fn sky() -> DynamicImage {
        smooth([70.0, 110.0, 170.0], [95.0, 130.0, 180.0])
    }

    fn jpeg(image: &DynamicImage, quality: u8) -> DynamicImage {
        let mut bytes = Vec::new();
        JpegEncoder::new_with_quality(&mut bytes, quality)
            .encode_image(image)
            .expect("encodes");
        image::load_from_memory(&bytes).expect("decodes")
    }

    fn distance(a: &DynamicImage, b: &DynamicImage) -> u32 {
        colour_distance(&colour_layout(a), &colour_layout(b)).expect("signatures")
    }

    #[test]
    fn the_test_pictures_are_too_smooth_to_hash() {
        assert!(hash_detail(&sky()) < MIN_HASH_DETAIL);
        assert_eq!(colour_layout(&sky()).len(), LEN);
    }

    #[test]
    fn a_resized_and_recompressed_copy_is_within_the_threshold() {
        // At a usual quality: q15 moves flat colours too far (see above).
        let original = sky();
        let small = resize_exact(&original, 192, 144, FilterType::CatmullRom);
        let copy = jpeg(&small, 75);
        let d = distance(&original, &copy);
        assert!(d <= COLOUR_MATCH_DISTANCE, "distance {d}");
    }

    #[test]
    fn a_mirrored_copy_is_within_the_threshold_though_its_grid_differs() {
        let original = sky();
        let mirrored = original.fliph();
        let (a, b) = (colour_layout(&original), colour_layout(&mirrored));
        let plain = cell_distance(&a, &b, |x, y| (y * GRID + x) * CHANNELS);
        assert!(plain > COLOUR_MATCH_DISTANCE, "plain distance {plain}");
        let d = colour_distance(&a, &b).expect("signatures");
        assert!(d <= COLOUR_MATCH_DISTANCE, "distance {d}");
    }

    #[test]
    fn a_different_smooth_picture_is_not() {
        let dusk = smooth([90.0, 80.0, 150.0], [160.0, 110.0, 120.0]);
        let d = distance(&sky(), &dusk);
        assert!(d > COLOUR_MATCH_DISTANCE, "distance {d}");
        // Nor the same blend running the other way.
        let reversed = smooth([95.0, 130.0, 180.0], [70.0, 110.0, 170.0]);
        let d = distance(&sky(), &reversed);
        assert!(d > COLOUR_MATCH_DISTANCE, "distance {d}");
    }

    #[test]
    fn a_transparent_picture_is_seen_flattened_over_white() {
        let rgba = image::RgbaImage::from_pixel(64, 48, image::Rgba([0, 0, 0, 0]));
        let white = DynamicImage::ImageRgb8(RgbImage::from_pixel(64, 48, Rgb([255; 3])));
        let transparent = DynamicImage::ImageRgba8(rgba);
        assert_eq!(colour_layout(&transparent), colour_layout(&white));
    }

    #[test]
    fn anything_but_two_signatures_has_no_distance() {
        let signature = colour_layout(&sky());
        assert_eq!(colour_distance(&signature, &signature[1..]), None);
        assert_eq!(colour_distance(&signature[1..], &signature[1..]), None);
        assert_eq!(colour_distance(&[], &[]), None);
        assert_eq!(colour_distance(&signature, &signature), Some(0));
    }
}
