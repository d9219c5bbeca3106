//! The query transformations of the copy-detection set (issue 5, item 6):
//! pure picture → picture functions, seeded where they choose anything.

use image::imageops::FilterType;
use image::{DynamicImage, Rgb, RgbImage};

/// Every transformation, by the name used in file names and tables.
pub const NAMES: [&str; 10] = [
    "resize-0.25",
    "jpeg-q20",
    "crop-70",
    "rotate+10",
    "rotate-10",
    "flip",
    "grey",
    "watermark",
    "frame",
    "bright-contrast",
];

/// Applies the named transformation; `seed` picks crop offsets. The
/// JPEG quality the result is saved at comes from [`jpeg_quality`].
pub fn apply(name: &str, image: &DynamicImage, seed: u64) -> Option<DynamicImage> {
    Some(match name {
        "resize-0.25" => image.resize(
            (image.width() / 4).max(1),
            (image.height() / 4).max(1),
            FilterType::Triangle,
        ),
        "jpeg-q20" => image.clone(),
        "crop-70" => crop(image, 0.7, seed),
        "rotate+10" => DynamicImage::ImageRgb8(rotate(&image.to_rgb8(), 10.0)),
        "rotate-10" => DynamicImage::ImageRgb8(rotate(&image.to_rgb8(), -10.0)),
        "flip" => image.fliph(),
        "grey" => DynamicImage::ImageLuma8(image.to_luma8()),
        "watermark" => DynamicImage::ImageRgb8(watermark(&image.to_rgb8())),
        "frame" => DynamicImage::ImageRgb8(frame(&image.to_rgb8())),
        "bright-contrast" => DynamicImage::ImageRgb8(bright_contrast(&image.to_rgb8())),
        _ => return None,
    })
}

/// The JPEG quality a transformed query is saved at.
pub fn jpeg_quality(name: &str) -> u8 {
    if name == "jpeg-q20" {
        20
    } else {
        90
    }
}

/// `fraction` of each side, at a seeded offset.
pub fn crop(image: &DynamicImage, fraction: f32, seed: u64) -> DynamicImage {
    let (w, h) = (image.width(), image.height());
    let (cw, ch) = ((w as f32 * fraction) as u32, (h as f32 * fraction) as u32);
    let mut random = Lcg(seed);
    let x = (random.unit() * (w - cw) as f32) as u32;
    let y = (random.unit() * (h - ch) as f32) as u32;
    image.crop_imm(x, y, cw, ch)
}

/// Rotation by `degrees` about the centre on the same canvas, bilinear,
/// black where the picture no longer reaches.
pub fn rotate(image: &RgbImage, degrees: f32) -> RgbImage {
    let (w, h) = image.dimensions();
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    RgbImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
        let sx = cos * dx + sin * dy + cx - 0.5;
        let sy = -sin * dx + cos * dy + cy - 0.5;
        bilinear(image, sx, sy).unwrap_or(Rgb([0, 0, 0]))
    })
}

fn bilinear(image: &RgbImage, x: f32, y: f32) -> Option<Rgb<u8>> {
    let (w, h) = image.dimensions();
    if x < 0.0 || y < 0.0 || x > (w - 1) as f32 || y > (h - 1) as f32 {
        return None;
    }
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let p = |x, y| image.get_pixel(x, y).0.map(f32::from);
    let (a, b, c, d) = (p(x0, y0), p(x1, y0), p(x0, y1), p(x1, y1));
    Some(Rgb(std::array::from_fn(|i| {
        let top = a[i] + (b[i] - a[i]) * fx;
        let bottom = c[i] + (d[i] - c[i]) * fx;
        (top + (bottom - top) * fy).round() as u8
    })))
}

/// Brightness +25 and contrast ×1.3 around mid-grey.
pub fn bright_contrast(image: &RgbImage) -> RgbImage {
    let mut out = image.clone();
    for p in out.pixels_mut() {
        p.0 =
            p.0.map(|v| ((f32::from(v) - 128.0) * 1.3 + 128.0 + 25.0).clamp(0.0, 255.0) as u8);
    }
    out
}

