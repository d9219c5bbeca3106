//! Picture → CLIP pixel tensor, exactly as `transformers.CLIPImageProcessor`.
//!
//! The reference pipeline (its PIL backend, which is what OpenAI's CLIP
//! used): convert to RGB, resize the shortest side to `size` with PIL's
//! bicubic filter (antialiased), centre crop `size × size`, multiply by
//! 1/255 in `f64` and round to `f32`, subtract the mean and divide by the
//! standard deviation in `f32`. Colour conversion (alpha over white, 16-bit
//! rounding) is [`crate::decode::to_rgb8`]. The parity test
//! `tests/clip_parity.rs` pins this against the Python reference.

use image::{DynamicImage, RgbImage};

use super::resample::resize_window;

/// CLIP's per-channel mean (`OPENAI_CLIP_MEAN`), the reference's digits.
#[allow(clippy::excessive_precision)]
pub const CLIP_MEAN: [f32; 3] = [0.481_454_66, 0.457_827_5, 0.408_210_73];
/// CLIP's per-channel standard deviation (`OPENAI_CLIP_STD`).
#[allow(clippy::excessive_precision)]
pub const CLIP_STD: [f32; 3] = [0.268_629_54, 0.261_302_58, 0.275_777_11];
/// Input side of the ViT-B/32 and ViT-L/14 models.
pub const DEFAULT_IMAGE_SIZE: u32 = 224;

/// Size the reference resizes to: shortest side `size`, the other side
/// `int(size * long / short)` (truncated, as Python's `int`).
pub fn resized_size(width: u32, height: u32, size: u32) -> (u32, u32) {
    let (short, long) = if width <= height {
        (width, height)
    } else {
        (height, width)
    };
    let new_long = (f64::from(size) * f64::from(long) / f64::from(short)) as u32;
    if width <= height {
        (size, new_long)
    } else {
        (new_long, size)
    }
}

/// The `size × size` centre crop of the resized picture, as 8-bit RGB.
/// An empty picture (no pixels) is treated as one white pixel.
pub fn resize_and_crop(image: &RgbImage, size: u32) -> RgbImage {
    if image.width() == 0 || image.height() == 0 {
        let white = RgbImage::from_pixel(1, 1, image::Rgb([255, 255, 255]));
        return resize_and_crop(&white, size);
    }
    let (out_w, out_h) = resized_size(image.width(), image.height(), size);
    let left = (out_w - size) / 2;
    let top = (out_h - size) / 2;
    resize_window(image, (out_w, out_h), (left, top), (size, size))
}

/// Rescales and normalises a `size × size` RGB crop into CHW `f32`.
pub fn normalize(crop: &RgbImage) -> Vec<f32> {
    let plane = (crop.width() * crop.height()) as usize;
    let mut out = vec![0f32; 3 * plane];
    for (i, pixel) in crop.pixels().enumerate() {
        for c in 0..3 {
            let rescaled = (f64::from(pixel[c]) * (1.0 / 255.0)) as f32;
            out[c * plane + i] = (rescaled - CLIP_MEAN[c]) / CLIP_STD[c];
        }
    }
    out
}

/// The model input for one picture at `size` (224 for ViT-B/32):
/// `3 × size × size` values, channel-major (CHW).
pub fn preprocess_at(image: &DynamicImage, size: u32) -> Vec<f32> {
    let rgb = crate::decode::to_rgb8(image);
    normalize(&resize_and_crop(&rgb, size))
}

/// [`preprocess_at`] for 224 × 224 models.
pub fn preprocess(image: &DynamicImage) -> Vec<f32> {
    preprocess_at(image, DEFAULT_IMAGE_SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortest_side_becomes_size_and_long_side_truncates() {
        assert_eq!(resized_size(640, 480, 224), (298, 224));
        assert_eq!(resized_size(480, 640, 224), (224, 298));
        assert_eq!(resized_size(100, 100, 224), (224, 224));
        assert_eq!(resized_size(3000, 20, 224), (33600, 224));
    }

    #[test]
    fn normalisation_uses_clip_constants() {
        let crop = RgbImage::from_pixel(1, 1, image::Rgb([0, 255, 128]));
        let v = normalize(&crop);
        assert!((f64::from(v[0]) - (-0.481_454_66f64 / 0.268_629_54)).abs() < 1e-6);
        assert!((f64::from(v[1]) - (1.0 - 0.457_827_5f64) / 0.261_302_58).abs() < 1e-6);
        assert_eq!(v.len(), 3);
    }

    #[test]
    fn empty_and_extreme_pictures_do_not_panic() {
        for (w, h) in [(0, 0), (0, 5), (1, 1), (1, 3000), (3000, 1)] {
            let v = preprocess_at(&DynamicImage::new_rgb8(w, h), 8);
            assert_eq!(v.len(), 3 * 8 * 8, "{w}x{h}");
            assert!(v.iter().all(|x| x.is_finite()));
        }
    }

    #[test]
    fn output_is_chw_of_the_requested_size() {
        let image = DynamicImage::new_rgba8(50, 30);
        let v = preprocess_at(&image, 16);
        assert_eq!(v.len(), 3 * 16 * 16);
        // Fully transparent black is white after flattening: (1 - mean) / std.
        assert!((v[0] - (1.0 - CLIP_MEAN[0]) / CLIP_STD[0]).abs() < 1e-6);
    }
}
