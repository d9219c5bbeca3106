//! Fast stand-ins for the two `image` crate operations the stored hashes
//! and keypoints are computed with — `imageops::resize` and the grey
//! conversion `to_luma8` — that give **the same bytes**, so nothing already
//! stored changes meaning.
//!
//! `image`'s resize walks the picture pixel by pixel through generic
//! accessors, column by column: shrinking a 1,000 × 800 photo to the
//! 16 × 16 of a pHash with Lanczos3 took 63 ms, ten times its JPEG
//! decoding. The same arithmetic done row by row over plain slices (the
//! same weights, the same f32 products summed in the same order, so the
//! same rounding) takes a fraction of that. Equality with `image` is pinned
//! by the tests on real photographs (`tests/imageops_exact.rs`). The grey
//! conversion is checked on all 2²⁴ colours.
//!
//! Only 8-bit sRGB pictures take the fast path; others are handed to `image`.

use std::sync::OnceLock;

use image::imageops::FilterType;
use image::metadata::Cicp;
use image::{DynamicImage, GrayImage, ImageBuffer, Pixel, Rgb32FImage, RgbImage};

/// `image`'s resize of an 8-bit picture, same output. Pictures tagged
/// with another colour space than sRGB (the default, which the new buffer
/// gets) go to `image`, which carries the tag over.
fn resize_u8<P>(
    source: &ImageBuffer<P, Vec<u8>>,
    width: u32,
    height: u32,
    filter: FilterType,
) -> ImageBuffer<P, Vec<u8>>
where
    P: Pixel<Subpixel = u8> + 'static,
{
    let (src_w, src_h) = source.dimensions();
    let trivial = src_w == 0 || src_h == 0 || (src_w, src_h) == (width, height);
    if trivial || source.color_space() != Cicp::SRGB {
        return image::imageops::resize(source, width, height, filter);
    }
    let channels = usize::from(P::CHANNEL_COUNT);
    let rows = taps(src_h, height, filter);
    let columns = taps(src_w, width, filter);
    let intermediate = vertical_pass(source.as_raw(), src_w as usize * channels, &rows);
    let src_w = src_w as usize;
    let out = match channels {
        1 => horizontal_pass::<1>(&intermediate, src_w, &columns),
        2 => horizontal_pass::<2>(&intermediate, src_w, &columns),
        3 => horizontal_pass::<3>(&intermediate, src_w, &columns),
        _ => horizontal_pass::<4>(&intermediate, src_w, &columns),
    };
    ImageBuffer::from_raw(width, height, out).expect("resize output has the requested size")
}

/// [`image::imageops::resize`] of a grey picture.
pub fn resize_grey(source: &GrayImage, width: u32, height: u32, filter: FilterType) -> GrayImage {
    resize_u8(source, width, height, filter)
}

/// [`DynamicImage::resize_exact`], same output.
pub fn resize_exact(
    image: &DynamicImage,
    width: u32,
    height: u32,
    filter: FilterType,
) -> DynamicImage {
    match image {
        DynamicImage::ImageLuma8(p) => resize_u8(p, width, height, filter).into(),
        DynamicImage::ImageLumaA8(p) => resize_u8(p, width, height, filter).into(),
        DynamicImage::ImageRgb8(p) => resize_u8(p, width, height, filter).into(),
        DynamicImage::ImageRgba8(p) => resize_u8(p, width, height, filter).into(),
        other => other.resize_exact(width, height, filter),
    }
}

/// [`DynamicImage::to_luma8`], same bytes. For 8-bit sRGB pixels (what
/// the decoders give) it is `image`'s own arithmetic — each channel scaled
/// to 0–1, weighted by the luminance row of the sRGB → XYZ matrix, summed
/// in channel order, scaled back and rounded — without its per-pixel
/// dispatch through the colour-space machinery.
pub fn grey(image: &DynamicImage) -> GrayImage {
    match image {
        DynamicImage::ImageRgb8(rgb) if rgb.color_space() == Cicp::SRGB => grey_of_srgb(rgb),
        other => other.to_luma8(),
    }
}

