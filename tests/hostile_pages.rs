//! Hostile pages with `--follow-pages`, at the scan level: a 50 MB page (read
//! up to the page cap, never further), 200,000 nested tags, 10,000 `<img>`
//! tags (capped per page), and titles carrying `<script>` and quotes, which
//! must come out escaped in every report format of `provenance match`.

mod common;
mod hostile;

use std::time::{Duration, Instant};

use common::world::{Served, World};
use hostile::images;

const EVIL_TITLE: &str =
    r#"</title><script>alert("pwned")</script> "quoted" & 'single' <img src=x onerror=alert(1)>"#;

/// The page cap of the scraper: at most this many images a page.
const MAX_IMAGES_PER_PAGE: usize = 500;

fn big_page(size: usize) -> Vec<u8> {
    let mut page = b"<html><head><title>Big</title></head><body>\
        <img src=\"/img/from-big.jpg\" width=\"300\" height=\"200\">"
        .to_vec();
    let filler = b"<p>lorem ipsum dolor sit amet, consectetur adipiscing elit</p>\n";
    while page.len() < size {
        page.extend_from_slice(filler);
    }
    page.extend_from_slice(
        b"<img src=\"/img/beyond-the-cap.jpg\" width=\"300\" height=\"200\"></body></html>",
    );
    page
}

fn deep_page(depth: usize) -> String {
    format!(
        "<html><head><title>Deep</title></head><body>{}<img src=\"/img/from-deep.jpg\" width=\"300\" height=\"200\">{}</body></html>",
        "<div><span>".repeat(depth / 2),
        "</span></div>".repeat(depth / 2)
    )
}

fn crowded_page(count: usize) -> String {
    let tags: String = (0..count)
        .map(|i| format!("<img src=\"/many/{i}.jpg\" width=\"300\" height=\"200\" alt=\"{i}\">"))
        .collect();
    format!("<html><head><title>Crowded</title></head><body>{tags}</body></html>")
}

async fn page_world() -> World {
    let world = World::start().await;
    world.put(
        "/img/from-big.jpg",
        Served::ok("image/jpeg", images::jpeg(60, 40, 21)),
    );
    world.put(
        "/img/beyond-the-cap.jpg",
        Served::ok("image/jpeg", images::jpeg(60, 40, 22)),
    );
    world.put(
        "/img/from-deep.jpg",
        Served::ok("image/jpeg", images::jpeg(60, 40, 23)),
    );
    world.put(
        "/img/evil.jpg",
        Served::ok("image/jpeg", images::jpeg(60, 40, 24)),
    );
    world.put(
        "/many/7.jpg",
        Served::ok("image/jpeg", images::jpeg(60, 40, 25)),
    );
    world.put(
        "/big.html",
        Served::ok("text/html", big_page(50 * 1024 * 1024)),
    );
    world.put("/deep.html", Served::ok("text/html", deep_page(200_000)));
    world.put("/many.html", Served::ok("text/html", crowded_page(10_000)));
    let evil_page = format!(
        "<html><head><title>{}</title></head><body><img src=\"/img/evil.jpg\" width=\"300\" height=\"200\"></body></html>",
        EVIL_TITLE.replace("</title>", "&lt;/title&gt;")
    );
    world.put("/evil.html", Served::ok("text/html", evil_page));
    let results = [
        ("/img/from-big.jpg", "/big.html", "Big"),
        ("/img/from-deep.jpg", "/deep.html", "Deep"),
        ("/many/7.jpg", "/many.html", "Crowded"),
        ("/img/evil.jpg", "/evil.html", EVIL_TITLE),
    ]
    .map(|(image, page, title)| (world.url(image), world.url(page), title.to_string()));
    world.put(
        "/search",
        Served::ok("application/json", hostile::searxng_answer(&results)),
    );
    world
}

fn contains_string(value: &serde_json::Value, wanted: &str) -> bool {
    match value {
        serde_json::Value::String(s) => s.contains(wanted),
        serde_json::Value::Array(items) => items.iter().any(|v| contains_string(v, wanted)),
        serde_json::Value::Object(map) => map.values().any(|v| contains_string(v, wanted)),
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_deep_and_crowded_pages_are_capped_and_hostile_titles_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let world = page_world().await;
    let env = vec![("SEARXNG_URL", world.url("/"))];
    let mut args = vec![
        "scan",
        "hostile pages",
        "--provider",
        "searxng",
        "--follow-pages",
        "--allow-private-addresses",
        "--format",
        "json",
    ];
    args.extend(hostile::FAST_FETCH);
    let started = Instant::now();
    let summary = hostile::json(&hostile::run(dir.path(), &args, &env).await);
    assert!(
        started.elapsed() < Duration::from_secs(45),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(summary["status"], "completed", "{summary}");
    assert_eq!(
        summary["new_images"], 4,
        "big, deep, many/7, evil: {summary}"
    );
    assert_eq!(
        world.hits("/img/beyond-the-cap.jpg"),
        0,
        "read past the page cap"
    );
    let crowd: usize = (0..10_000)
        .map(|i| world.hits(&format!("/many/{i}.jpg")))
        .sum();
    assert!(
        crowd <= MAX_IMAGES_PER_PAGE + 1,
        "{crowd} images of one page fetched; the cap is {MAX_IMAGES_PER_PAGE}"
    );
    assert!(crowd > 100, "the crowded page was read: {crowd}");
    let failures = hostile::failures(dir.path(), &[]).await;
    assert_eq!(failures.len(), crowd - 1, "one 404 row per missing image");
    assert!(failures.iter().all(|f| f["stage"] == "http-status"));

    // The hostile title, through every report format.
    let suspect = dir.path().join("suspect.jpg");
    std::fs::write(&suspect, images::jpeg(60, 40, 24)).unwrap();
    let reports = dir.path().join("reports");
    let out = hostile::run(
        dir.path(),
        &[
            "match",
            suspect.to_str().unwrap(),
            "--report-dir",
            reports.to_str().unwrap(),
            "--format",
            "json",
        ],
        &[],
    )
    .await;
    let report = hostile::json(&out);
    assert!(
        contains_string(&report, "<script>alert(\"pwned\")</script>"),
        "{report}"
    );
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&reports).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let ext = path.extension().unwrap().to_str().unwrap().to_string();
        match ext.as_str() {
            "json" => {
                let value: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert!(contains_string(
                    &value,
                    EVIL_TITLE.trim_start_matches("</title>")
                ));
            }
            "html" | "md" => {
                for raw in ["<script>alert", "<img src=x", "</title><script"] {
                    assert!(!text.contains(raw), "{ext} report carries raw {raw:?}");
                }
                assert!(
                    text.contains("&lt;script&gt;alert"),
                    "{ext}: title missing or unescaped"
                );
            }
            other => panic!("unexpected report {other}"),
        }
        seen.push(ext);
    }
    seen.sort();
    assert_eq!(seen, ["html", "json", "md"]);
}
