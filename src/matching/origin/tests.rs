//! Tests of origin ordering: dates of each kind, conflicts, missing and
//! impossible dates, ties, sizes.

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::model::ExifSummary;

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).single().unwrap()
}

fn image(id: ImageId, width: u32, height: u32, exif_date: Option<&str>) -> ImageRecord {
    ImageRecord {
        id,
        sha256: format!("{id:064x}"),
        sha1: None,
        perceptual_hashes: Vec::new(),
        width,
        height,
        format: "jpeg".into(),
        byte_size: 1000,
        exif: ExifSummary {
            date_time_original: exif_date.map(str::to_string),
            ..ExifSummary::default()
        },
        embedded: None,
        has_embedding: true,
        first_seen_at: at(2026, 11, 1),
        last_seen_at: at(2026, 11, 20),
    }
}

fn sighting(
    id: i64,
    image_id: ImageId,
    first_seen: DateTime<Utc>,
    last_modified: Option<DateTime<Utc>>,
) -> SightingRecord {
    SightingRecord {
        id,
        image_id,
        image_url: format!("https://img.example/{id}.jpg"),
        page_url: Some(format!("https://site{id}.example/post")),
        page_title: Some(format!("Post {id}")),
        site: Some(format!("site{id}.example")),
        provider: Some("serpapi".into()),
        scan_id: Some(1),
        keyphrase: Some("poster".into()),
        rank: Some(1),
        first_seen_at: first_seen,
        last_seen_at: at(2026, 11, 20),
        last_modified,
        etag: None,
        source_facts: None,
        words: None,
        checked_at: None,
        gone_at: None,
    }
}

fn claimed(claims: &[OriginClaim]) -> Vec<(ImageId, Option<i64>)> {
    claims.iter().map(|c| (c.image_id, c.sighting_id)).collect()
}

#[test]
fn earliest_last_modified_is_named_with_its_kind_and_count() {
    let day = at(2026, 11, 10);
    let group = vec![(
        image(1, 800, 600, None),
        vec![
            sighting(10, 1, day, Some(at(2024, 6, 1))),
            sighting(11, 1, day, Some(at(2024, 5, 1))),
            sighting(12, 1, day, None),
        ],
    )];
    let claims = order_origins(&group);
    assert_eq!(claimed(&claims), [(1, Some(11))]);
    assert_eq!(
        claims[0].reasons,
        ["earliest HTTP Last-Modified among 2 postings that send one: 2024-05-01T00:00:00Z (the server's file date; a re-upload resets it)"]
    );
    assert_eq!(
        claims[0].page_url.as_deref(),
        Some("https://site11.example/post")
    );
}

#[test]
fn conflicting_dates_keep_both_claims_with_the_stronger_kind_first() {
    // Version 1 carries the camera date; a posting of version 2 has the
    // earlier Last-Modified. Both are said; the EXIF date ranks first.
    let group = vec![
        (
            image(1, 1000, 800, Some("2019:05:01 12:00:00")),
            vec![sighting(10, 1, at(2026, 11, 12), Some(at(2024, 3, 1)))],
        ),
        (
            image(2, 1000, 800, None),
            vec![sighting(20, 2, at(2026, 11, 10), Some(at(2023, 1, 1)))],
        ),
    ];
    let claims = order_origins(&group);
    assert_eq!(claimed(&claims), [(1, Some(10)), (2, Some(20))]);
    assert_eq!(
        claims[0].reasons,
        ["the only version carrying an EXIF DateTimeOriginal: 2019:05:01 12:00:00 (the camera's clock, no time zone; metadata can be copied or edited)"]
    );
    assert_eq!(claims[1].reasons.len(), 2);
    assert!(claims[1].reasons[0].starts_with(
        "earliest HTTP Last-Modified among 2 postings that send one: 2023-01-01T00:00:00Z"
    ));
    assert!(
        claims[1].reasons[1].starts_with("first seen by us among 2 postings: 2026-11-10T00:00:00Z")
    );
}

#[test]
fn missing_dates_leave_size_and_first_sighting_and_are_noted() {
    let group = vec![
        (
            image(1, 3000, 2000, None),
            vec![sighting(10, 1, at(2026, 11, 15), None)],
        ),
        (
            image(2, 1500, 1000, None),
            vec![sighting(20, 2, at(2026, 11, 10), None)],
        ),
    ];
    let claims = order_origins(&group);
    assert_eq!(claimed(&claims), [(1, Some(10)), (2, Some(20))]);
    assert_eq!(
        claims[0].reasons,
        ["largest version, 3000×2000, among 2 versions (copies are rarely larger than their source)"]
    );
    assert_eq!(claims[1].evidence.len(), 1);
    assert!(matches!(
        claims[1].evidence[0],
        OriginEvidence::EarliestDate {
            date_kind: DateKind::FirstSeenByUs,
            ..
        }
    ));
    assert_eq!(
        missing_origin_evidence(&group),
        [
            "No version carries an EXIF DateTimeOriginal, so there is no capture date.",
            "No posting sent a usable HTTP Last-Modified date."
        ]
    );
}

