//! The index on real photos: a stored picture is found again from its own
//! keypoints, rotated and mirrored, and not from an unrelated photo.

use super::*;
use crate::verify::{extract, features::extract_mirrored};

fn photo(name: &str) -> image::DynamicImage {
    let path = format!("{}/tests/fixtures/hash/{name}", env!("CARGO_MANIFEST_DIR"));
    image::open(path).unwrap()
}

fn query_of(image: &image::DynamicImage) -> QueryTerms {
    QueryTerms {
        plain: Terms::of(&extract(image, 256)),
        mirrored: Terms::of(&extract_mirrored(image, 256)),
    }
}

fn index_of(names: &[&str]) -> CopyIndex {
    let mut index = CopyIndex::default();
    for (i, name) in names.iter().enumerate() {
        index.insert(i as ImageId + 1, &Terms::of(&extract(&photo(name), 256)));
    }
    index
}

const PHOTOS: [&str; 6] = [
    "chelsea.jpg",
    "coffee.jpg",
    "rocket.jpg",
    "camera.jpg",
    "astronaut.jpg",
    "coins.jpg",
];

#[test]
fn a_picture_is_its_own_best_candidate_even_rotated_or_mirrored() {
    let index = index_of(&PHOTOS);
    assert_eq!(index.len(), PHOTOS.len());
    for (i, name) in PHOTOS.iter().enumerate() {
        let id = i as ImageId + 1;
        let original = photo(name);
        for (how, query) in [
            ("as is", original.clone()),
            ("rotated 90°", original.rotate90()),
            ("mirrored", original.fliph()),
        ] {
            let found = index.candidates(&query_of(&query), &SearchSettings::default());
            assert_eq!(
                found.first().map(|c| c.image_id),
                Some(id),
                "{name} {how}: {found:?}"
            );
        }
    }
}

#[test]
fn an_unrelated_photo_gathers_few_votes() {
    let index = index_of(&PHOTOS);
    let stranger = query_of(&photo("brick.jpg"));
    let own = index.candidates(&query_of(&photo("coins.jpg")), &SearchSettings::default());
    let found = index.candidates(&stranger, &SearchSettings::default());
    let best_stranger = found.first().map_or(0, |c| c.votes);
    assert!(
        best_stranger * 4 < own[0].votes,
        "stranger {best_stranger} vs own {}",
        own[0].votes
    );
}

#[test]
fn filing_twice_changes_nothing_and_an_empty_index_finds_nothing() {
    let mut index = CopyIndex::default();
    assert!(index
        .candidates(&QueryTerms::default(), &SearchSettings::default())
        .is_empty());
    let terms = Terms::of(&extract(&photo("coffee.jpg"), 256));
    index.insert(7, &terms);
    index.insert(7, &terms);
    assert_eq!(index.len(), 1);
    assert!(index.contains(7) && !index.contains(8));
}
