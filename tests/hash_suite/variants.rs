//! Near-duplicate variants of a picture, as the web makes them: resized,
//! re-encoded, cropped, rotated, mirrored, greyscaled, watermarked, framed,
//! brightened.

use image::imageops::FilterType;
use image::{DynamicImage, GenericImageView, ImageFormat, Rgba, RgbaImage};

/// A named transformation.
pub type Variant = (&'static str, fn(&DynamicImage) -> DynamicImage);

/// Every variant the measurement and the tests use.
pub const VARIANTS: [Variant; 15] = [
    ("resize-0.25", |i| scale(i, 0.25)),
    ("resize-0.5+jpeg50", |i| jpeg(&scale(i, 0.5), 50)),
    ("jpeg-q20", |i| jpeg(i, 20)),
    ("crop-90-centre", |i| crop(i, 0.90, 0.5)),
    ("crop-80-centre", |i| crop(i, 0.80, 0.5)),
    ("crop-70-centre", |i| crop(i, 0.70, 0.5)),
    ("crop-90-corner", |i| crop(i, 0.90, 0.0)),
    ("rotate-2deg", |i| rotate(i, 2.0)),
    ("rotate-5deg", |i| rotate(i, 5.0)),
    ("flip", |i| i.fliph()),
    ("greyscale", |i| {
        DynamicImage::ImageLuma8(i.to_luma8()).into_rgb8().into()
    }),
    ("watermark", watermark),
    ("border-10", border),
    ("brightness+40", |i| i.brighten(40)),
    ("contrast+30", |i| i.adjust_contrast(30.0)),
];

fn scale(image: &DynamicImage, factor: f32) -> DynamicImage {
    let (w, h) = image.dimensions();
    let (nw, nh) = (
        ((w as f32) * factor).round().max(1.0) as u32,
        ((h as f32) * factor).round().max(1.0) as u32,
    );
    image.resize_exact(nw, nh, FilterType::Triangle)
}

/// Re-encodes as JPEG at `quality` and decodes again.
pub fn jpeg(image: &DynamicImage, quality: u8) -> DynamicImage {
    let mut bytes = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality);
    image
        .to_rgb8()
        .write_with_encoder(encoder)
        .expect("encode JPEG");
    image::load_from_memory_with_format(&bytes, ImageFormat::Jpeg).expect("decode JPEG")
}

/// Keeps `fraction` of each side; `anchor` 0.5 = centred, 0 = top-left.
fn crop(image: &DynamicImage, fraction: f32, anchor: f32) -> DynamicImage {
    let (w, h) = image.dimensions();
    let (cw, ch) = ((w as f32 * fraction) as u32, (h as f32 * fraction) as u32);
    let (x, y) = (
        ((w - cw) as f32 * anchor) as u32,
        ((h - ch) as f32 * anchor) as u32,
    );
    image.crop_imm(x, y, cw, ch)
}

/// Rotates by `degrees` about the centre (nearest neighbour, black corners).
fn rotate(image: &DynamicImage, degrees: f32) -> DynamicImage {
    let source = image.to_rgba8();
    let (w, h) = source.dimensions();
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let rotated = RgbaImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        let (sx, sy) = (cos * dx + sin * dy + cx, -sin * dx + cos * dy + cy);
        if sx >= 0.0 && sy >= 0.0 && (sx as u32) < w && (sy as u32) < h {
            *source.get_pixel(sx as u32, sy as u32)
        } else {
            Rgba([0, 0, 0, 255])
        }
    });
    DynamicImage::ImageRgba8(rotated)
}

/// Blends a band of blocky white "text" over the lower part of the picture.
fn watermark(image: &DynamicImage) -> DynamicImage {
    let mut canvas = image.to_rgba8();
    let (w, h) = canvas.dimensions();
    let (top, bottom) = (h * 78 / 100, h * 90 / 100);
    let cell = ((bottom - top) / 5).max(1);
    for y in top..bottom {
        for x in w / 10..w * 9 / 10 {
            let (cx, cy) = ((x - w / 10) / cell, (y - top) / cell);
            // A fixed pseudo-random glyph pattern, with a gap between letters.
            let ink = cx % 4 != 3 && (cx.wrapping_mul(31) ^ cy.wrapping_mul(17)) % 3 != 0;
            if ink {
                let pixel = canvas.get_pixel_mut(x, y);
                for channel in 0..3 {
                    pixel[channel] = ((pixel[channel] as u32 * 2 + 255 * 3) / 5) as u8;
                }
            }
        }
    }
    DynamicImage::ImageRgba8(canvas)
}

/// Adds a white frame of 10 % of each side.
fn border(image: &DynamicImage) -> DynamicImage {
    let (w, h) = image.dimensions();
    let (bx, by) = (w / 10, h / 10);
    let mut canvas = RgbaImage::from_pixel(w + 2 * bx, h + 2 * by, Rgba([255, 255, 255, 255]));
    image::imageops::overlay(&mut canvas, &image.to_rgba8(), bx as i64, by as i64);
    DynamicImage::ImageRgba8(canvas)
}