fn grey_of_srgb(rgb: &RgbImage) -> GrayImage {
    const SCALE: f32 = 1.0 / u8::MAX as f32;
    let [kr, kg, kb] = luminance_weights();
    let mut grey = vec![0u8; rgb.as_raw().len() / 3];
    let mut lumas = [0.0f32; 256];
    for (pixels, out) in rgb.as_raw().chunks(3 * 256).zip(grey.chunks_mut(256)) {
        for (pixel, luma) in pixels.chunks_exact(3).zip(lumas.iter_mut()) {
            let [r, g, b] = [pixel[0], pixel[1], pixel[2]].map(|c| f32::from(c) * SCALE);
            let mut sum = 0.0;
            sum = multiply_accumulate(sum, r, kr);
            sum = multiply_accumulate(sum, g, kg);
            sum = multiply_accumulate(sum, b, kb);
            *luma = sum * f32::from(u8::MAX);
        }
        for (luma, byte) in lumas.iter().zip(out.iter_mut()) {
            *byte = round_byte(*luma);
        }
    }
    GrayImage::from_raw(rgb.width(), rgb.height(), grey).expect("one grey byte per pixel")
}

/// The weights `image` uses for sRGB, read from `image` itself: converting
/// the unit colours in f32 gives each weight exactly.
fn luminance_weights() -> [f32; 3] {
    static WEIGHTS: OnceLock<[f32; 3]> = OnceLock::new();
    *WEIGHTS.get_or_init(|| {
        let units = Rgb32FImage::from_raw(3, 1, vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0])
            .expect("three pixels");
        let luma = DynamicImage::ImageRgb32F(units).to_luma32f();
        [luma.as_raw()[0], luma.as_raw()[1], luma.as_raw()[2]]
    })
}

/// `image`'s `multiply_accumulate`: fused where it compiles it fused.
#[cfg(any(
    all(
        any(target_arch = "x86", target_arch = "x86_64"),
        target_feature = "fma"
    ),
    all(target_arch = "aarch64", target_feature = "neon")
))]
fn multiply_accumulate(acc: f32, a: f32, b: f32) -> f32 {
    a.mul_add(b, acc)
}

#[cfg(not(any(
    all(
        any(target_arch = "x86", target_arch = "x86_64"),
        target_feature = "fma"
    ),
    all(target_arch = "aarch64", target_feature = "neon")
)))]
fn multiply_accumulate(acc: f32, a: f32, b: f32) -> f32 {
    acc + a * b
}

/// The input samples one output sample reads, and their weights.
struct Taps {
    first: usize,
    weights: Vec<f32>,
}

/// `image`'s kernel and support for a filter.
fn kernel(filter: FilterType) -> (fn(f32) -> f32, f32) {
    match filter {
        FilterType::Nearest => (|_| 1.0, 0.0),
        FilterType::Triangle => (triangle, 1.0),
        FilterType::CatmullRom => (catmull_rom, 2.0),
        FilterType::Gaussian => (gaussian, 3.0),
        FilterType::Lanczos3 => (lanczos3, 3.0),
    }
}

/// The taps of every output sample when `source` samples become
/// `target`, computed as `image`'s `vertical_sample`/`horizontal_sample` do.
fn taps(source: u32, target: u32, filter: FilterType) -> Vec<Taps> {
    let (kernel, support) = kernel(filter);
    let ratio = source as f32 / target as f32;
    let sratio = if ratio < 1.0 { 1.0 } else { ratio };
    let src_support = support * sratio;
    (0..target)
        .map(|out| {
            let centre = (out as f32 + 0.5) * ratio;
            let left = ((centre - src_support).floor() as i64).clamp(0, i64::from(source) - 1);
            let right = ((centre + src_support).ceil() as i64)
                .max(left + 1)
                .min(i64::from(source));
            let centre = centre - 0.5;
            let mut weights: Vec<f32> = (left..right)
                .map(|i| kernel((i as f32 - centre) / sratio))
                .collect();
            let mut sum = 0.0;
            for w in &weights {
                sum += w;
            }
            for w in &mut weights {
                *w /= sum;
            }
            Taps {
                first: left as usize,
                weights,
            }
        })
        .collect()
}

