//! A report assembled the way `provenance match` will assemble it (store
//! records → rank → origins → report), written to a reports directory.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use image::{DynamicImage, Rgb, RgbImage};
use provenance::matching::{self, Evidence, MatchCandidate, Thresholds};
use provenance::model::{ExifSummary, ImageRecord, SightingRecord};
use provenance::report::{
    self, parse_json, write_reports, MatchRecords, Mode, QueryInfo, Report, ReportContext,
    ReportFormat,
};
use provenance::thumbnail::thumbnail_data_uri;

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).single().unwrap()
}

fn image(id: i64, width: u32, height: u32) -> ImageRecord {
    ImageRecord {
        id,
        sha256: format!("{id:064x}"),
        sha1: None,
        perceptual_hashes: Vec::new(),
        width,
        height,
        format: "jpeg".into(),
        byte_size: 5000,
        exif: ExifSummary::default(),
        embedded: None,
        has_embedding: true,
        first_seen_at: at(2026, 11, 1),
        last_seen_at: at(2026, 11, 20),
    }
}

fn sighting(id: i64, image_id: i64, last_modified: Option<DateTime<Utc>>) -> SightingRecord {
    SightingRecord {
        id,
        image_id,
        image_url: format!("https://img.example/{id}.jpg"),
        page_url: Some(format!("https://site.example/{id}")),
        page_title: Some(format!("Page {id}")),
        site: Some("site.example".into()),
        provider: Some("searxng".into()),
        scan_id: Some(1),
        keyphrase: Some("poster".into()),
        rank: Some(1),
        first_seen_at: at(2026, 11, 5),
        last_seen_at: at(2026, 11, 20),
        last_modified,
        etag: None,
        source_facts: None,
        words: None,
        checked_at: None,
        gone_at: None,
    }
}

fn candidate(
    image_id: i64,
    same_bytes: bool,
    hash_distance: Option<u32>,
    similarity: Option<f32>,
) -> MatchCandidate {
    MatchCandidate {
        image_id,
        evidence: Evidence {
            same_bytes,
            hash_distance,
            similarity,
            verified_inliers: None,
            hash_ambiguous: false,
            colour_distance: None,
        },
    }
}

/// What the `match` command does once it has candidates and records.
fn assemble(
    records: &[(ImageRecord, Vec<SightingRecord>)],
    candidates: Vec<MatchCandidate>,
) -> Report {
    let thresholds = Thresholds::default();
    let ranked = matching::rank(candidates, &thresholds, 10);
    let pixels = RgbImage::from_pixel(300, 200, Rgb([9, 99, 199]));
    let thumb = thumbnail_data_uri(&DynamicImage::ImageRgb8(pixels), 96).unwrap();
    let store: BTreeMap<i64, MatchRecords> = records
        .iter()
        .map(|(image, sightings)| {
            let r = MatchRecords {
                image: image.clone(),
                sightings: sightings.clone(),
                thumbnail_data_uri: Some(thumb.clone()),
            };
            (image.id, r)
        })
        .collect();
    let context = ReportContext {
        generated_at: Utc
            .with_ymd_and_hms(2026, 11, 22, 9, 55, 14)
            .single()
            .unwrap(),
        query: QueryInfo {
            label: "suspect.jpg".into(),
            sha256: Some("01".repeat(32)),
            width: Some(1200),
            height: Some(800),
            thumbnail_data_uri: Some(thumb.clone()),
        },
        mode: Mode::ClipHash,
        model: None,
        thresholds,
        notes: Vec::new(),
    };
    report::assemble(context, &ranked, &store)
}

fn records() -> Vec<(ImageRecord, Vec<SightingRecord>)> {
    vec![
        (
            image(1, 1200, 800),
            vec![sighting(10, 1, Some(at(2025, 2, 1))), sighting(11, 1, None)],
        ),
        (
            image(2, 2400, 1600),
            vec![sighting(20, 2, Some(at(2024, 1, 1)))],
        ),
        (image(3, 600, 400), vec![sighting(30, 3, None)]),
    ]
}

#[test]
fn a_match_ranks_groups_and_explains_origins() {
    let report = assemble(
        &records(),
        vec![
            candidate(3, false, Some(30), None),
            candidate(2, false, Some(6), None),
            candidate(1, true, Some(0), None),
        ],
    );
    let kinds: Vec<(i64, &str)> = report
        .matches
        .iter()
        .map(|m| (m.image.id, m.kind.as_str()))
        .collect();
    // Image 3 is too far for hash-only mode: no match.
    assert_eq!(kinds, [(1, "exact_copy"), (2, "near_duplicate")]);
    assert_eq!(report.matches[0].sightings.len(), 2);
    // The larger version with the earlier Last-Modified leads.
    assert_eq!(report.origins[0].sighting_id, Some(20));
    assert_eq!(report.origins[0].reasons.len(), 2);
    assert!(report.origins[0].reasons[0].starts_with(
        "earliest HTTP Last-Modified among 2 postings that send one: 2024-01-01T00:00:00Z"
    ));
    assert!(
        report.origins[0].reasons[1].starts_with("largest version, 2400×1600, among 2 versions")
    );
    assert_eq!(
        report.notes,
        ["No version carries an EXIF DateTimeOriginal, so there is no capture date."]
    );
}

#[test]
fn reports_are_written_under_timestamped_names_without_overwriting() {
    let report = assemble(&records(), vec![candidate(1, true, Some(0), None)]);
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    let written = write_reports(&reports, &report, &ReportFormat::ALL).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "provenance-report-20261122T095514Z.html",
            "provenance-report-20261122T095514Z.json",
            "provenance-report-20261122T095514Z.md"
        ]
    );
    let json = std::fs::read_to_string(&written[1]).unwrap();
    assert_eq!(parse_json(&json).unwrap(), report);
    let html = std::fs::read_to_string(&written[0]).unwrap();
    // The query's thumbnail at the top and beside the match, and the
    // match's, inlined.
    assert_eq!(
        html.matches("<img class=\"thumb\" src=\"data:image/jpeg;base64,")
            .count(),
        3
    );

    let again = write_reports(&reports, &report, &[ReportFormat::Html]).unwrap();
    assert_eq!(
        again[0].file_name().unwrap(),
        "provenance-report-20261122T095514Z-2.html"
    );
    assert_eq!(std::fs::read_to_string(&written[0]).unwrap(), html);
}

#[test]
fn an_unwritable_reports_directory_is_a_clear_error() {
    let report = assemble(&records(), Vec::new());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let err = write_reports(&file, &report, &[ReportFormat::Json]).unwrap_err();
    assert!(
        err.to_string().starts_with("could not write the report"),
        "{err}"
    );
    assert!(err.to_string().contains("not-a-dir"), "{err}");
}
