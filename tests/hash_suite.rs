//! Perceptual hashing on real photographs: near-duplicates must stay under
//! the documented threshold, different pictures above it; plus the ignored
//! measurement that chose the algorithms.

#[path = "hash_suite/fixtures.rs"]
mod fixtures;

#[path = "hash_suite/variants.rs"]
mod variants;

#[path = "hash_suite/measure.rs"]
mod measure;

#[path = "hash_suite/near_duplicates.rs"]
mod near_duplicates;
