//! The measurement behind the choice of perceptual hashes and threshold
//! (ignored by default; it prints, it does not judge):
//!
//! `cargo test --test hash_suite measure -- --ignored --nocapture`
//! (add `PROVENANCE_HASH_EXTRA_DIR=DIR` to mix in more pictures).
//!
//! For every candidate algorithm, and for pairs of them combined, it prints
//! per near-duplicate variant the largest and median distance to the
//! original, and for different pictures the smallest and low-percentile
//! distances — all on the 64-bit scale, with the mirrored hash — then
//! recall / false-positive rate per threshold.

use image::DynamicImage;
use provenance::hash::perceptual::{hash_detail, trim_uniform_border, HashSpec, CANDIDATES};
use provenance::hash::{hash_distance, normalised_hamming, perceptual_hashes};
use provenance::model::PerceptualHash;

use crate::fixtures::photos;
use crate::variants::VARIANTS;

/// One picture's hash and its mirror's hash under one spec.
struct Hashed {
    plain: Vec<u8>,
    mirror: Vec<u8>,
}

fn hashed(spec: &HashSpec, image: &DynamicImage) -> Hashed {
    let image = trim_uniform_border(image);
    Hashed {
        plain: spec.hash(&image),
        mirror: spec.hash(&image.fliph()),
    }
}

fn mirror_distance(a: &Hashed, b: &Hashed) -> u32 {
    let plain = normalised_hamming(&a.plain, &b.plain).expect("same size");
    plain.min(normalised_hamming(&a.plain, &b.mirror).expect("same size"))
}

/// Pictures × (original, variants…).
fn corpus() -> (Vec<String>, Vec<Vec<DynamicImage>>) {
    photos()
        .into_iter()
        .map(|(name, original)| {
            let mut versions = vec![original.clone()];
            versions.extend(VARIANTS.iter().map(|(_, make)| make(&original)));
            (name, versions)
        })
        .unzip()
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// (photo, version) → (photo, version) distance.
type Distance<'a> = &'a dyn Fn((usize, usize), (usize, usize)) -> u32;

/// Positive distances per variant and all negative distances (every
/// original against every version of every other picture).
fn distances(photos: usize, distance: Distance) -> (Vec<Vec<u32>>, Vec<u32>) {
    let positives = (0..VARIANTS.len())
        .map(|v| (0..photos).map(|p| distance((p, 0), (p, v + 1))).collect())
        .collect();
    let mut negatives = Vec::new();
    for a in 0..photos {
        for b in (0..photos).filter(|b| *b != a) {
            negatives.extend((0..=VARIANTS.len()).map(|v| distance((a, 0), (b, v))));
        }
    }
    negatives.sort_unstable();
    (positives, negatives)
}

fn report(name: &str, positives: &[Vec<u32>], negatives: &[u32]) {
    println!("\n== {name}");
    for ((variant, _), row) in VARIANTS.iter().zip(positives) {
        let mut row = row.clone();
        row.sort_unstable();
        let (max, median) = (row[row.len() - 1], percentile(&row, 0.5));
        println!("  {variant:<20} max {max:>2}  median {median:>2}  all {row:?}");
    }
    let (min, p1, p5) = (
        negatives[0],
        percentile(negatives, 0.01),
        percentile(negatives, 0.05),
    );
    let median = percentile(negatives, 0.5);
    println!(
        "  different pictures   n={} min {min} p1 {p1} p5 {p5} median {median}",
        negatives.len()
    );
    let all: Vec<u32> = positives.iter().flatten().copied().collect();
    for threshold in [4, 6, 8, 10, 12, 14, 16, 18] {
        let share =
            |d: &[u32]| d.iter().filter(|x| **x <= threshold).count() as f64 / d.len() as f64;
        println!(
            "  threshold {threshold:>2}: recall {:.3}  false positives {:.4}",
            share(&all),
            share(negatives)
        );
    }
}

/// Kinds measured in pairs: a pair matches when both agree (max), or
/// when either does (min).
const PAIRS: [(&str, &str); 4] = [
    ("dhash256", "phash64"),
    ("ddhash64", "phash64"),
    ("dhash256", "ddhash64"),
    ("dhash64", "phash64"),
];

#[test]
#[ignore = "measurement: prints distance distributions"]
fn measure_perceptual_hashes() {
    let (names, corpus) = corpus();
    let hashes: Vec<Vec<Vec<Hashed>>> = CANDIDATES
        .iter()
        .map(|spec| {
            corpus
                .iter()
                .map(|versions| versions.iter().map(|v| hashed(spec, v)).collect())
                .collect()
        })
        .collect();
    let index = |kind: &str| {
        CANDIDATES
            .iter()
            .position(|s| s.kind == kind)
            .expect("candidate")
    };
    for (spec, per_photo) in CANDIDATES.iter().zip(&hashes) {
        let distance = |a: (usize, usize), b: (usize, usize)| {
            mirror_distance(&per_photo[a.0][a.1], &per_photo[b.0][b.1])
        };
        let (positives, negatives) = distances(corpus.len(), &distance);
        report(&format!("{} + mirror", spec.kind), &positives, &negatives);
    }
    for (first, second) in PAIRS {
        let (x, y) = (&hashes[index(first)], &hashes[index(second)]);
        let both = |a: (usize, usize), b: (usize, usize)| {
            let dx = mirror_distance(&x[a.0][a.1], &x[b.0][b.1]);
            dx.max(mirror_distance(&y[a.0][a.1], &y[b.0][b.1]))
        };
        let (positives, negatives) = distances(corpus.len(), &both);
        report(&format!("max({first}, {second})"), &positives, &negatives);
        let either = |a: (usize, usize), b: (usize, usize)| {
            let dx = mirror_distance(&x[a.0][a.1], &x[b.0][b.1]);
            dx.min(mirror_distance(&y[a.0][a.1], &y[b.0][b.1]))
        };
        let (positives, negatives) = distances(corpus.len(), &either);
        report(&format!("min({first}, {second})"), &positives, &negatives);
    }
    report_stored(&names, &corpus);
}

/// What the store keeps and `hash_distance` compares.
fn report_stored(names: &[String], corpus: &[Vec<DynamicImage>]) {
    let stored: Vec<Vec<Vec<PerceptualHash>>> = corpus
        .iter()
        .map(|versions| versions.iter().map(perceptual_hashes).collect())
        .collect();
    let distance = |a: (usize, usize), b: (usize, usize)| {
        // No hashes (a picture too smooth to hash) never matches.
        hash_distance(&stored[a.0][a.1], &stored[b.0][b.1]).unwrap_or(64)
    };
    let (positives, negatives) = distances(corpus.len(), &distance);
    report(
        "stored set via hash_distance (64 = not hashed)",
        &positives,
        &negatives,
    );
    let mut pairs = Vec::new();
    for a in 0..stored.len() {
        for b in a + 1..stored.len() {
            pairs.push((distance((a, 0), (b, 0)), &names[a], &names[b]));
        }
    }
    pairs.sort();
    println!("  closest different originals:");
    for (distance, a, b) in pairs.iter().take(8) {
        println!("    {distance:>2} {a} / {b}");
    }
    println!("  detail at hash scale (original, then min over variants):");
    for (name, versions) in names.iter().zip(corpus) {
        let details: Vec<f32> = versions
            .iter()
            .map(|v| hash_detail(&trim_uniform_border(v)))
            .collect();
        let min = details.iter().copied().fold(f32::MAX, f32::min);
        println!("    {:>6.2} {:>6.2} {name}", details[0], min);
    }
}