/// Resamples the rows: one f32 row per output row (not rounded, as in
/// `image`), each sample the taps' products summed in tap order. The row
/// is done in blocks of `BLOCK` samples that stay in registers across
/// the taps, instead of loading and storing the whole row once per tap.
fn vertical_pass(source: &[u8], row_len: usize, rows: &[Taps]) -> Vec<f32> {
    const BLOCK: usize = 32;
    let mut out = vec![0.0f32; row_len * rows.len()];
    for (taps, acc) in rows.iter().zip(out.chunks_exact_mut(row_len)) {
        for (index, block_out) in acc.chunks_mut(BLOCK).enumerate() {
            let start = index * BLOCK;
            let mut block = [0.0f32; BLOCK];
            for (k, &w) in taps.weights.iter().enumerate() {
                let at = (taps.first + k) * row_len + start;
                let row = &source[at..at + block_out.len()];
                for (a, &p) in block.iter_mut().zip(row) {
                    *a += f32::from(p) * w;
                }
            }
            block_out.copy_from_slice(&block[..block_out.len()]);
        }
    }
    out
}

/// Resamples the columns of the f32 intermediate and rounds to bytes,
/// clamped to 0–255 first, as `image` does.
fn horizontal_pass<const N: usize>(source: &[f32], width: usize, columns: &[Taps]) -> Vec<u8> {
    let row_len = width * N;
    let rows = source.len() / row_len.max(1);
    let mut out = Vec::with_capacity(rows * columns.len() * N);
    for row in source.chunks_exact(row_len) {
        for taps in columns {
            let window = &row[taps.first * N..(taps.first + taps.weights.len()) * N];
            let mut pixel = [0.0f32; N];
            for (input, &w) in window.chunks_exact(N).zip(&taps.weights) {
                for (value, &p) in pixel.iter_mut().zip(input) {
                    *value += p * w;
                }
            }
            out.extend(pixel.map(round_byte));
        }
    }
    out
}

/// `value` clamped to 0–255 and rounded half away from zero, as `image`'s
/// `clamp` + `f32::round` do, without a call into libm per sample: the
/// fraction `value - whole` is exact for 0 ≤ value < 2²³.
fn round_byte(value: f32) -> u8 {
    let value = value.clamp(0.0, 255.0);
    let whole = value as u32;
    let up = value - whole as f32 >= 0.5;
    (whole + u32::from(up)) as u8
}

// The kernels, written as `image` 0.25 writes them (same operations, same
// rounding).

fn sinc(t: f32) -> f32 {
    let a = t * std::f32::consts::PI;
    if t == 0.0 {
        1.0
    } else {
        a.sin() / a
    }
}

fn lanczos3(x: f32) -> f32 {
    if x.abs() < 3.0 {
        sinc(x) * sinc(x / 3.0)
    } else {
        0.0
    }
}

fn triangle(x: f32) -> f32 {
    if x.abs() < 1.0 {
        1.0 - x.abs()
    } else {
        0.0
    }
}

fn catmull_rom(x: f32) -> f32 {
    let (b, c) = (0.0f32, 0.5f32);
    let a = x.abs();
    let k = if a < 1.0 {
        (12.0 - 9.0 * b - 6.0 * c) * a.powi(3)
            + (-18.0 + 12.0 * b + 6.0 * c) * a.powi(2)
            + (6.0 - 2.0 * b)
    } else if a < 2.0 {
        (-b - 6.0 * c) * a.powi(3)
            + (6.0 * b + 30.0 * c) * a.powi(2)
            + (-12.0 * b - 48.0 * c) * a
            + (8.0 * b + 24.0 * c)
    } else {
        0.0
    };
    k / 6.0
}

