//! A set of distinct, realistic web JPEGs made from real photographs: each
//! file is a mosaic of random crops of the source photos (2–4 × 2–4 tiles,
//! flipped and re-lit at random), with a light film grain, 640–1600 px on
//! its long side, JPEG quality 78–90. Every file differs (so nothing
//! dedupes by SHA-256) and is the same for the same index on every run.

use std::path::{Path, PathBuf};

use image::codecs::jpeg::JpegEncoder;
use image::imageops::{self, FilterType};
use image::{DynamicImage, RgbImage};

/// A small deterministic random source (SplitMix64): no dependency, and
/// the same images on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (self.next() % u64::from(hi - lo + 1)) as u32
    }
}

/// The name of image `index` in the set.
pub fn file_name(index: usize) -> String {
    format!("img{index:05}.jpg")
}

/// Loads every JPEG in `dir` as RGB.
pub fn load_sources(dir: &Path) -> Result<Vec<RgbImage>, String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jpg" || x == "jpeg"))
        .collect();
    paths.sort();
    let sources: Vec<RgbImage> = paths
        .iter()
        .map(|p| {
            image::open(p)
                .map(|i| i.to_rgb8())
                .map_err(|e| format!("{}: {e}", p.display()))
        })
        .collect::<Result<_, _>>()?;
    if sources.is_empty() {
        return Err(format!("no JPEG photos in {}", dir.display()));
    }
    Ok(sources)
}

/// Writes images `0..count` into `out` on `threads` threads (files already
/// there are kept); returns the total size in bytes.
pub fn generate(
    sources: &[RgbImage],
    out: &Path,
    count: usize,
    threads: usize,
) -> Result<u64, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let threads = threads.max(1);
    let totals: Vec<Result<u64, String>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let mut total = 0;
                    for index in (t..count).step_by(threads) {
                        let path = out.join(file_name(index));
                        if let Ok(meta) = std::fs::metadata(&path) {
                            total += meta.len();
                            continue;
                        }
                        let bytes = picture(sources, index as u64)?;
                        total += bytes.len() as u64;
                        std::fs::write(&path, bytes)
                            .map_err(|e| format!("{}: {e}", path.display()))?;
                    }
                    Ok(total)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err("a generator thread panicked".into()))
            })
            .collect()
    });
    totals.into_iter().sum()
}

/// The JPEG bytes of image `index`.
fn picture(sources: &[RgbImage], index: u64) -> Result<Vec<u8>, String> {
    let mut rng = Rng(index.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x5eed);
    let long = rng.range(640, 1600);
    // Landscape 4:3, 3:2, 16:9, square, portrait 3:4.
    let (num, den) = [(4, 3), (3, 2), (16, 9), (1, 1), (3, 4)][rng.range(0, 4) as usize];
    let (width, height) = if num >= den {
        (long, long * den / num)
    } else {
        (long * num / den, long)
    };
    let mut canvas = RgbImage::new(width, height);
    let (cols, rows) = (rng.range(2, 4), rng.range(2, 4));
    for row in 0..rows {
        for col in 0..cols {
            let (x0, y0) = (width * col / cols, height * row / rows);
            let (x1, y1) = (width * (col + 1) / cols, height * (row + 1) / rows);
            let tile = tile(sources, &mut rng, x1 - x0, y1 - y0);
            imageops::replace(&mut canvas, &tile, i64::from(x0), i64::from(y0));
        }
    }
    add_grain(&mut canvas, &mut rng);
    let quality = rng.range(78, 90) as u8;
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, quality)
        .encode_image(&DynamicImage::ImageRgb8(canvas))
        .map_err(|e| format!("encoding image {index}: {e}"))?;
    Ok(bytes)
}

/// A random crop (half to all of each side) of a random source, resized to
/// `width × height`, maybe mirrored, brightened or darkened.
fn tile(sources: &[RgbImage], rng: &mut Rng, width: u32, height: u32) -> RgbImage {
    let source = &sources[rng.range(0, sources.len() as u32 - 1) as usize];
    let (sw, sh) = source.dimensions();
    let (cw, ch) = (rng.range(sw / 2, sw), rng.range(sh / 2, sh));
    let (cx, cy) = (rng.range(0, sw - cw), rng.range(0, sh - ch));
    let crop = imageops::crop_imm(source, cx, cy, cw, ch).to_image();
    let mut tile = imageops::resize(&crop, width.max(1), height.max(1), FilterType::Triangle);
    if rng.range(0, 1) == 1 {
        imageops::flip_horizontal_in_place(&mut tile);
    }
    let shift = rng.range(0, 40) as i32 - 20;
    imageops::colorops::brighten_in_place(&mut tile, shift);
    tile
}

/// Light per-pixel noise, like sensor grain (and what makes web photos
/// weigh what they weigh).
fn add_grain(canvas: &mut RgbImage, rng: &mut Rng) {
    let amplitude = rng.range(1, 4) as i32;
    for pixel in canvas.pixels_mut() {
        let noise = rng.next();
        for (c, channel) in pixel.0.iter_mut().enumerate() {
            let n = ((noise >> (c * 8)) & 0xff) as i32 % (2 * amplitude + 1) - amplitude;
            *channel = (i32::from(*channel) + n).clamp(0, 255) as u8;
        }
    }
}
