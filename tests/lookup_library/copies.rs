//! Copy detection on committed fixtures (`tests/fixtures/copies`, made by
//! `scripts/make_copy_fixtures.py` with the photo evaluation's own edits):
//! a 50 % crop shown small, a phone screenshot, a collage cell, a mirrored
//! 30° rotation and a 90° turn. Each must come first, as the same picture,
//! among seven stored photos, on both stores — with shortlists of two, so
//! that the perceptual hash alone cannot reach them and the copy index
//! must.

use std::collections::HashMap;

use provenance::decode::DecodeError;
use provenance::matching::Decider;

use super::*;

const STORED: [&str; 7] = [
    "astronaut.jpg",
    "camera.jpg",
    "chelsea.jpg",
    "coffee.jpg",
    "coins.jpg",
    "retina.jpg",
    "rocket.jpg",
];

/// (the repost, the stored original).
const REPOSTS: [(&str, &str); 5] = [
    ("copies/coffee__crop50.jpg", "coffee.jpg"),
    ("copies/rocket__screenshot.jpg", "rocket.jpg"),
    ("copies/chelsea__collage.jpg", "chelsea.jpg"),
    ("copies/astronaut__mirror_rotate30.jpg", "astronaut.jpg"),
    ("copies/camera__rotate90.jpg", "camera.jpg"),
];

fn short_lists(copy_index: bool) -> LookupOptions {
    LookupOptions {
        verify_top: 2,
        copy_index,
        ..LookupOptions::default()
    }
}

/// The first match's picture, if it is called the same picture.
fn same_picture_first(report: &Report) -> Option<ImageId> {
    report
        .matches
        .first()
        .filter(|m| m.kind.is_same_picture())
        .map(|m| m.image.id)
}

async fn every_kind_of_repost_is_found_first(store: &dyn Store) {
    let mut ids = HashMap::new();
    for name in STORED {
        ids.insert(name, store_photo(store, name, None).await);
    }
    let index = MatchIndex::default();
    let mut found_without_index = Vec::new();
    for (repost, original) in REPOSTS {
        let picture = query(repost);
        let report = lookup::find_image(store, None, &index, &picture, &short_lists(true))
            .await
            .unwrap();
        assert_eq!(
            same_picture_first(&report),
            Some(ids[original]),
            "{repost}: {:?}",
            report
                .matches
                .iter()
                .map(|m| (m.image.id, m.kind, m.verified_inliers, m.hash_distance))
                .collect::<Vec<_>>()
        );
        assert_eq!(report.matches[0].decided_by, Some(Decider::Keypoints));
        let others = &report.matches[1..];
        assert!(
            others.iter().all(|m| !m.kind.is_same_picture()),
            "{repost}: another picture called the same"
        );
        let without = lookup::find_image(store, None, &index, &picture, &short_lists(false))
            .await
            .unwrap();
        if same_picture_first(&without) == Some(ids[original]) {
            found_without_index.push(repost);
        }
    }
    // What the index adds: the hash's two nearest miss most of them.
    assert!(
        found_without_index.len() <= 2,
        "found without the copy index too: {found_without_index:?}"
    );
}
both_backends!(reposts, every_kind_of_repost_is_found_first);

fn picture_query(label: &str, image: &image::DynamicImage) -> QueryPicture {
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    QueryPicture::decode(label, bytes.get_ref(), &DecodeLimits::default()).unwrap()
}

fn explanation(report: &Report) -> &str {
    report
        .notes
        .iter()
        .find(|n| n.starts_with("No stored picture was found to be the same picture."))
        .unwrap_or_else(|| panic!("no explanation among {:?}", report.notes))
}