/// A screenshot frame: a dark title bar with three buttons on top, light
/// grey margins on the other sides.
pub fn frame(image: &RgbImage) -> RgbImage {
    let (w, h) = image.dimensions();
    let (side, bar) = ((w / 25).max(2), (h / 14).max(4));
    let mut out = RgbImage::from_pixel(w + 2 * side, h + bar + side, Rgb([236, 236, 236]));
    for y in 0..bar {
        for x in 0..out.width() {
            out.put_pixel(x, y, Rgb([48, 50, 56]));
        }
    }
    let radius = (bar / 4).max(1) as i32;
    for (i, colour) in [[237, 95, 87], [245, 190, 80], [98, 197, 84]]
        .iter()
        .enumerate()
    {
        let cx = side as i32 + radius * (2 + 3 * i as i32);
        let cy = bar as i32 / 2;
        for y in cy - radius..=cy + radius {
            for x in cx - radius..=cx + radius {
                if (x - cx).pow(2) + (y - cy).pow(2) <= radius * radius {
                    out.put_pixel(x as u32, y as u32, Rgb(*colour));
                }
            }
        }
    }
    image::imageops::overlay(&mut out, image, i64::from(side), i64::from(bar));
    out
}

/// 5×7 glyphs for the watermark text.
fn glyph(c: char) -> [u8; 7] {
    match c {
        'P' => [30, 17, 17, 30, 16, 16, 16],
        'R' => [30, 17, 17, 30, 20, 18, 17],
        'O' => [14, 17, 17, 17, 17, 17, 14],
        'V' => [17, 17, 17, 17, 17, 10, 4],
        'E' => [31, 16, 16, 30, 16, 16, 31],
        'N' => [17, 25, 21, 19, 17, 17, 17],
        'A' => [14, 17, 17, 31, 17, 17, 17],
        'C' => [14, 17, 16, 16, 16, 17, 14],
        'T' => [31, 4, 4, 4, 4, 4, 4],
        'S' => [15, 16, 16, 14, 1, 1, 30],
        '2' => [14, 17, 1, 2, 4, 8, 31],
        '0' => [14, 17, 19, 21, 25, 17, 14],
        '6' => [6, 8, 16, 30, 17, 17, 14],
        _ => [0; 7],
    }
}

/// Text overlays: a large semi-transparent caption across the lower third
/// and a small opaque credit in the top-left corner.
pub fn watermark(image: &RgbImage) -> RgbImage {
    let mut out = image.clone();
    let (w, h) = out.dimensions();
    let big = "PROVENANCE";
    let cell = (w as f32 * 0.8 / (big.len() as f32 * 6.0)).max(1.0) as u32;
    let x0 = (w - cell * 6 * big.len() as u32) / 2;
    draw_text(&mut out, big, x0, h * 2 / 3, cell, 0.6);
    draw_text(
        &mut out,
        "TEST 2026",
        w / 40,
        h / 30,
        (cell / 3).max(1),
        1.0,
    );
    out
}

fn draw_text(image: &mut RgbImage, text: &str, x0: u32, y0: u32, cell: u32, alpha: f32) {
    for (i, c) in text.chars().enumerate() {
        for (row, bits) in glyph(c).iter().enumerate() {
            for col in 0..5u32 {
                if bits & (16 >> col) == 0 {
                    continue;
                }
                let gx = x0 + (i as u32 * 6 + col) * cell;
                let gy = y0 + row as u32 * cell;
                for y in gy..(gy + cell).min(image.height()) {
                    for x in gx..(gx + cell).min(image.width()) {
                        let p = image.get_pixel_mut(x, y);
                        p.0 =
                            p.0.map(|v| (f32::from(v) * (1.0 - alpha) + 255.0 * alpha) as u8);
                    }
                }
            }
        }
    }
}

/// A small seeded generator (64-bit LCG, upper bits).
pub struct Lcg(pub u64);

impl Lcg {
    /// A value in [0, 1).
    pub fn unit(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
}
