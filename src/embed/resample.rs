//! Pillow's bicubic resampling, bit for bit, for 8-bit RGB.
//!
//! `CLIPImageProcessor` resizes with `PIL.Image.resize(..., BICUBIC)`: a
//! separable convolution (horizontal pass, then vertical) with the Keys
//! kernel a = −0.5 whose support is widened by the downscale factor
//! (antialiasing), coefficients rounded to 22-bit fixed point, and an 8-bit
//! rounded and clamped intermediate between the passes. This file
//! reproduces Pillow's `Resample.c` exactly, so the pixels match to the bit.
//!
//! Only a window of the output is computed ([`resize_window`]): the centre
//! crop needs 224 × 224 pixels even when the resized picture is very wide.

use image::RgbImage;

/// Pillow's `PRECISION_BITS` for 8-bit images.
const PRECISION_BITS: u32 = 32 - 8 - 2;
/// Half of one fixed-point unit: the rounding offset.
const HALF: i32 = 1 << (PRECISION_BITS - 1);
/// Bicubic support before scaling.
const BICUBIC_SUPPORT: f64 = 2.0;

/// Pillow's bicubic kernel (a = −0.5).
fn bicubic(x: f64) -> f64 {
    const A: f64 = -0.5;
    let x = x.abs();
    if x < 1.0 {
        ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        (((x - 5.0) * x + 8.0) * x - 4.0) * A
    } else {
        0.0
    }
}

/// Fixed-point taps of one output sample: first input index and weights.
#[derive(Debug, Clone, PartialEq)]
struct Taps {
    first: usize,
    weights: Vec<i32>,
}

/// Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for output
/// positions `range` of a resize from `in_size` to `out_size`.
fn taps(in_size: usize, out_size: usize, range: std::ops::Range<usize>) -> Vec<Taps> {
    let scale = in_size as f64 / out_size as f64;
    let filter_scale = scale.max(1.0);
    let support = BICUBIC_SUPPORT * filter_scale;
    let inv = 1.0 / filter_scale;
    range
        .map(|out| {
            let center = (out as f64 + 0.5) * scale;
            // C's (int) cast truncates toward zero, as `as` does.
            let min = ((center - support + 0.5) as i64).max(0) as usize;
            let max = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let raw: Vec<f64> = (min..max)
                .map(|x| bicubic((x as f64 - center + 0.5) * inv))
                .collect();
            let sum: f64 = raw.iter().sum();
            let weights = raw
                .iter()
                .map(|&w| if sum != 0.0 { w / sum } else { w })
                .map(to_fixed)
                .collect();
            Taps {
                first: min,
                weights,
            }
        })
        .collect()
}

/// Rounds a coefficient to fixed point, half away from zero, as Pillow does.
fn to_fixed(weight: f64) -> i32 {
    let scaled = weight * f64::from(1u32 << PRECISION_BITS);
    if weight < 0.0 {
        (scaled - 0.5) as i32
    } else {
        (scaled + 0.5) as i32
    }
}

/// Pillow's `clip8`: drop the fraction (floor) and clamp to 0..=255.
fn clip8(acc: i32) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

/// One output sample: `sample(i)` gives the input value at index `i`.
fn convolve(taps: &Taps, sample: impl Fn(usize) -> u8) -> u8 {
    let acc = taps.weights.iter().enumerate().fold(HALF, |acc, (i, &w)| {
        acc + i32::from(sample(taps.first + i)) * w
    });
    clip8(acc)
}

/// The window `[left, left + crop_w) × [top, top + crop_h)` of `image`
/// resized to `out_w × out_h` with Pillow's bicubic filter.
pub fn resize_window(
    image: &RgbImage,
    (out_w, out_h): (u32, u32),
    (left, top): (u32, u32),
    (crop_w, crop_h): (u32, u32),
) -> RgbImage {
    let in_h = image.height() as usize;
    let (out_w, out_h) = (out_w as usize, out_h as usize);
    let cols = left as usize..(left + crop_w) as usize;
    let rows = top as usize..(top + crop_h) as usize;
    let horizontal = horizontal_pass(image, out_w, cols);
    let vertical = if out_h == in_h {
        rows.map(|y| Taps {
            first: y,
            weights: vec![1 << PRECISION_BITS],
        })
        .collect()
    } else {
        taps(in_h, out_h, rows)
    };
    let mut out = RgbImage::new(crop_w, crop_h);
    for (y, row_taps) in vertical.iter().enumerate() {
        for x in 0..crop_w as usize {
            let mut pixel = [0u8; 3];
            for (c, value) in pixel.iter_mut().enumerate() {
                *value = convolve(row_taps, |row| {
                    horizontal[(row * crop_w as usize + x) * 3 + c]
                });
            }
            out.put_pixel(x as u32, y as u32, image::Rgb(pixel));
        }
    }
    out
}

/// Horizontal pass for output columns `cols` on every input row
/// (row-major, `cols.len()` pixels a row, 3 channels). Pillow skips the
/// pass when the width does not change; so do we.
fn horizontal_pass(image: &RgbImage, out_w: usize, cols: std::ops::Range<usize>) -> Vec<u8> {
    let (in_w, in_h) = (image.width() as usize, image.height() as usize);
    let raw = image.as_raw();
    let width = cols.len();
    let mut out = vec![0u8; width * in_h * 3];
    if out_w == in_w {
        for y in 0..in_h {
            let src = &raw[(y * in_w + cols.start) * 3..(y * in_w + cols.end) * 3];
            out[y * width * 3..(y + 1) * width * 3].copy_from_slice(src);
        }
        return out;
    }
    let col_taps = taps(in_w, out_w, cols);
    for y in 0..in_h {
        let row = &raw[y * in_w * 3..(y + 1) * in_w * 3];
        for (x, t) in col_taps.iter().enumerate() {
            for c in 0..3 {
                out[(y * width + x) * 3 + c] = convolve(t, |i| row[i * 3 + c]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_matches_keys_a_minus_half() {
        assert_eq!(bicubic(0.0), 1.0);
        assert_eq!(bicubic(1.0), 0.0);
        assert_eq!(bicubic(2.0), 0.0);
        assert!((bicubic(0.5) - 0.5625).abs() < 1e-12);
        assert!((bicubic(1.5) + 0.0625).abs() < 1e-12);
    }

    #[test]
    fn taps_sum_to_one_in_fixed_point() {
        for (input, output) in [(1000, 224), (100, 224), (225, 224), (7, 3)] {
            for t in taps(input, output, 0..output) {
                let sum: i32 = t.weights.iter().sum();
                assert!((sum - (1 << PRECISION_BITS)).abs() <= t.weights.len() as i32);
                assert!(t.first + t.weights.len() <= input);
            }
        }
    }

    #[test]
    fn flat_image_stays_flat() {
        let image = RgbImage::from_pixel(37, 11, image::Rgb([200, 3, 77]));
        let out = resize_window(&image, (100, 30), (10, 5), (20, 20));
        assert!(out.pixels().all(|p| p.0 == [200, 3, 77]));
    }

    #[test]
    fn window_equals_crop_of_full_resize() {
        let image = RgbImage::from_fn(23, 17, |x, y| {
            image::Rgb([(x * 11 % 256) as u8, (y * 15) as u8, ((x * y) % 256) as u8])
        });
        let full = resize_window(&image, (40, 9), (0, 0), (40, 9));
        let window = resize_window(&image, (40, 9), (13, 2), (20, 6));
        for (x, y, p) in window.enumerate_pixels() {
            assert_eq!(p, full.get_pixel(x + 13, y + 2));
        }
    }
}
