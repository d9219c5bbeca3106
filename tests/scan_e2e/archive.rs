//! The web archive (a Wayback CDX API replayed on loopback) dates the
//! postings of a match: identical bytes told apart by their SHA-1 digest,
//! answers kept so the archive is asked once, a broken or throttling
//! archive a note, never a failed match.

use super::*;

/// Scans a.jpg (on two pages) and a-small.jpg from a URL list; returns the
/// world, the suspect's path and the archive's settings.
async fn world_with_postings(
    dir: &Path,
    photos: &Photos,
) -> (World, PathBuf, Vec<(&'static str, String)>) {
    let world = World::start().await;
    world.put("/img/a.jpg", Served::ok("image/jpeg", photos.a.clone()));
    world.put(
        "/img/a-small.jpg",
        Served::ok("image/jpeg", photos.a_small.clone()),
    );
    let lines = [
        format!("{} {}", world.url("/img/a.jpg"), world.url("/news/2012")),
        format!("{} {}", world.url("/img/a-small.jpg"), world.url("/shop/1")),
    ];
    let summary = scan_url_list(dir, &lines).await;
    assert_eq!(summary["new_images"], 2, "{summary}");
    let suspect = dir.join("suspect.jpg");
    std::fs::write(&suspect, &photos.a).unwrap();
    let env = vec![
        ("PROVENANCE_NO_ARCHIVE", "0".to_string()),
        ("PROVENANCE_WAYBACK_URL", world.url("/")),
        ("PROVENANCE_ARCHIVE_INTERVAL_MS", "5".to_string()),
    ];
    (world, suspect, env)
}

/// A CDX answer: a 2010 capture of other bytes, a 2012 capture of `bytes`,
/// and one dated in the future.
fn cdx_answer(bytes: &[u8]) -> String {
    let digest = provenance::hash::archive_digest(&provenance::hash::sha1(bytes));
    serde_json::json!([
        ["timestamp", "original", "mimetype", "statuscode", "digest"],
        [
            "20120301000000",
            "http://x/a.jpg",
            "image/jpeg",
            "200",
            digest
        ],
        [
            "20100101000000",
            "http://x/a.jpg",
            "image/jpeg",
            "200",
            "OTHERBYTESOTHERBYTESOTHERBYTES22"
        ],
        [
            "20990101000000",
            "http://x/a.jpg",
            "image/jpeg",
            "200",
            digest
        ]
    ])
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archive_captures_date_each_posting_and_are_asked_once() {
    let dir = tempfile::tempdir().unwrap();
    let photos = photos();
    let (world, suspect, env) = world_with_postings(dir.path(), &photos).await;
    world.put(
        "/cdx/search/cdx",
        Served::ok("application/json", cdx_answer(&photos.a)),
    );
    let first_reports = dir.path().join("first-reports");
    let report = match_json(
        dir.path(),
        &suspect,
        &["--report-dir", first_reports.to_str().unwrap()],
        &env,
    )
    .await;
    let exact = &report["matches"][0];
    assert_eq!(exact["kind"], "exact_copy", "{report}");
    let archive = &exact["sightings"][0]["archive"];
    assert_eq!(
        archive["identical_bytes"]["at"], "2012-03-01T00:00:00Z",
        "the capture whose digest is our bytes' SHA-1: {archive}"
    );
    assert_eq!(
        archive["identical_bytes"]["url"],
        "https://web.archive.org/web/20120301000000/http://x/a.jpg"
    );
    assert_eq!(
        archive["image"]["at"], "2010-01-01T00:00:00Z",
        "the earliest capture"
    );
    assert_eq!(archive["page"]["at"], "2010-01-01T00:00:00Z");
    let original = &report["likely_original"];
    assert_eq!(
        original["evidence"]["kind"], "archived_identical_bytes",
        "{report}"
    );
    assert_eq!(original["match_rank"], 1);
    assert_eq!(
        report["timeline"][0]["at"], "2010-01-01T00:00:00Z",
        "oldest first"
    );
    let near = report["matches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "near_duplicate")
        .expect("the small copy");
    let small = &near["sightings"][0]["archive"];
    assert!(
        small.get("identical_bytes").is_none(),
        "other bytes: {small}"
    );
    assert_eq!(small["image"]["at"], "2010-01-01T00:00:00Z");
    let asked = world.hits("/cdx/search/cdx");
    assert_eq!(asked, 4, "two postings, image and page each");
    assert!(
        report["notes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| !n.as_str().unwrap().contains("archive")),
        "{report}"
    );

    // Asked once: the kept answers serve the next match, also offline and
    // with the archive gone.
    world.put("/cdx/search/cdx", Served::status(503));
    let again = match_json(dir.path(), &suspect, &["--offline"], &env).await;
    assert_eq!(again["matches"][0]["sightings"][0]["archive"], *archive);
    let again = match_json(dir.path(), &suspect, &[], &env).await;
    assert_eq!(again["matches"][0]["sightings"][0]["archive"], *archive);
    assert_eq!(world.hits("/cdx/search/cdx"), asked);

    // --no-archive leaves it out.
    let off = match_json(dir.path(), &suspect, &["--no-archive"], &env).await;
    assert!(off["matches"][0]["sightings"][0].get("archive").is_none());

    // The Markdown report shows it.
    let text = markdown_report(&first_reports);
    assert!(
        text.contains("identical bytes archived 2012-03-01 00:00 UTC"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_or_throttling_archive_is_a_note_not_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let photos = photos();
    let (world, suspect, env) = world_with_postings(dir.path(), &photos).await;
    world.put(
        "/cdx/search/cdx",
        Served::ok("text/html", "<html>busy</html>"),
    );
    let report = match_json(dir.path(), &suspect, &[], &env).await;
    assert_eq!(report["matches"][0]["kind"], "exact_copy");
    let notes: Vec<&str> = report["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("web archive dates are missing for 4 URL(s)")),
        "{notes:?}"
    );
    assert!(report["matches"][0]["sightings"][0]
        .get("archive")
        .is_none());

    // Throttled: asked once, then left alone for the rest of the match.
    world.put(
        "/cdx/search/cdx",
        Served::status(429).with_header("retry-after", "0"),
    );
    let before = world.hits("/cdx/search/cdx");
    let report = match_json(dir.path(), &suspect, &[], &env).await;
    assert_eq!(
        world.hits("/cdx/search/cdx") - before,
        3,
        "one URL, three attempts; no other URL asked"
    );
    assert!(
        report["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("asks us to slow down")),
        "{report}"
    );

    // A budget: one posting, the rest counted.
    world.put(
        "/cdx/search/cdx",
        Served::ok("application/json", cdx_answer(&photos.a)),
    );
    let report = match_json(dir.path(), &suspect, &["--archive-max", "1"], &env).await;
    assert!(
        report["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("1 more were left out")),
        "{report}"
    );
}
