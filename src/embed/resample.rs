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

/// The window `[left, left + crop_w) × [top, top + crop_h)` of `image`
/// resized to `out_w × out_h` with Pillow's bicubic filter.
pub fn resize_window(
    image: &RgbImage,
    (out_w, out_h): (u32, u32),
    (left, top): (u32, u32),
    (crop_w, crop_h): (u32, u32),
) -> RgbImage {
    let in_h = image.height() as usize;
    let rows = top as usize..(top + crop_h) as usize;
    // Pillow skips a pass whose size does not change; identity taps give
    // the same result.
    let vertical = if out_h as usize == in_h {
        rows.map(|y| Taps {
            first: y,
            weights: vec![1 << PRECISION_BITS],
        })
        .collect()
    } else {
        taps(in_h, out_h as usize, rows)
    };
    // Only the input rows the vertical pass reads (Pillow's ybox).
    let first_row = vertical.iter().map(|t| t.first).min().unwrap_or(0);
    let end_row = vertical
        .iter()
        .map(|t| t.first + t.weights.len())
        .max()
        .unwrap_or(0);
    let cols = left as usize..(left + crop_w) as usize;
    let horizontal = horizontal_pass(image, out_w as usize, cols, first_row..end_row);
    let row_len = crop_w as usize * 3;
    let mut out = Vec::with_capacity(row_len * vertical.len());
    let mut acc = vec![0i32; row_len];
    for t in &vertical {
        acc.fill(HALF);
        for (k, &w) in t.weights.iter().enumerate() {
            let start = (t.first + k - first_row) * row_len;
            for (a, &v) in acc.iter_mut().zip(&horizontal[start..start + row_len]) {
                *a += i32::from(v) * w;
            }
        }
        out.extend(acc.iter().map(|&a| clip8(a)));
    }
    RgbImage::from_raw(crop_w, crop_h, out).unwrap_or_else(|| unreachable!("sized above"))
}

/// Horizontal pass for output columns `cols` on input rows `rows`
/// (row-major, `cols.len()` pixels a row, 3 channels).
fn horizontal_pass(
    image: &RgbImage,
    out_w: usize,
    cols: std::ops::Range<usize>,
    rows: std::ops::Range<usize>,
) -> Vec<u8> {
    let in_w = image.width() as usize;
    let raw = image.as_raw();
    let mut out = Vec::with_capacity(cols.len() * rows.len() * 3);
    if out_w == in_w {
        for y in rows {
            out.extend_from_slice(&raw[(y * in_w + cols.start) * 3..(y * in_w + cols.end) * 3]);
        }
        return out;
    }
    let col_taps = taps(in_w, out_w, cols);
    for y in rows {
        let row = &raw[y * in_w * 3..(y + 1) * in_w * 3];
        for t in &col_taps {
            let src = &row[t.first * 3..(t.first + t.weights.len()) * 3];
            let mut acc = [HALF; 3];
            for (pixel, &w) in src.chunks_exact(3).zip(&t.weights) {
                acc[0] += i32::from(pixel[0]) * w;
                acc[1] += i32::from(pixel[1]) * w;
                acc[2] += i32::from(pixel[2]) * w;
            }
            out.extend(acc.map(clip8));
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
