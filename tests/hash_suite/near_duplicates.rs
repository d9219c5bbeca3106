//! The documented thresholds hold on real photographs: near-duplicate
//! variants match their original, different photographs do not.

use image::DynamicImage;
use provenance::hash::{
    hash_distance, perceptual_hashes, LOOSE_MATCH_DISTANCE, STRICT_MATCH_DISTANCE,
};
use provenance::model::PerceptualHash;

use crate::fixtures::photos;
use crate::variants::{jpeg, VARIANTS};

/// Variants every photograph must match within the strict threshold
/// (largest measured: 8).
const STRICT: [&str; 6] = [
    "resize-0.25",
    "resize-0.5+jpeg50",
    "jpeg-q20",
    "flip",
    "brightness+40",
    "contrast+30",
];

/// Variants most photographs match within the loose threshold (measured
/// medians 0–12): at least 7 of the 10 photographs must.
const MOSTLY_LOOSE: [&str; 4] = ["greyscale", "border-10", "watermark", "crop-90-centre"];

fn hashes_of(image: &DynamicImage) -> Vec<PerceptualHash> {
    let hashes = perceptual_hashes(image);
    assert!(!hashes.is_empty(), "photographs have enough detail to hash");
    hashes
}

fn variant(name: &str) -> fn(&DynamicImage) -> DynamicImage {
    VARIANTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, make)| *make)
        .expect("known variant")
}

#[test]
fn near_duplicates_match_their_original() {
    let photos = photos();
    let mut failures = Vec::new();
    for (name, original) in &photos {
        let reference = hashes_of(original);
        for variant_name in STRICT {
            let copy = variant(variant_name)(original);
            let distance = hash_distance(&reference, &hashes_of(&copy)).expect("common kinds");
            if distance > STRICT_MATCH_DISTANCE {
                failures.push(format!("{name}/{variant_name}: {distance}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "near-duplicates above {STRICT_MATCH_DISTANCE}: {failures:#?}"
    );
}

#[test]
fn harder_variants_mostly_match_loosely() {
    let photos = photos();
    for variant_name in MOSTLY_LOOSE {
        let matched = photos
            .iter()
            .filter(|(_, original)| {
                let copy = variant(variant_name)(original);
                let distance =
                    hash_distance(&hashes_of(original), &hashes_of(&copy)).expect("common kinds");
                distance <= LOOSE_MATCH_DISTANCE
            })
            .count();
        assert!(
            matched * 10 >= photos.len() * 7,
            "{variant_name}: only {matched} of {} matched",
            photos.len()
        );
    }
}

#[test]
fn different_photographs_do_not_match() {
    let photos = photos();
    let hashed: Vec<(String, Vec<PerceptualHash>)> = photos
        .iter()
        .map(|(name, image)| (name.clone(), hashes_of(&jpeg(image, 60))))
        .collect();
    let mut closest = u32::MAX;
    for (i, (name_a, a)) in hashed.iter().enumerate() {
        for (name_b, b) in &hashed[i + 1..] {
            let distance = hash_distance(a, b).expect("common kinds");
            assert!(
                distance > LOOSE_MATCH_DISTANCE,
                "{name_a} vs {name_b}: {distance}"
            );
            closest = closest.min(distance);
        }
    }
    assert!(closest > LOOSE_MATCH_DISTANCE);
}

#[test]
fn identical_pictures_are_at_distance_zero() {
    for (name, image) in photos().into_iter().take(3) {
        assert_eq!(
            hash_distance(&hashes_of(&image), &hashes_of(&image)),
            Some(0),
            "{name}"
        );
    }
}