#[test]
fn ties_are_reported_as_ties_and_a_criterion_where_all_tie_says_nothing() {
    let day = at(2026, 11, 10); // every posting first seen in the same scan
    let group = vec![
        (
            image(3, 2000, 1000, None),
            vec![sighting(30, 3, day, Some(at(2024, 1, 1)))],
        ),
        (
            image(1, 2000, 1000, None),
            vec![sighting(10, 1, day, Some(at(2024, 1, 1)))],
        ),
        (
            image(2, 500, 250, None),
            vec![sighting(20, 2, day, Some(at(2025, 1, 1)))],
        ),
    ];
    let claims = order_origins(&group);
    // Equal evidence: ordered by image id.
    assert_eq!(claimed(&claims), [(1, Some(10)), (3, Some(30))]);
    for c in &claims {
        assert_eq!(c.reasons.len(), 2, "{:?}", c.reasons);
        assert!(c.reasons[0].contains(
            "among 3 postings that send one: 2024-01-01T00:00:00Z, tied with 1 other posting"
        ));
        assert!(c.reasons[1].contains("2000×1000, among 3 versions, tied with 1 other version"));
        assert!(!c.reasons.iter().any(|r| r.contains("first seen")));
    }
}

#[test]
fn exif_date_is_shared_by_every_posting_of_the_version() {
    let group = vec![
        (
            image(1, 800, 600, Some("2018:07:04 09:30:00")),
            vec![
                sighting(10, 1, at(2026, 11, 12), None),
                sighting(11, 1, at(2026, 11, 12), None),
            ],
        ),
        (
            image(2, 800, 600, Some("2020:01:01 00:00:00")),
            vec![sighting(20, 2, at(2026, 11, 12), None)],
        ),
    ];
    let claims = order_origins(&group);
    assert_eq!(claimed(&claims), [(1, Some(10)), (1, Some(11))]);
    assert!(claims[0].reasons[0].starts_with(
        "earliest EXIF DateTimeOriginal among 2 versions that carry one: 2018:07:04 09:30:00"
    ));
}

#[test]
fn impossible_and_unreadable_dates_are_no_evidence() {
    let group = vec![
        // A Last-Modified after we fetched it, a zero EXIF date.
        (
            image(1, 800, 600, Some("0000:00:00 00:00:00")),
            vec![sighting(10, 1, at(2026, 11, 12), Some(at(2030, 1, 1)))],
        ),
        // An EXIF date in the future.
        (
            image(2, 800, 600, Some("2031:01:01 00:00:00")),
            vec![sighting(20, 2, at(2026, 11, 10), None)],
        ),
    ];
    let claims = order_origins(&group);
    assert_eq!(claimed(&claims), [(2, Some(20))]);
    assert_eq!(claims[0].evidence.len(), 1);
    assert_eq!(missing_origin_evidence(&group).len(), 2);
}

#[test]
fn a_single_posting_gets_plain_words_and_a_version_without_sightings_still_counts() {
    let group = vec![(
        image(1, 640, 480, None),
        vec![sighting(10, 1, at(2026, 11, 12), None)],
    )];
    let claims = order_origins(&group);
    assert_eq!(
        claims[0].reasons,
        ["first seen by us, the only posting: 2026-11-12T00:00:00Z (when we looked, not when it was published)"]
    );

    let group = vec![
        (
            image(1, 640, 480, None),
            vec![sighting(10, 1, at(2026, 11, 12), None)],
        ),
        (image(2, 1280, 960, Some("2017:02:03 04:05:06")), Vec::new()),
    ];
    let claims = order_origins(&group);
    // The unseen version has the EXIF date, the size and (through the
    // image record) the earliest first sighting; the posting has nothing.
    assert_eq!(claimed(&claims), [(2, None)]);
    assert_eq!(claims[0].evidence.len(), 3);
    assert_eq!(claims[0].page_url, None);
}

#[test]
fn an_empty_group_has_no_claims_and_no_notes() {
    assert!(order_origins(&[]).is_empty());
    assert!(missing_origin_evidence(&[]).is_empty());
}

#[test]
fn tied_largest_versions_each_keep_their_own_shape() {
    let day = at(2026, 11, 10);
    let group = vec![
        (image(1, 2000, 1000, None), vec![sighting(10, 1, day, None)]),
        (image(2, 1000, 2000, None), vec![sighting(20, 2, day, None)]),
        (image(3, 500, 500, None), vec![sighting(30, 3, day, None)]),
    ];
    let claims = order_origins(&group);
    let shapes: Vec<(ImageId, u32, u32)> = claims
        .iter()
        .map(|c| match c.evidence[..] {
            [OriginEvidence::LargestVersion {
                width,
                height,
                tied_with: 1,
                ..
            }] => (c.image_id, width, height),
            _ => panic!("{:?}", c.evidence),
        })
        .collect();
    assert_eq!(shapes, [(1, 2000, 1000), (2, 1000, 2000)]);
}
