//! `copy_eval build DIR SOURCES`: the evaluation set from a list of
//! distinct pictures — originals, distractors (whole pictures and crops of
//! the pictures that are not originals) and transformed queries.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use image::imageops::FilterType;
use image::DynamicImage;
use provenance::decode::{decode, DecodeLimits};
use provenance::hash::{hash_distance, perceptual_hashes, STRICT_MATCH_DISTANCE};
use provenance::model::PerceptualHash;
use provenance::verify;

use crate::transforms::{self, Lcg};

/// Longer side of stored originals.
const ORIGINAL_SIDE: u32 = 1280;
/// Longer side of stored distractors.
const DISTRACTOR_SIDE: u32 = 800;
/// Distractors to reach at least.
const MIN_DISTRACTORS: usize = 1000;
/// A picture with fewer keypoints than this is too flat to be an original
/// (flat vector art, soft gradients): it only serves as a distractor.
const MIN_ORIGINAL_KEYPOINTS: usize = 200;

struct Source {
    path: String,
    image: DynamicImage,
    textured: bool,
}

/// Builds the set into `out` from the pictures listed in `sources`.
pub fn build(out: &Path, sources: &Path) -> Result<()> {
    let list = std::fs::read_to_string(sources).with_context(|| sources.display().to_string())?;
    let pictures = load_distinct(list.lines().filter(|l| !l.trim().is_empty()))?;
    let (originals, others): (Vec<&Source>, Vec<&Source>) = {
        let mut textured_seen = 0;
        pictures.iter().partition(|s| {
            let original = s.textured && textured_seen % 2 == 0;
            textured_seen += usize::from(s.textured);
            original
        })
    };
    for dir in ["index", "queries"] {
        std::fs::create_dir_all(out.join(dir))?;
    }
    let mut provenance = String::from("file\trole\tsource\n");
    let mut manifest = String::from("query\ttransform\toriginal\n");
    for (i, source) in originals.iter().enumerate() {
        let name = format!("o_{i:03}.jpg");
        let image = fit(&source.image, ORIGINAL_SIDE);
        save_jpeg(&image, &out.join("index").join(&name), 92)?;
        writeln!(provenance, "{name}\toriginal\t{}", source.path)?;
        for transform in transforms::NAMES {
            let query = format!("o_{i:03}__{transform}.jpg");
            let seed = 1000 + i as u64;
            let transformed = transforms::apply(transform, &image, seed).context("transform")?;
            let quality = transforms::jpeg_quality(transform);
            save_jpeg(&transformed, &out.join("queries").join(&query), quality)?;
            writeln!(manifest, "{query}\t{transform}\t{name}")?;
        }
    }
    let distractors = write_distractors(out, &others, &mut provenance)?;
    std::fs::write(out.join("index_sources.tsv"), provenance)?;
    std::fs::write(out.join("manifest.tsv"), manifest)?;
    eprintln!(
        "{} originals, {distractors} distractors from {} other pictures, {} queries in {}",
        originals.len(),
        others.len(),
        originals.len() * transforms::NAMES.len(),
        out.display()
    );
    Ok(())
}

/// Decodes the sources, dropping any that is a near-duplicate of one
/// already kept (the packages ship some pictures twice).
fn load_distinct<'a>(paths: impl Iterator<Item = &'a str>) -> Result<Vec<Source>> {
    let mut kept: Vec<(Source, Vec<PerceptualHash>)> = Vec::new();
    for path in paths {
        let bytes = std::fs::read(path).with_context(|| path.to_owned())?;
        let image = match decode(&bytes, &DecodeLimits::default()) {
            Ok(d) => fit(&d.image, ORIGINAL_SIDE),
            Err(e) => {
                eprintln!("skipped {path}: {e}");
                continue;
            }
        };
        let hashes = perceptual_hashes(&image);
        let duplicate = kept
            .iter()
            .find(|(_, h)| hash_distance(&hashes, h).is_some_and(|d| d <= STRICT_MATCH_DISTANCE));
        if let Some((other, _)) = duplicate {
            eprintln!("skipped {path}: same picture as {}", other.path);
            continue;
        }
        let keypoints = verify::extract(&image, 256).keypoints.len();
        let textured = !hashes.is_empty() && keypoints >= MIN_ORIGINAL_KEYPOINTS;
        kept.push((
            Source {
                path: path.to_owned(),
                image,
                textured,
            },
            hashes,
        ));
    }
    Ok(kept.into_iter().map(|(s, _)| s).collect())
}

/// Each non-original picture whole, plus seeded crops (30–60 % of each
/// side) until there are at least [`MIN_DISTRACTORS`].
fn write_distractors(out: &Path, others: &[&Source], provenance: &mut String) -> Result<usize> {
    let per_source = MIN_DISTRACTORS.div_ceil(others.len().max(1));
    let mut random = Lcg(7);
    let mut count = 0;
    for (s, source) in others.iter().enumerate() {
        for t in 0..per_source {
            let image = if t == 0 {
                source.image.clone()
            } else {
                let (w, h) = (source.image.width(), source.image.height());
                let cw = (w as f32 * (0.3 + 0.3 * random.unit())) as u32;
                let ch = (h as f32 * (0.3 + 0.3 * random.unit())) as u32;
                let x = (random.unit() * (w - cw) as f32) as u32;
                let y = (random.unit() * (h - ch) as f32) as u32;
                source.image.crop_imm(x, y, cw.max(1), ch.max(1))
            };
            let name = format!("d_{s:03}_{t:02}.jpg");
            save_jpeg(
                &fit(&image, DISTRACTOR_SIDE),
                &out.join("index").join(&name),
                88,
            )?;
            let role = if t == 0 {
                "distractor"
            } else {
                "distractor-crop"
            };
            writeln!(provenance, "{name}\t{role}\t{}", source.path)?;
            count += 1;
        }
    }
    Ok(count)
}

fn fit(image: &DynamicImage, side: u32) -> DynamicImage {
    if image.width().max(image.height()) <= side {
        image.clone()
    } else {
        image.resize(side, side, FilterType::CatmullRom)
    }
}

fn save_jpeg(image: &DynamicImage, path: &Path, quality: u8) -> Result<()> {
    let file = std::fs::File::create(path).with_context(|| path.display().to_string())?;
    let mut encoder =
        image::codecs::jpeg::JpegEncoder::new_with_quality(std::io::BufWriter::new(file), quality);
    match image {
        DynamicImage::ImageLuma8(grey) => encoder.encode_image(grey)?,
        other => encoder.encode_image(&other.to_rgb8())?,
    }
    Ok(())
}

/// The committed test fixtures of `tests/verify_copies.rs`: three of the
/// hash fixtures' photographs rotated by 10°, watermarked and framed.
pub fn fixtures(hash_fixtures: &Path, out: &Path) -> Result<()> {
    std::fs::create_dir_all(out)?;
    for name in ["chelsea", "coffee", "rocket"] {
        let path = hash_fixtures.join(format!("{name}.jpg"));
        let bytes = std::fs::read(&path).with_context(|| path.display().to_string())?;
        let image = decode(&bytes, &DecodeLimits::default())?.image;
        for transform in ["rotate+10", "watermark", "frame"] {
            let copy = transforms::apply(transform, &image, 1).context("transform")?;
            save_jpeg(&copy, &out.join(format!("{name}__{transform}.jpg")), 80)?;
        }
    }
    Ok(())
}
