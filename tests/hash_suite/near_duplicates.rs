//! The documented thresholds hold on real photographs: near-duplicate
//! variants match their original, different photographs do not.

use image::DynamicImage;
use provenance::hash::{
    hash_distance, perceptual_hashes, LOOSE_MATCH_DISTANCE, STRICT_MATCH_DISTANCE,
};
use provenance::store::PerceptualHash;

use crate::fixtures::photos;
use crate::variants::{jpeg, VARIANTS};

/// Variants the strict threshold must catch, and those only the loose one must.
const STRICT: [&str; 8] = [
    "resize-0.25",
    "resize-0.5+jpeg50",
    "jpeg-q20",
    "flip",
    "greyscale",
    "watermark",
    "brightness+40",
    "contrast+30",
];
const LOOSE: [&str; 2] = ["crop-90-centre", "border-10"];

fn hashes_of(image: &DynamicImage) -> Vec<PerceptualHash> {
    perceptual_hashes(image)
}

#[test]
fn near_duplicates_match_their_original() {
    let mut failures = Vec::new();
    for (name, original) in photos() {
        let reference = hashes_of(&original);
        for (variant, make) in VARIANTS.iter() {
            let limit = if STRICT.contains(variant) {
                STRICT_MATCH_DISTANCE
            } else if LOOSE.contains(variant) {
                LOOSE_MATCH_DISTANCE
            } else {
                continue;
            };
            let distance =
                hash_distance(&reference, &hashes_of(&make(&original))).expect("common kinds");
            if distance > limit {
                failures.push(format!("{name}/{variant}: {distance} > {limit}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "near-duplicates too far: {failures:#?}"
    );
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