fn gaussian(x: f32) -> f32 {
    let r = 0.5f32;
    ((2.0 * std::f32::consts::PI).sqrt() * r).recip() * (-x.powi(2) / (2.0 * r.powi(2))).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taps_cover_the_source_and_sum_to_one() {
        for filter in [FilterType::Triangle, FilterType::Lanczos3] {
            for (source, target) in [(1000, 16), (16, 1000), (17, 16), (5, 5), (1, 3)] {
                let all = taps(source, target, filter);
                assert_eq!(all.len(), target as usize);
                for t in &all {
                    assert!(t.first + t.weights.len() <= source as usize);
                    let sum: f32 = t.weights.iter().sum();
                    assert!((sum - 1.0).abs() < 1e-4, "{source}->{target}: {sum}");
                }
            }
        }
    }

    #[test]
    fn grey_equals_image_crate_on_every_colour() {
        let every = RgbImage::from_fn(4096, 4096, |x, y| {
            let c = y * 4096 + x;
            image::Rgb([(c >> 16) as u8, (c >> 8) as u8, c as u8])
        });
        let every = DynamicImage::ImageRgb8(every);
        let ours = grey(&every);
        let theirs = every.to_luma8();
        let first_difference = ours
            .as_raw()
            .iter()
            .zip(theirs.as_raw())
            .position(|(a, b)| a != b);
        assert_eq!(first_difference, None);
    }

    #[test]
    fn byte_rounding_is_clamp_then_round() {
        let reference = |v: f32| v.clamp(0.0, 255.0).round() as u8;
        for k in -4096..=270_000 {
            let v = k as f32 / 1024.0;
            for x in [v, v.next_down(), v.next_up()] {
                assert_eq!(round_byte(x), reference(x), "{x}");
            }
        }
        assert_eq!(round_byte(f32::INFINITY), 255);
        assert_eq!(round_byte(f32::NEG_INFINITY), 0);
    }

    #[test]
    fn small_pictures_equal_image_crate_output() {
        let rgb = RgbImage::from_fn(37, 23, |x, y| {
            image::Rgb([(x * 7) as u8, (y * 11) as u8, ((x * y) % 256) as u8])
        });
        let picture = DynamicImage::ImageRgb8(rgb);
        for filter in [
            FilterType::Nearest,
            FilterType::Triangle,
            FilterType::CatmullRom,
            FilterType::Gaussian,
            FilterType::Lanczos3,
        ] {
            for (w, h) in [(16, 16), (17, 16), (80, 9), (37, 23), (3, 50)] {
                assert_eq!(
                    resize_exact(&picture, w, h, filter).as_bytes(),
                    picture.resize_exact(w, h, filter).as_bytes(),
                    "{filter:?} {w}x{h}"
                );
            }
        }
    }

    #[test]
    fn pictures_in_other_colour_spaces_keep_their_tag_and_their_grey() {
        let mut rgb = RgbImage::from_fn(40, 30, |x, y| {
            image::Rgb([(x * 6) as u8, (y * 8) as u8, 90])
        });
        rgb.set_color_space(Cicp::DISPLAY_P3)
            .expect("an RGB colour space");
        let picture = DynamicImage::ImageRgb8(rgb);
        let ours = resize_exact(&picture, 16, 12, FilterType::Triangle);
        let theirs = picture.resize_exact(16, 12, FilterType::Triangle);
        assert_eq!(ours.color_space(), theirs.color_space());
        assert_eq!(ours.as_bytes(), theirs.as_bytes());
        assert_eq!(grey(&ours), theirs.to_luma8());
        assert_eq!(grey(&picture), picture.to_luma8());
    }
}
