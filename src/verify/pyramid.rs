//! Grey scale pyramid for keypoint detection: the picture is trimmed of
//! uniform frames, turned grey, brought to a fixed longer side (so a copy
//! resized ×0.25 looks like the original) and shrunk level by level.

use image::imageops::FilterType;
use image::{DynamicImage, GrayImage};

use crate::hash::trim_uniform_border;
use crate::imageops;

/// Longer side of pyramid level 0, in pixels.
pub const BASE_SIDE: u32 = 512;
/// Each level is this many times smaller than the one before.
pub const LEVEL_FACTOR: f32 = 1.3;
/// Number of pyramid levels of a stored picture.
pub const LEVELS: usize = 4;
/// Number of pyramid levels of a query: more, so that a query that shows
/// part of a picture enlarged (a crop, a zoomed screenshot) still has
/// coarse levels at the scale of the stored picture's fine ones.
pub const QUERY_LEVELS: usize = 7;

/// One pyramid level: the grey picture, a blurred copy for descriptors and
/// its scale (level-0 pixels per level pixel).
#[derive(Debug, Clone)]
pub struct Level {
    /// Grey pixels (corners are detected here).
    pub grey: GrayImage,
    /// 5×5 box-blurred pixels (orientations and descriptors are read here).
    pub smooth: GrayImage,
    /// Level-0 pixels per pixel of this level.
    pub scale: f32,
}

/// The pyramid of a picture ([`LEVELS`] levels); empty when the picture
/// is too small to hold a descriptor patch at level 0.
pub fn build(image: &DynamicImage) -> Vec<Level> {
    build_levels(image, LEVELS)
}

/// The pyramid of a picture with up to `count` levels (fewer when the
/// levels get too small).
pub fn build_levels(image: &DynamicImage, count: usize) -> Vec<Level> {
    let trimmed = trim_uniform_border(image);
    let (w, h) = (trimmed.width(), trimmed.height());
    if w < 16 || h < 16 {
        return Vec::new();
    }
    let fit = BASE_SIDE as f32 / w.max(h) as f32;
    let base = imageops::grey(&imageops::resize_exact(
        &trimmed,
        scaled(w, fit),
        scaled(h, fit),
        FilterType::Triangle,
    ));
    let mut levels = Vec::with_capacity(count);
    for index in 0..count {
        let scale = LEVEL_FACTOR.powi(index as i32);
        let grey = if index == 0 {
            base.clone()
        } else {
            imageops::resize_grey(
                &base,
                scaled(base.width(), 1.0 / scale),
                scaled(base.height(), 1.0 / scale),
                FilterType::Triangle,
            )
        };
        if grey.width() < 48 || grey.height() < 48 {
            break;
        }
        let smooth = box_blur5(&grey);
        levels.push(Level {
            grey,
            smooth,
            scale,
        });
    }
    levels
}

fn scaled(side: u32, factor: f32) -> u32 {
    ((side as f32 * factor).round() as u32).max(1)
}

/// 5×5 box blur (separable, edges clamped): the smoothing BRIEF needs so
/// single-pixel noise (JPEG blocks) does not flip descriptor bits.
pub fn box_blur5(image: &GrayImage) -> GrayImage {
    let (w, h) = image.dimensions();
    let horizontal = blur_pass(image.as_raw(), w as usize, h as usize, 1, w as usize);
    let vertical = blur_pass(&horizontal, h as usize, w as usize, w as usize, 1);
    GrayImage::from_raw(w, h, vertical).unwrap_or_else(|| image.clone())
}

/// One 5-tap averaging pass along lines of `len` pixels spaced `step`
/// apart; `lines` lines spaced `line_step` apart. Each line is copied with
/// its end pixels repeated twice on either side (the clamped edges), then
/// averaged with a running sum.
fn blur_pass(src: &[u8], len: usize, lines: usize, step: usize, line_step: usize) -> Vec<u8> {
    let mut out = vec![0u8; src.len()];
    let mut padded = vec![0u8; len + 4];
    for line in 0..lines {
        let start = line * line_step;
        for (i, slot) in padded[2..len + 2].iter_mut().enumerate() {
            *slot = src[start + i * step];
        }
        let (first, last) = (padded[2], padded[len + 1]);
        padded[..2].fill(first);
        padded[len + 2..].fill(last);
        let mut sum: u32 = padded[..4].iter().map(|&p| u32::from(p)).sum();
        for i in 0..len {
            sum += u32::from(padded[i + 4]);
            out[start + i * step] = ((sum + 2) / 5) as u8;
            sum -= u32::from(padded[i]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Luma, RgbImage};

    #[test]
    fn levels_shrink_from_a_fixed_longer_side() {
        let picture = DynamicImage::ImageRgb8(RgbImage::from_fn(1000, 600, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x * y) % 256) as u8])
        }));
        let levels = build(&picture);
        assert_eq!(levels.len(), LEVELS);
        assert_eq!(levels[0].grey.dimensions(), (512, 307));
        assert_eq!(levels[1].grey.width(), 394);
        assert!((levels[3].scale - 1.3f32.powi(3)).abs() < 1e-5);
    }

    #[test]
    fn tiny_pictures_have_no_pyramid() {
        let tiny = DynamicImage::ImageLuma8(GrayImage::from_pixel(10, 40, Luma([3])));
        assert!(build(&tiny).is_empty());
    }

    #[test]
    fn box_blur_averages_a_spike_over_five_by_five() {
        let mut spike = GrayImage::from_pixel(9, 9, Luma([0]));
        spike.put_pixel(4, 4, Luma([250]));
        let blurred = box_blur5(&spike);
        assert_eq!(blurred.get_pixel(4, 4)[0], 10);
        assert_eq!(blurred.get_pixel(2, 2)[0], 10);
        assert_eq!(blurred.get_pixel(1, 4)[0], 0);
    }
}
