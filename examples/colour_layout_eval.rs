//! Measures the colour-layout signature ([`provenance::hash::colour_layout`])
//! that stands in for the perceptual hash on pictures too smooth to hash:
//! how far edited copies of smooth pictures land from their original, how
//! close different pictures come, and what threshold separates the two.
//! It also compares the shipped design with other grids, colour spaces and
//! distances, so the choice is on record.
//!
//! Data: wallpapers (every picture file under each `--wallpapers DIR`, one
//! per wallpaper: screenshots, portrait versions and other resolutions of
//! the same wallpaper are left out), and photographs (`--photos DIR`, the
//! stored set; `--negatives DIR`, pictures never stored). A picture is
//! *smooth* when `hash_detail(trim_uniform_border(p)) < MIN_HASH_DETAIL`,
//! the pictures that get no perceptual hash. Each smooth wallpaper or
//! stored photograph is edited (resize, thumbnail, JPEG, WebP, mirror,
//! blur, crop); each edit is a query that should find its original and
//! nothing else among the smooth pictures and all photographs.
//!
//! Wallpapers larger than [`MAX_SIDE`] are first shrunk to it (area
//! filter), so edits are made from that picture; WebP copies are written by
//! Pillow (`python3`, the `image` crate has no lossy WebP encoder) under
//! `--work DIR`.
//!
//! ```sh
//! CARGO_TARGET_DIR=/var/tmp/colour-target cargo run --release \
//!   --example colour_layout_eval -- --wallpapers /var/tmp/wall/x \
//!   --photos /var/tmp/provenance-photoeval/index \
//!   --negatives /var/tmp/provenance-photoeval/negatives \
//!   --work /var/tmp/colour-eval/work
//! ```

use std::collections::BTreeMap;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageReader};
use provenance::decode::to_rgb8;
use provenance::hash::colour_layout::{colour_distance, colour_layout, COLOUR_MATCH_DISTANCE};
use provenance::hash::perceptual::{hash_detail, MIN_HASH_DETAIL};
use provenance::hash::trim_uniform_border;
use provenance::imageops::resize_exact;

/// Longest side wallpapers are shrunk to before editing.
const MAX_SIDE: u32 = 2048;
/// Pictures below this detail are taken as well when fewer than
/// [`MIN_SMOOTH`] are under [`MIN_HASH_DETAIL`].
const LOW_DETAIL: f32 = 2.0;
const MIN_SMOOTH: usize = 30;
/// Photographs at or above this detail are "plenty of detail" queries.
const HIGH_DETAIL: f32 = 3.0;
/// The edits whose recall must reach 0.95.
const CORE_EDITS: [&str; 5] = ["resize30", "thumb160", "jpeg15", "webp30", "mirror"];

type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// Colour spaces the compared designs average in.
#[derive(Clone, Copy, Debug)]
enum Space {
    Oklab,
    YCbCr,
    Srgb,
}

/// How two grids are compared (always the smaller of plain and mirrored).
#[derive(Clone, Copy, Debug)]
enum Metric {
    /// Sum of absolute byte differences.
    L1,
    /// Euclidean distance over all bytes.
    L2,
    /// Sum over cells of the Euclidean distance of the cell's colours.
    Cell,
}

/// A compared design: grid side and colour space.
const DESIGNS: [(u32, Space); 7] = [
    (4, Space::Oklab),
    (6, Space::Oklab),
    (8, Space::Oklab),
    (8, Space::YCbCr),
    (8, Space::Srgb),
    (4, Space::YCbCr),
    (6, Space::YCbCr),
];
const METRICS: [Metric; 3] = [Metric::L1, Metric::L2, Metric::Cell];

/// Every signature of one picture: the shipped one, then one per design.
#[derive(Clone)]
struct Signatures {
    shipped: Vec<u8>,
    designs: Vec<Vec<u8>>,
}

/// One measured picture (or edited copy).
#[derive(Clone)]
struct Measured {
    name: String,
    detail: f32,
    signatures: Signatures,
}