async fn a_picture_not_stored_is_no_copy_and_the_report_says_how_close_it_came(store: &dyn Store) {
    for name in STORED {
        store_photo(store, name, None).await;
    }
    let index = MatchIndex::default();
    let options = LookupOptions::default();
    // A photo never stored: compared, found wanting, and told so.
    let stranger = query("hash/brick.jpg");
    let report = lookup::find_image(store, None, &index, &stranger, &options)
        .await
        .unwrap();
    assert!(report.matches.iter().all(|m| !m.kind.is_same_picture()));
    let why = explanation(&report);
    assert!(
        why.contains("agreeing on one geometry (12 needed)"),
        "{why}"
    );
    assert!(why.contains("The nearest perceptual hash is"), "{why}");
    // A stored picture is not explained away.
    let own = lookup::find_image(store, None, &index, &query("hash/rocket.jpg"), &options)
        .await
        .unwrap();
    assert!(!own.notes.iter().any(|n| n.starts_with("No stored picture")));
    // A flat picture and a single pixel: no keypoints, no hash, a clear note.
    let flat = image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
        640,
        480,
        image::Rgb([200, 120, 40]),
    ));
    let pixel = image::DynamicImage::ImageRgb8(image::RgbImage::new(1, 1));
    for (label, picture) in [("flat", flat), ("pixel", pixel)] {
        let report = lookup::find_image(
            store,
            None,
            &index,
            &picture_query(label, &picture),
            &options,
        )
        .await
        .unwrap();
        assert!(
            report.matches.iter().all(|m| !m.kind.is_same_picture()),
            "{label}"
        );
        let why = explanation(&report);
        assert!(
            why.contains("The query has only 0 keypoints"),
            "{label}: {why}"
        );
    }
}
both_backends!(
    not_stored,
    a_picture_not_stored_is_no_copy_and_the_report_says_how_close_it_came
);

#[test]
fn a_giant_picture_header_is_refused_before_decoding() {
    // A real PNG whose header claims 30,000 × 30,000 pixels (CRC fixed).
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::new(8, 8))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png[16..20].copy_from_slice(&30_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&30_000u32.to_be_bytes());
    let crc = crc32fast::hash(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    let err = QueryPicture::decode("giant.png", &png, &DecodeLimits::default()).unwrap_err();
    assert!(
        matches!(
            err,
            LookupError::Decode(DecodeError::TooLarge {
                width: 30_000,
                height: 30_000,
                ..
            })
        ),
        "{err:?}"
    );
}

async fn damaged_index_terms_are_rebuilt_from_the_keypoints(store: &dyn Store) {
    use provenance::copy_index::{Terms, TERMS_KIND};
    use provenance::model::ImageFeatures;
    let mut ids = HashMap::new();
    for name in STORED {
        ids.insert(name, store_photo(store, name, None).await);
    }
    let coffee = ids["coffee.jpg"];
    let garbage = ImageFeatures {
        kind: TERMS_KIND.to_string(),
        bytes: b"not terms at all".to_vec(),
    };
    store.add_features(coffee, &garbage).await.unwrap();
    // A fresh index (a new process) reads the damaged row, rebuilds it and
    // still finds the crop through it.
    let report = lookup::find_image(
        store,
        None,
        &MatchIndex::default(),
        &query("copies/coffee__crop50.jpg"),
        &short_lists(true),
    )
    .await
    .unwrap();
    assert_eq!(same_picture_first(&report), Some(coffee));
    let repaired = store.features(coffee, TERMS_KIND).await.unwrap().unwrap();
    assert!(Terms::decode(&repaired).is_ok());
}
both_backends!(
    damaged_terms,
    damaged_index_terms_are_rebuilt_from_the_keypoints
);

async fn a_shrunk_copy_of_a_smooth_picture_is_found_by_its_colour_layout(store: &dyn Store) {
    for name in STORED {
        store_photo(store, name, None).await;
    }
    let smooth = store_fixture(store, "copies/smooth.jpg", None).await;
    let other = store_fixture(store, "copies/smooth_other.jpg", None).await;
    // Too smooth for a hash: the colour layout is all there is.
    assert!(store
        .image(smooth)
        .await
        .unwrap()
        .unwrap()
        .perceptual_hashes
        .is_empty());
    let report = lookup::find_image(
        store,
        None,
        &MatchIndex::default(),
        &query("copies/smooth__resize30.jpg"),
        &LookupOptions::default(),
    )
    .await
    .unwrap();
    let best = first(&report);
    assert_eq!(
        (best.image.id, best.kind, best.decided_by),
        (
            smooth,
            MatchKind::NearDuplicate,
            Some(Decider::ColourLayout)
        )
    );
    assert!(report.matches.iter().all(|m| m.image.id != other));
    // A photo is never compared with smooth pictures by colour.
    let photo = lookup::find_image(
        store,
        None,
        &MatchIndex::default(),
        &query("hash/coins.jpg"),
        &LookupOptions::default(),
    )
    .await
    .unwrap();
    assert!(photo
        .matches
        .iter()
        .all(|m| m.image.id != smooth && m.image.id != other));
}
both_backends!(
    smooth_picture,
    a_shrunk_copy_of_a_smooth_picture_is_found_by_its_colour_layout
);
