//! The measurement behind the choice of perceptual hashes and threshold
//! (ignored by default; it prints, it does not judge):
//!
//! `cargo test --test hash_suite measure -- --ignored --nocapture`
//!
//! For every candidate algorithm it prints, per near-duplicate variant, the
//! largest and median distance to the original, and for different pictures
//! the smallest and low-percentile distances — all on the 64-bit scale, with
//! and without the mirrored hash. Then recall / false-positive rate per threshold.

use image::DynamicImage;
use provenance::hash::perceptual::{trim_uniform_border, HashSpec, CANDIDATES};
use provenance::hash::{hash_distance, normalised_hamming, perceptual_hashes};
use provenance::store::PerceptualHash;

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

fn distance(a: &Hashed, b: &Hashed, use_mirror: bool) -> u32 {
    let plain = normalised_hamming(&a.plain, &b.plain).expect("same size");
    if !use_mirror {
        return plain;
    }
    plain.min(normalised_hamming(&a.plain, &b.mirror).expect("same size"))
}

/// Pictures × (original, variants…).
fn corpus() -> Vec<Vec<DynamicImage>> {
    photos()
        .into_iter()
        .map(|(_, original)| {
            let mut versions = vec![original.clone()];
            versions.extend(VARIANTS.iter().map(|(_, make)| make(&original)));
            versions
        })
        .collect()
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Positive distances per variant and all negative distances.
fn distances(per_photo: &[Vec<Hashed>], use_mirror: bool) -> (Vec<Vec<u32>>, Vec<u32>) {
    let positives = (0..VARIANTS.len())
        .map(|v| {
            per_photo
                .iter()
                .map(|versions| distance(&versions[0], &versions[v + 1], use_mirror))
                .collect()
        })
        .collect();
    let mut negatives = Vec::new();
    for (a, versions_a) in per_photo.iter().enumerate() {
        for (b, versions_b) in per_photo.iter().enumerate() {
            if a != b {
                negatives.extend(
                    versions_b
                        .iter()
                        .map(|other| distance(&versions_a[0], other, use_mirror)),
                );
            }
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
        println!(
            "  {variant:<20} max {:>2}  median {:>2}  all {row:?}",
            row[row.len() - 1],
            percentile(&row, 0.5)
        );
    }
    println!(
        "  different pictures   n={} min {} p1 {} p5 {} median {}",
        negatives.len(),
        negatives[0],
        percentile(negatives, 0.01),
        percentile(negatives, 0.05),
        percentile(negatives, 0.5)
    );
    let all: Vec<u32> = positives.iter().flatten().copied().collect();
    for threshold in [4, 6, 8, 10, 12, 14, 16, 18] {
        let recall = all.iter().filter(|d| **d <= threshold).count() as f64 / all.len() as f64;
        let false_pos =
            negatives.iter().filter(|d| **d <= threshold).count() as f64 / negatives.len() as f64;
        println!(
            "  threshold {threshold:>2}: recall {:.3}  false positives {:.4}",
            recall, false_pos
        );
    }
}

#[test]
#[ignore = "measurement: prints distance distributions"]
fn measure_perceptual_hashes() {
    let corpus = corpus();
    for spec in CANDIDATES.iter() {
        let per_photo: Vec<Vec<Hashed>> = corpus
            .iter()
            .map(|versions| versions.iter().map(|v| hashed(spec, v)).collect())
            .collect();
        for use_mirror in [false, true] {
            let (positives, negatives) = distances(&per_photo, use_mirror);
            let name = format!("{}{}", spec.kind, if use_mirror { " + mirror" } else { "" });
            report(&name, &positives, &negatives);
        }
    }
    // What the store keeps and `hash_distance` compares.
    let stored: Vec<Vec<Vec<PerceptualHash>>> = corpus
        .iter()
        .map(|versions| versions.iter().map(perceptual_hashes).collect())
        .collect();
    let d = |a: &[PerceptualHash], b: &[PerceptualHash]| hash_distance(a, b).expect("common kinds");
    let positives: Vec<Vec<u32>> = (0..VARIANTS.len())
        .map(|v| {
            stored
                .iter()
                .map(|versions| d(&versions[0], &versions[v + 1]))
                .collect()
        })
        .collect();
    let mut negatives: Vec<u32> = Vec::new();
    for (a, versions_a) in stored.iter().enumerate() {
        for (b, versions_b) in stored.iter().enumerate() {
            if a != b {
                negatives.extend(versions_b.iter().map(|other| d(&versions_a[0], other)));
            }
        }
    }
    negatives.sort_unstable();
    report("stored set via hash_distance", &positives, &negatives);
}