/// A smooth picture with its edited copies: `stored` is its index among
/// the stored pictures, `related` the stored pictures that are the same
/// picture (the photograph a synthetic one was made from).
#[derive(Clone)]
struct Smooth {
    stored: usize,
    source: &'static str,
    related: Vec<usize>,
    edits: Vec<(&'static str, Measured)>,
}

impl Smooth {
    /// Whether stored picture `j` is a different picture from this one.
    fn differs(&self, j: usize) -> bool {
        j != self.stored && !self.related.contains(&j)
    }
}

/// A smooth picture found or made while loading: `original` is `None` when
/// it is the loaded picture itself.
struct Candidate {
    source: &'static str,
    original: Option<Measured>,
    edits: Vec<(&'static str, Measured)>,
}

/// What is done with a loaded file.
#[derive(Clone, Copy, PartialEq)]
enum Role {
    Wallpaper,
    /// A stored photograph, numbered: every [`SYNTHETIC_EVERY`]th also
    /// gives a synthetic smooth picture.
    Photo(usize),
    Negative,
}

/// One in this many stored photographs gives a blurred smooth picture,
/// one more (offset by half) a tiled-patch one.
const SYNTHETIC_EVERY: usize = 8;

struct Args {
    wallpapers: Vec<PathBuf>,
    photos: PathBuf,
    negatives: PathBuf,
    work: PathBuf,
}

fn main() -> Result<()> {
    let args = parse_args()?;
    std::fs::create_dir_all(args.work.join("png"))?;
    let wallpaper_paths = pick_wallpapers(&args.wallpapers)?;
    let photo_paths = pictures_under(&args.photos)?;
    let negative_paths = pictures_under(&args.negatives)?;
    eprintln!(
        "{} wallpapers, {} stored photos, {} negative photos",
        wallpaper_paths.len(),
        photo_paths.len(),
        negative_paths.len()
    );
    let jobs: Vec<(&PathBuf, Role)> = wallpaper_paths
        .iter()
        .map(|p| (p, Role::Wallpaper))
        .chain(
            photo_paths
                .iter()
                .enumerate()
                .map(|(k, p)| (p, Role::Photo(k))),
        )
        .chain(negative_paths.iter().map(|p| (p, Role::Negative)))
        .collect();
    let loaded = par_map(&jobs, |(p, role)| (load(p, &args.work, *role), *role));

    let mut stored: Vec<Measured> = Vec::new();
    let mut negatives: Vec<Measured> = Vec::new();
    let mut smooth: Vec<Smooth> = Vec::new();
    let mut real_low = Vec::new();
    for (item, role) in loaded {
        let (picture, candidates) = match item {
            Ok(item) => item,
            Err(e) => {
                eprintln!("skipped: {e}");
                continue;
            }
        };
        if role == Role::Negative {
            negatives.push(picture);
            continue;
        }
        let own = stored.len();
        stored.push(picture);
        for c in candidates {
            match c.original {
                None => real_low.push((own, c.source, c.edits)),
                Some(original) => {
                    stored.push(original);
                    smooth.push(Smooth {
                        stored: stored.len() - 1,
                        source: c.source,
                        related: vec![own],
                        edits: c.edits,
                    });
                }
            }
        }
    }

    let under = real_low
        .iter()
        .filter(|(i, _, _)| stored[*i].detail < MIN_HASH_DETAIL)
        .count();
    let limit = if under >= MIN_SMOOTH {
        MIN_HASH_DETAIL
    } else {
        LOW_DETAIL
    };
    println!("# Data\n");
    println!(
        "real pictures under MIN_HASH_DETAIL {MIN_HASH_DETAIL}: {under}; real smooth set: detail < {limit}"
    );
    for (i, source, edits) in real_low {
        if stored[i].detail < limit {
            smooth.insert(
                0,
                Smooth {
                    stored: i,
                    source,
                    related: Vec::new(),
                    edits,
                },
            );
        }
    }
    drop_duplicates(&mut smooth, &stored);
    let mut by_source: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &smooth {
        *by_source.entry(s.source).or_default() += 1;
    }
    println!(
        "smooth pictures used: {} ({by_source:?}); stored pictures: {}; negatives: {}\n",
        smooth.len(),
        stored.len(),
        negatives.len()
    );
    for s in smooth
        .iter()
        .filter(|s| s.source == "wallpaper" || s.source == "photo")
    {
        println!(
            "  {:>5.2}  {}",
            stored[s.stored].detail, stored[s.stored].name
        );
    }

    let webp = webp_copies(&args.work, &smooth, &stored);
    for s in &mut smooth {
        if let Some(copy) = webp.get(&s.stored) {
            s.edits.push(("webp30", copy.clone()));
        }
    }

    report_edit_detail(&smooth);
    let is_smooth: Vec<bool> = (0..stored.len())
        .map(|i| {
            smooth
                .iter()
                .any(|s| s.stored == i || s.related.contains(&i))
        })
        .collect();
    let subset = |keep: &dyn Fn(&str) -> bool| -> Vec<Smooth> {
        smooth.iter().filter(|s| keep(s.source)).cloned().collect()
    };
    let real_and_soft = subset(&|s| s != "tiled-patch");
    report_shipped("all smooth pictures", &smooth, &stored, &is_smooth);
    report_pairs(&smooth, &stored);
    report_photos(&smooth, &stored, &negatives, &is_smooth);
    for source in ["wallpaper", "photo", "blurred-photo", "tiled-patch"] {
        let part = subset(&|s| s == source);
        if !part.is_empty() {
            report_shipped(source, &part, &stored, &is_smooth);
        }
    }
    report_designs("all smooth pictures", &smooth, &stored);
    report_designs("without tiled patches", &real_and_soft, &stored);
    Ok(())
}

/// Pictures identical once decoded (several MATE overlays are white on
/// transparent, plain white once flattened) are one picture: all but the
/// first are marked related to each other so neither counts against the
/// other.
fn drop_duplicates(smooth: &mut Vec<Smooth>, stored: &[Measured]) {
    let mut kept: Vec<Smooth> = Vec::new();
    for s in smooth.drain(..) {
        let same =
            |k: &Smooth| stored[k.stored].signatures.designs == stored[s.stored].signatures.designs;
        if let Some(first) = kept.iter_mut().find(|k| same(k)) {
            println!(
                "identical once decoded, kept once: {} = {}",
                stored[s.stored].name, stored[first.stored].name
            );
            first.related.push(s.stored);
            continue;
        }
        kept.push(s);
    }
    *smooth = kept;
}

fn parse_args() -> Result<Args> {
    let mut wallpapers = Vec::new();
    let (mut photos, mut negatives, mut work) = (None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--wallpapers" => wallpapers.push(value.into()),
            "--photos" => photos = Some(value.into()),
            "--negatives" => negatives = Some(value.into()),
            "--work" => work = Some(value.into()),
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    let usage =
        "usage: colour_layout_eval --wallpapers DIR... --photos DIR --negatives DIR --work DIR";
    Ok(Args {
        wallpapers,
        photos: photos.ok_or(usage)?,
        negatives: negatives.ok_or(usage)?,
        work: work.ok_or(usage)?,
    })
}

/// Every picture file under `dir`, sorted.
fn pictures_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("jpg" | "jpeg" | "png" | "webp")
            ) {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// One file per wallpaper: the largest landscape version of each (plasma
/// keeps versions in `NAME/contents/images[_dark]/WxH.ext`; mate names
/// them `NAME_WxH.ext`); screenshots are skipped.
fn pick_wallpapers(dirs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut best: BTreeMap<String, (bool, u64, PathBuf)> = BTreeMap::new();
    for dir in dirs {
        for path in pictures_under(dir)? {
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            if stem.starts_with("screenshot") {
                continue;
            }
            let Ok((w, h)) = image::image_dimensions(&path) else {
                continue;
            };
            let parent = path.parent().unwrap_or(Path::new(""));
            let key = if parent.parent().is_some_and(|p| p.ends_with("contents")) {
                parent.display().to_string()
            } else {
                let name = match stem.rsplit_once('_') {
                    Some((name, size))
                        if size.contains('x') && size.starts_with(char::is_numeric) =>
                    {
                        name
                    }
                    _ => stem,
                };
                format!("{}/{name}", parent.display())
            };
            let rank = (w >= h, u64::from(w) * u64::from(h), path);
            if best.get(&key).is_none_or(|b| (b.0, b.1) < (rank.0, rank.1)) {
                best.insert(key, rank);
            }
        }
    }
    Ok(best.into_values().map(|(_, _, path)| path).collect())
}

/// Decodes a picture (alpha flattened over white, as the project does),
/// measures it and, unless it is a negative, gives the smooth pictures it
/// yields: itself when low-detail, and for some photographs a synthetic
/// one. Each comes with its edited copies; a PNG of each is left in
/// `work/png` for the WebP encoder.
fn load(path: &Path, work: &Path, role: Role) -> Result<(Measured, Vec<Candidate>)> {
    let name = path.display().to_string();
    let image = ImageReader::open(path)?
        .with_guessed_format()?
        .decode()
        .map_err(|e| format!("{name}: {e}"))?;
    if role == Role::Wallpaper && image.to_rgba8().pixels().any(|p| p[3] < 255) {
        // Overlays meant to be laid over a colour the user picks: white
        // once flattened, all alike.
        return Err(format!("{name}: transparent overlay, not a picture").into());
    }
    let image = DynamicImage::ImageRgb8(to_rgb8(&image));
    let detail = hash_detail(&trim_uniform_border(&image));
    let image = shrink(image);
    let mut picture = measure(&name, &image);
    picture.detail = detail;
    let mut candidates = Vec::new();
    if role == Role::Negative {
        return Ok((picture, candidates));
    }
    if detail < LOW_DETAIL {
        let source = if role == Role::Wallpaper {
            "wallpaper"
        } else {
            "photo"
        };
        candidates.push(candidate(source, &name, &image, work, None)?);
    }
    if let Role::Photo(k) = role {
        let made = match k % SYNTHETIC_EVERY {
            0 => Some(("blurred-photo", blurred(&image))),
            n if n == SYNTHETIC_EVERY / 2 => Some(("tiled-patch", tiled(&image))),
            _ => None,
        };
        if let Some((source, Some(synthetic))) = made {
            let original = measure(&format!("{name} <{source}>"), &synthetic);
            if original.detail < MIN_HASH_DETAIL {
                let c = candidate(
                    source,
                    &original.name.clone(),
                    &synthetic,
                    work,
                    Some(original),
                )?;
                candidates.push(c);
            }
        }
    }
    Ok((picture, candidates))
}

fn candidate(
    source: &'static str,
    name: &str,
    image: &DynamicImage,
    work: &Path,
    original: Option<Measured>,
) -> Result<Candidate> {
    image.save(work.join("png").join(png_name(name)))?;
    let edits = edits(image)?
        .into_iter()
        .map(|(edit, copy)| (edit, measure(&format!("{name} [{edit}]"), &copy)))
        .collect();
    Ok(Candidate {
        source,
        original,
        edits,
    })
}

/// A soft picture with a photograph's colour layout: shrunk to 8 px
/// across, blown up again (1024 px) and its contrast lowered until it is
/// smooth (detail about 0.7), like a vignette or soft gradient.
fn blurred(image: &DynamicImage) -> Option<DynamicImage> {
    let (w, h) = (image.width(), image.height());
    let tiny = resize_exact(image, 8, ((8 * h + w / 2) / w).max(1), FilterType::Triangle);
    let soft = resize_exact(
        &tiny,
        1024,
        ((1024 * h + w / 2) / w).max(1),
        FilterType::CatmullRom,
    );
    let detail = hash_detail(&soft);
    if detail < 0.7 {
        return Some(soft);
    }
    let keep = 0.7 / detail;
    let mut rgb = soft.to_rgb8();
    let mean: [f32; 3] = std::array::from_fn(|c| {
        rgb.pixels().map(|p| f32::from(p[c])).sum::<f32>() / (rgb.width() * rgb.height()) as f32
    });
    for p in rgb.pixels_mut() {
        for c in 0..3 {
            p[c] = byte(mean[c] + (f32::from(p[c]) - mean[c]) * keep);
        }
    }
    Some(DynamicImage::ImageRgb8(rgb))
}

/// A flat patterned picture: the photograph's central 32×32 patch tiled
/// over 1280×960, a texture far finer than the hash sees.
/// `None` when the patch is flat (no pattern: a plain colour).
fn tiled(image: &DynamicImage) -> Option<DynamicImage> {
    let side = 32.min(image.width()).min(image.height());
    let patch = image
        .crop_imm(
            (image.width() - side) / 2,
            (image.height() - side) / 2,
            side,
            side,
        )
        .to_rgb8();
    let lumas = patch
        .pixels()
        .map(|p| u16::from(p[0]) + u16::from(p[1]) + u16::from(p[2]));
    let (low, high) = lumas.fold((u16::MAX, 0), |(l, h), v| (l.min(v), h.max(v)));
    if high.saturating_sub(low) < 48 {
        return None;
    }
    let out = image::RgbImage::from_fn(1280, 960, |x, y| *patch.get_pixel(x % side, y % side));
    Some(DynamicImage::ImageRgb8(out))
}

fn png_name(name: &str) -> String {
    let flat: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{flat}.png")
}

fn shrink(image: DynamicImage) -> DynamicImage {
    let (w, h) = (image.width(), image.height());
    let longest = w.max(h);
    if longest <= MAX_SIDE {
        return image;
    }
    let scale = f64::from(MAX_SIDE) / f64::from(longest);
    let size = |v: u32| ((f64::from(v) * scale).round() as u32).max(1);
    resize_exact(&image, size(w), size(h), FilterType::Triangle)
}

fn measure(name: &str, image: &DynamicImage) -> Measured {
    Measured {
        name: name.to_owned(),
        detail: hash_detail(&trim_uniform_border(image)),
        signatures: Signatures {
            shipped: colour_layout(image),
            designs: DESIGNS
                .iter()
                .map(|&(grid, space)| design_signature(image, grid, space))
                .collect(),
        },
    }
}

/// The edited copies of a picture (WebP is added later, from Pillow).
fn edits(image: &DynamicImage) -> Result<Vec<(&'static str, DynamicImage)>> {
    let (w, h) = (image.width(), image.height());
    let scaled = |f: f64| {
        let size = |v: u32| ((f64::from(v) * f).round() as u32).max(1);
        (size(w), size(h))
    };
    let (w30, h30) = scaled(0.3);
    let resized = resize_exact(image, w30, h30, FilterType::CatmullRom);
    let (wt, ht) = scaled(160.0 / f64::from(w.max(h)));
    let (wc, hc) = scaled(0.95);
    Ok(vec![
        ("resize30", resized.clone()),
        (
            "thumb160",
            resize_exact(image, wt, ht, FilterType::Lanczos3),
        ),
        ("jpeg15", jpeg(image, 15)?),
        ("resize30+jpeg15", jpeg(&resized, 15)?),
        ("mirror", image.fliph()),
        ("blur2", image.blur(2.0)),
        ("crop95", image.crop_imm((w - wc) / 2, (h - hc) / 2, wc, hc)),
    ])
}

fn jpeg(image: &DynamicImage, quality: u8) -> Result<DynamicImage> {
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, quality).encode_image(&image.to_rgb8())?;
    Ok(image::load_from_memory(&bytes)?)
}

/// WebP q30 copies of the smooth pictures, made by Pillow from the PNGs
/// [`load`] left; empty (and said so) when Pillow is missing.
fn webp_copies(work: &Path, smooth: &[Smooth], stored: &[Measured]) -> BTreeMap<usize, Measured> {
    let script = "import sys, pathlib\nfrom PIL import Image\n\
        src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])\n\
        out.mkdir(exist_ok=True)\n\
        for p in src.glob('*.png'):\n    \
        Image.open(p).convert('RGB').save(out / (p.stem + '.webp'), quality=30)\n";
    let status = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(work.join("png"))
        .arg(work.join("webp"))
        .status();
    if !status.is_ok_and(|s| s.success()) {
        println!("\nWebP q30 NOT measured: python3 with Pillow failed");
        return BTreeMap::new();
    }
    let wanted: Vec<(usize, String)> = smooth
        .iter()
        .map(|s| (s.stored, stored[s.stored].name.clone()))
        .collect();
    par_map(&wanted, |(i, name)| {
        let file = work
            .join("webp")
            .join(png_name(name).replace(".png", ".webp"));
        let copy = image::open(&file).ok()?;
        Some((*i, measure(&format!("{name} [webp30]"), &copy)))
    })
    .into_iter()
    .flatten()
    .collect()
}

/// A grid of mean colours, one byte per channel.
fn design_signature(image: &DynamicImage, grid: u32, space: Space) -> Vec<u8> {
    let image = trim_uniform_border(image);
    let small = resize_exact(&image, grid, grid, FilterType::Triangle).to_rgb8();
    small
        .pixels()
        .flat_map(|p| {
            let [r, g, b] = p.0.map(f32::from);
            match space {
                Space::Srgb => p.0,
                Space::YCbCr => [
                    byte(0.299 * r + 0.587 * g + 0.114 * b),
                    byte(128.0 - 0.168_736 * r - 0.331_264 * g + 0.5 * b),
                    byte(128.0 + 0.5 * r - 0.418_688 * g - 0.081_312 * b),
                ],
                Space::Oklab => {
                    let [l, a, bb] = oklab(p.0);
                    [
                        byte(l * 255.0),
                        byte(128.0 + a * 255.0),
                        byte(128.0 + bb * 255.0),
                    ]
                }
            }
        })
        .collect()
}

fn byte(v: f32) -> u8 {
    v.clamp(0.0, 255.0).round() as u8
}

fn oklab(rgb: [u8; 3]) -> [f32; 3] {
    let [r, g, b] = rgb.map(|c| {
        let c = f32::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    });
    let l = (0.412_221_46 * r + 0.536_332_5 * g + 0.051_445_995 * b).cbrt();
    let m = (0.211_903_5 * r + 0.680_699_5 * g + 0.107_396_96 * b).cbrt();
    let s = (0.088_302_46 * r + 0.281_718_85 * g + 0.629_978_7 * b).cbrt();
    [
        0.210_454_26 * l + 0.793_617_8 * m - 0.004_072_047 * s,
        1.977_998_5 * l - 2.428_592_2 * m + 0.450_593_7 * s,
        0.025_904_037 * l + 0.782_771_77 * m - 0.808_675_77 * s,
    ]
}

/// Distance of two design grids: the smaller of plain and mirrored.
fn design_distance(a: &[u8], b: &[u8], grid: usize, metric: Metric) -> f64 {
    let one = |mirror: bool| {
        let mut total = 0.0;
        for y in 0..grid {
            for x in 0..grid {
                let bx = if mirror { grid - 1 - x } else { x };
                let (i, j) = ((y * grid + x) * 3, (y * grid + bx) * 3);
                let d: [f64; 3] =
                    std::array::from_fn(|c| f64::from(a[i + c]) - f64::from(b[j + c]));
                let squares: f64 = d.iter().map(|v| v * v).sum();
                total += match metric {
                    Metric::L1 => d.iter().map(|v| v.abs()).sum::<f64>(),
                    Metric::L2 => squares,
                    Metric::Cell => squares.sqrt(),
                };
            }
        }
        match metric {
            Metric::L2 => total.sqrt(),
            _ => total,
        }
    };
    one(false).min(one(true))
}

fn shipped_distance(a: &Measured, b: &Measured) -> f64 {
    let d = colour_distance(&a.signatures.shipped, &b.signatures.shipped)
        .expect("signatures of one length");
    f64::from(d)
}

/// How many edits of smooth pictures still look smooth: informs whether
/// queries must be low-detail to be compared.
fn report_edit_detail(smooth: &[Smooth]) {
    println!("\n# Detail of the edited copies (hash_detail after trimming)\n");
    println!("| edit | n | max | ≥ 1.0 | ≥ 2.0 | ≥ 3.0 |\n|---|---|---|---|---|---|");
    for (edit, copies) in by_edit(smooth) {
        let details: Vec<f32> = copies.iter().map(|(_, m)| m.detail).collect();
        let max = details.iter().copied().fold(0.0f32, f32::max);
        let over = |t: f32| details.iter().filter(|d| **d >= t).count();
        println!(
            "| {edit} | {} | {max:.2} | {} | {} | {} |",
            details.len(),
            over(1.0),
            over(2.0),
            over(3.0)
        );
    }
}

/// Edits grouped by kind, each with its smooth picture.
fn by_edit(smooth: &[Smooth]) -> BTreeMap<&'static str, Vec<(&Smooth, &Measured)>> {
    let mut grouped: BTreeMap<&'static str, Vec<(&Smooth, &Measured)>> = BTreeMap::new();
    for s in smooth {
        for (edit, copy) in &s.edits {
            grouped.entry(edit).or_default().push((s, copy));
        }
    }
    grouped
}

/// The table of the shipped signature at [`COLOUR_MATCH_DISTANCE`], the
/// closest edit-to-other pairs, and a threshold sweep.
fn report_shipped(title: &str, smooth: &[Smooth], stored: &[Measured], is_smooth: &[bool]) {
    let threshold = f64::from(COLOUR_MATCH_DISTANCE);
    println!("\n# Shipped signature, {title}, threshold {COLOUR_MATCH_DISTANCE}\n");
    println!(
        "| edit | n | median | p95 | max | recall | nearest other (all) | FP queries (all) | nearest other (smooth) | FP queries (smooth) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut closest: Vec<(f64, &str, usize)> = Vec::new();
    let mut sweep: Vec<(&str, f64, f64, f64)> = Vec::new();
    for (edit, copies) in by_edit(smooth) {
        let mut own: Vec<f64> = copies
            .iter()
            .map(|(s, c)| shipped_distance(c, &stored[s.stored]))
            .collect();
        own.sort_by(f64::total_cmp);
        let recall = own.iter().filter(|d| **d <= threshold).count() as f64 / own.len() as f64;
        let nearest = par_map(&copies, |(s, copy)| {
            let (mut all, mut smooth_only) = ((f64::MAX, 0), f64::MAX);
            for (j, other) in stored.iter().enumerate() {
                if !s.differs(j) {
                    continue;
                }
                let d = shipped_distance(copy, other);
                if d < all.0 {
                    all = (d, j);
                }
                if is_smooth[j] {
                    smooth_only = smooth_only.min(d);
                }
            }
            (all, smooth_only)
        });
        let near_all = nearest.iter().map(|n| n.0 .0).fold(f64::MAX, f64::min);
        let near_smooth = nearest.iter().map(|n| n.1).fold(f64::MAX, f64::min);
        let fp_all = nearest.iter().filter(|n| n.0 .0 <= threshold).count();
        let fp_smooth = nearest.iter().filter(|n| n.1 <= threshold).count();
        for ((s, copy), n) in copies.iter().zip(&nearest) {
            closest.push((n.0 .0, &copy.name, n.0 .1));
            sweep.push((edit, shipped_distance(copy, &stored[s.stored]), n.0 .0, n.1));
        }
        println!(
            "| {edit} | {} | {} | {} | {} | {recall:.3} | {near_all} | {fp_all} | {near_smooth} | {fp_smooth} |",
            own.len(),
            percentile(&own, 0.5),
            percentile(&own, 0.95),
            own[own.len() - 1]
        );
    }
    let mut farthest: Vec<(f64, &str)> = sweep
        .iter()
        .zip(by_edit(smooth).values().flatten())
        .map(|(q, (_, copy))| (q.1, copy.name.as_str()))
        .collect();
    farthest.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!("\nEdits farthest from their original:");
    for (d, name) in farthest.iter().take(6) {
        println!("  {d:>6}  {name}");
    }
    closest.sort_by(|a, b| a.0.total_cmp(&b.0));
    println!("\nClosest edit-to-other-picture pairs:");
    for (d, a, j) in closest.iter().take(8) {
        println!("  {d:>6}  {a}  ~  {}", stored[*j].name);
    }
    report_sweep(&sweep);
}

/// Recall and false positives at other thresholds: `sweep` holds, per
/// query, its edit, the distance to its original and to the nearest other
/// stored picture (all, smooth only).
fn report_sweep(sweep: &[(&str, f64, f64, f64)]) {
    println!("\n| threshold | lowest core recall | recall per edit | FP queries (all) | FP queries (smooth) |");
    println!("|---|---|---|---|---|");
    for t in [
        32.0, 64.0, 80.0, 96.0, 112.0, 128.0, 160.0, 192.0, 256.0, 384.0,
    ] {
        let mut per_edit: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for (edit, own, _, _) in sweep {
            let e = per_edit.entry(edit).or_default();
            e.0 += usize::from(*own <= t);
            e.1 += 1;
        }
        let recall = |(hit, n): &(usize, usize)| *hit as f64 / *n as f64;
        let lowest = per_edit
            .iter()
            .filter(|(e, _)| CORE_EDITS.contains(e))
            .map(|(_, v)| recall(v))
            .fold(1.0, f64::min);
        let each: Vec<String> = per_edit
            .iter()
            .map(|(e, v)| format!("{e} {:.2}", recall(v)))
            .collect();
        let fp_all = sweep.iter().filter(|q| q.2 <= t).count();
        let fp_smooth = sweep.iter().filter(|q| q.3 <= t).count();
        println!(
            "| {t} | {lowest:.3} | {} | {fp_all} | {fp_smooth} |",
            each.join(", ")
        );
    }
}

/// The closest pairs of different smooth originals.
fn report_pairs(smooth: &[Smooth], stored: &[Measured]) {
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (k, a) in smooth.iter().enumerate() {
        for b in &smooth[k + 1..] {
            if a.differs(b.stored) && b.differs(a.stored) {
                pairs.push((
                    shipped_distance(&stored[a.stored], &stored[b.stored]),
                    a.stored,
                    b.stored,
                ));
            }
        }
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    println!(
        "\nSmooth vs smooth originals ({} pairs), closest:",
        pairs.len()
    );
    for (d, i, j) in pairs.iter().take(10) {
        println!("  {d:>6}  {}  ~  {}", stored[*i].name, stored[*j].name);
    }
}

/// Photographs (stored ones that are not smooth, and negatives) as queries
/// against the stored smooth pictures, by the photograph's detail: should
/// a detailed query be compared at all?
fn report_photos(
    smooth: &[Smooth],
    stored: &[Measured],
    negatives: &[Measured],
    is_smooth: &[bool],
) {
    let threshold = f64::from(COLOUR_MATCH_DISTANCE);
    println!("\nPhotographs (not smooth) vs smooth originals, by photograph detail:");
    println!("| photo detail | photos | nearest | pairs ≤ threshold |\n|---|---|---|---|");
    let queries: Vec<(Option<usize>, &Measured)> = stored
        .iter()
        .enumerate()
        .filter(|(i, _)| !is_smooth[*i])
        .map(|(i, m)| (Some(i), m))
        .chain(negatives.iter().map(|m| (None, m)))
        .collect();
    for (low, high) in [
        (0.0, 1.0),
        (1.0, 2.0),
        (2.0, HIGH_DETAIL),
        (HIGH_DETAIL, 5.0),
        (5.0, f32::MAX),
    ] {
        let band: Vec<&(Option<usize>, &Measured)> = queries
            .iter()
            .filter(|(_, m)| m.detail >= low && m.detail < high)
            .collect();
        let found = par_map(&band, |(i, q)| {
            let mut nearest = (f64::MAX, 0);
            let mut hits = 0;
            for s in smooth {
                if i.is_some_and(|i| !s.differs(i)) {
                    continue;
                }
                let d = shipped_distance(q, &stored[s.stored]);
                hits += usize::from(d <= threshold);
                if d < nearest.0 {
                    nearest = (d, s.stored);
                }
            }
            (nearest, hits, q.name.as_str())
        });
        let hits: usize = found.iter().map(|f| f.1).sum();
        let best = found.iter().min_by(|a, b| a.0 .0.total_cmp(&b.0 .0));
        let nearest = best.map_or("-".to_owned(), |((d, j), _, q)| {
            format!("{d} ({q} ~ {})", stored[*j].name)
        });
        let high = if high == f32::MAX {
            "∞".to_owned()
        } else {
            high.to_string()
        };
        println!("| {low}–{high} | {} | {nearest} | {hits} |", band.len());
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Every design × metric: the worst positive distance over the core edits,
/// the nearest different picture, and the recall at the largest threshold
/// that lets no different picture through.
fn report_designs(title: &str, smooth: &[Smooth], stored: &[Measured]) {
    println!("\n# Designs compared, {title} (distances in each design's own units)\n");
    println!("| grid | space | metric | core p95 | core max | nearest other | margin (nearest/core max) | core recall @ < nearest | all-edit recall @ < nearest |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let grouped = by_edit(smooth);
    let variants: Vec<(usize, u32, Space, Metric)> = DESIGNS
        .iter()
        .enumerate()
        .flat_map(|(k, &(grid, space))| METRICS.map(|m| (k, grid, space, m)))
        .collect();
    let lines = par_map(&variants, |&(k, grid, space, metric)| {
        let d = |a: &Measured, b: &Measured| {
            design_distance(
                &a.signatures.designs[k],
                &b.signatures.designs[k],
                grid as usize,
                metric,
            )
        };
        let (mut core, mut all) = (Vec::new(), Vec::new());
        let mut nearest = f64::MAX;
        for (edit, copies) in &grouped {
            for (s, copy) in copies {
                let own = d(copy, &stored[s.stored]);
                all.push(own);
                if CORE_EDITS.contains(edit) {
                    core.push(own);
                }
                for (j, other) in stored.iter().enumerate() {
                    if s.differs(j) {
                        nearest = nearest.min(d(copy, other));
                    }
                }
            }
        }
        core.sort_by(f64::total_cmp);
        let max = core[core.len() - 1];
        let recall = |v: &[f64]| v.iter().filter(|x| **x < nearest).count() as f64 / v.len() as f64;
        format!(
            "| {grid} | {space:?} | {metric:?} | {:.0} | {max:.0} | {nearest:.0} | {:.2} | {:.3} | {:.3} |",
            percentile(&core, 0.95),
            nearest / max,
            recall(&core),
            recall(&all)
        )
    });
    for line in lines {
        println!("{line}");
    }
}

/// `f` over `items` on every core, results in order.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                results.lock().expect("no panics while holding the lock")[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .expect("no panics while holding the lock")
        .into_iter()
        .map(|r| r.expect("every item was done"))
        .collect()
}
