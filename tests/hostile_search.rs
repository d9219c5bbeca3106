//! Hostile search APIs at the scan level: malformed JSON, results with
//! missing or mistyped fields, 10,000 results, emoji and very long
//! keyphrases, and a rejected key. The scan must fail (or go on) with a
//! clear message, an exit code the CLI documents, and never print the key.

mod common;
mod hostile;

use std::path::Path;

use common::world::{Served, World};
use hostile::images;
use provenance::config::StoreLocation;

async fn search_returning(body: impl Into<Vec<u8>>) -> World {
    let world = World::start().await;
    world.put("/search", Served::ok("application/json", body));
    world
}

/// `scan poster` against `world` answering `answer` as SearXNG, loopback
/// allowed: the JSON summary (the run must succeed).
async fn scan_answer(dir: &Path, world: &World, answer: &serde_json::Value) -> serde_json::Value {
    world.put(
        "/search",
        Served::ok("application/json", answer.to_string()),
    );
    let env = vec![("SEARXNG_URL", world.url("/"))];
    let args = scan_args("poster", &["--allow-private-addresses"]);
    hostile::json(&hostile::run(dir, &args, &env).await)
}

/// The stored sightings of the picture at `url`, in the store of `dir`.
async fn sightings_of(dir: &Path, url: &str) -> Vec<provenance::model::SightingRecord> {
    let location = StoreLocation::resolve(None, &dir.join("data")).unwrap();
    let store = provenance::store::open(&location).await.unwrap();
    let id = store.image_by_url(url).await.unwrap().unwrap();
    store.sightings(id).await.unwrap()
}

fn scan_args<'a>(keyphrase: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "scan",
        keyphrase,
        "--provider",
        "searxng",
        "--format",
        "json",
    ];
    args.extend(hostile::FAST_FETCH);
    args.extend(extra);
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_fails_the_scan_clearly() {
    for body in [
        &b"{\"results\": [{\"img_src\": \"http://a/"[..],
        b"<html>502 Bad Gateway</html>",
        b"",
        b"[1, 2, 3]",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let world = search_returning(body).await;
        let env = vec![("SEARXNG_URL", world.url("/"))];
        let out = hostile::run(dir.path(), &scan_args("poster", &[]), &env).await;
        let err = hostile::stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("searxng"), "names the provider: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(hostile::stdout(&out).is_empty(), "no summary on failure");
    }
}

/// Results without a usable image URL are skipped and counted
/// (`dropped_results`, issue 19: they used to leave no trace); a title of
/// the wrong type costs the title, not the result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_with_missing_or_mistyped_fields_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::start().await;
    world.put(
        "/ok.jpg",
        Served::ok("image/jpeg", images::jpeg(30, 30, 31)),
    );
    world.put(
        "/mistyped.jpg",
        Served::ok("image/jpeg", images::jpeg(30, 30, 32)),
    );
    let answer = serde_json::json!({
        "query": "poster",
        "results": [
            {},
            {"img_src": 42, "url": ["not", "a", "string"]},
            {"img_src": "", "title": null},
            {"img_src": "javascript:alert(1)"},
            {"img_src": "file:///etc/passwd"},
            {"url": world.url("/page.html"), "title": "no image"},
            {"img_src": world.url("/mistyped.jpg"), "title": {"nested": true}},
            {"img_src": world.url("/ok.jpg"), "resolution": "huge x tiny", "title": "fine"},
            "just a string",
            null
        ]
    });
    let summary = scan_answer(dir.path(), &world, &answer).await;
    assert_eq!(summary["candidates"], 2, "{summary}");
    assert_eq!(summary["new_images"], 2, "{summary}");
    assert_eq!(summary["dropped_results"], 8, "{summary}");
    assert_eq!((world.hits("/ok.jpg"), world.hits("/mistyped.jpg")), (1, 1));
    let kept = sightings_of(dir.path(), &world.url("/mistyped.jpg")).await;
    assert_eq!(kept.len(), 1, "the result with a mistyped title is kept");

    // People read the same count in the human summary.
    let env = vec![("SEARXNG_URL", world.url("/"))];
    let args = scan_args("poster", &["--allow-private-addresses", "--refresh"]);
    let args: Vec<&str> = args
        .into_iter()
        .filter(|a| !matches!(*a, "--format" | "json"))
        .collect();
    let out = hostile::run(dir.path(), &args, &env).await;
    let said = common::binary::stderr(&out);
    assert!(
        said.contains("8 results left out of the search answers"),
        "{said}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_results_are_taken_up_to_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::start().await;
    // Non-routable documentation addresses: refused by the SSRF guard
    // without a connection, so 10,000 candidates cost no network at all.
    let results: Vec<_> = (0..10_000)
        .map(|i| {
            (
                format!("http://10.{}.{}.1/img/{i}.jpg", i / 256, i % 256),
                format!("http://10.0.0.1/page/{i}.html"),
                format!("result {i}"),
            )
        })
        .collect();
    world.put(
        "/search",
        Served::ok("application/json", hostile::searxng_answer(&results)),
    );
    let env = vec![("SEARXNG_URL", world.url("/"))];
    let summary = hostile::json(
        &hostile::run(
            dir.path(),
            &scan_args("everything", &["--max-results", "2500"]),
            &env,
        )
        .await,
    );
    assert_eq!(summary["candidates"], 2500, "{summary}");
    assert_eq!(summary["failed"], 2500, "{summary}");
    let status = hostile::status(dir.path(), &[]).await;
    assert_eq!(status["failures"], 2500, "{status}");
    assert_eq!(status["images"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emoji_and_very_long_keyphrases_are_sent_and_stored_intact() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::start().await;
    world.put(
        "/ok.jpg",
        Served::ok("image/jpeg", images::jpeg(30, 30, 32)),
    );
    world.put(
        "/search",
        Served::ok(
            "application/json",
            hostile::searxng_answer(&[(world.url("/ok.jpg"), world.url("/p"), "t".into())]),
        ),
    );
    let keyphrase = format!(
        "🎉 Fête « poster » 東京 \u{202E}evil\u{202C} 'quote\" & {}",
        "very long ".repeat(400)
    );
    let env = vec![("SEARXNG_URL", world.url("/"))];
    let summary = hostile::json(
        &hostile::run(
            dir.path(),
            &scan_args(&keyphrase, &["--allow-private-addresses"]),
            &env,
        )
        .await,
    );
    assert_eq!(summary["new_images"], 1, "{summary}");
    assert!(world.hits("/search") >= 1);
    let sightings = sightings_of(dir.path(), &world.url("/ok.jpg")).await;
    assert_eq!(sightings[0].keyphrase.as_deref(), Some(keyphrase.as_str()));
}

/// Issue 19 defect: "a title without a valid page link is stored as NULL
/// (keep it)". A result whose page link is unusable keeps its title on the
/// page-less sighting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_title_without_a_valid_page_link_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::start().await;
    world.put(
        "/ok.jpg",
        Served::ok("image/jpeg", images::jpeg(30, 30, 33)),
    );
    let answer = serde_json::json!({"query": "poster", "results": [{
        "img_src": world.url("/ok.jpg"),
        "url": "javascript:alert(1)",
        "title": "Festival poster 2026"
    }]});
    let summary = scan_answer(dir.path(), &world, &answer).await;
    assert_eq!(summary["new_images"], 1, "{summary}");
    let sightings = sightings_of(dir.path(), &world.url("/ok.jpg")).await;
    assert_eq!(sightings.len(), 1);
    assert_eq!(sightings[0].page_url, None);
    assert_eq!(
        sightings[0].page_title.as_deref(),
        Some("Festival poster 2026")
    );
}

const FAKE_KEY: &str = "sk-hostile-FAKE-0123456789abcdef";

async fn wrong_key(provider: &str, variable: &str, base_variable: &str, path: &str, dir: &Path) {
    let world = World::start().await;
    let body = serde_json::json!({"error": format!("Invalid API key: {FAKE_KEY}")});
    world.put(path, Served::ok("application/json", body.to_string()));
    world.put(
        path,
        Served {
            status: 401,
            ..Served::ok("application/json", body.to_string())
        },
    );
    let env = vec![
        (variable, FAKE_KEY.to_string()),
        (base_variable, world.url("/")),
    ];
    let args = [
        "-vvv",
        "scan",
        "poster",
        "--provider",
        provider,
        "--search-retries",
        "1",
        "--embedder",
        "none",
    ];
    let out = hostile::run(dir, &args, &env).await;
    let err = hostile::stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{provider}: {err}");
    assert!(err.contains("HTTP 401"), "{provider}: {err}");
    assert!(world.hits(path) >= 1, "{provider} was asked");
    assert!(!err.contains(FAKE_KEY), "{provider} leaked the key: {err}");
    assert!(!hostile::stdout(&out).contains(FAKE_KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_is_a_clear_error_that_never_shows_the_key() {
    let dir = tempfile::tempdir().unwrap();
    wrong_key(
        "serpapi",
        "SERPAPI_API_KEY",
        "PROVENANCE_SERPAPI_URL",
        "/search.json",
        dir.path(),
    )
    .await;
    wrong_key(
        "brave",
        "BRAVE_API_KEY",
        "PROVENANCE_BRAVE_URL",
        "/res/v1/images/search",
        dir.path(),
    )
    .await;
    wrong_key(
        "serper",
        "SERPER_API_KEY",
        "PROVENANCE_SERPER_URL",
        "/images",
        dir.path(),
    )
    .await;
}

/// Regression: a JSON answer that is not an object (`[1, 2, 3]`, `"ok"`)
/// was read as an empty page, so a wrong base URL looked like "no results".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_answer_that_is_not_an_object_is_malformed_not_empty() {
    for body in ["[1, 2, 3]", "\"ok\"", "42", "null"] {
        let dir = tempfile::tempdir().unwrap();
        let world = search_returning(body).await;
        let env = vec![("SEARXNG_URL", world.url("/"))];
        let out = hostile::run(dir.path(), &scan_args("poster", &[]), &env).await;
        let err = hostile::stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{body}: {err}");
        assert!(err.contains("not the expected JSON"), "{body}: {err}");
    }
}

/// Issue 19 defect: "No cap on URL length" — a 7 MiB image URL in an API
/// answer was fetched three times, stored, and printed whole by `db
/// failures`; a 1 MiB line of a URL list was echoed in full; a 100 KB
/// keyphrase failed as "could not reach … check the network".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_and_keyphrases_longer_than_8_kib_are_refused_at_intake() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::start().await;
    world.put(
        "/ok.jpg",
        Served::ok("image/jpeg", images::jpeg(30, 30, 34)),
    );
    let huge = format!("{}?{}", world.url("/huge.jpg"), "a".repeat(7 << 20));
    let answer = serde_json::json!({"query": "poster", "results": [
        {"img_src": huge, "url": world.url("/p"), "title": "huge"},
        {"img_src": world.url("/ok.jpg"), "url": world.url("/p"), "title": "fine"}
    ]});
    let summary = scan_answer(dir.path(), &world, &answer).await;
    assert_eq!(summary["candidates"], 1, "{summary}");
    assert_eq!(summary["new_images"], 1, "{summary}");
    assert_eq!(world.hits("/huge.jpg"), 0, "never fetched");
    let store_bytes = std::fs::metadata(dir.path().join("data/provenance.sqlite3"))
        .unwrap()
        .len();
    assert!(store_bytes < 2 << 20, "nothing huge stored: {store_bytes}");

    // A URL list with a 1 MiB line: named with its size, not echoed.
    let list = dir.path().join("urls.txt");
    std::fs::write(
        &list,
        format!(
            "{}\n{}\n",
            "https://e.example/".repeat(60_000),
            world.url("/ok.jpg")
        ),
    )
    .unwrap();
    let mut args = vec![
        "scan",
        "--urls",
        list.to_str().unwrap(),
        "--allow-private-addresses",
        "--format",
        "json",
    ];
    args.extend(hostile::FAST_FETCH);
    let out = hostile::run(dir.path(), &args, &[]).await;
    let err = hostile::stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("longer than the 8192-byte limit"), "{err}");
    assert!(
        err.len() < 10_000,
        "the line is not echoed: {} bytes",
        err.len()
    );

    // A 100 KB keyphrase: exit 2, saying why.
    let words = "poster ".repeat(15_000);
    let env = [("SEARXNG_URL", world.url("/"))];
    let out = hostile::run(dir.path(), &scan_args(&words, &[]), &env).await;
    let err = hostile::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("at most 8192 are sent"), "{err}");
    assert!(err.len() < 10_000, "{} bytes", err.len());
}

/// Issue 19 defect: "A search API that never answers takes 6 minutes to
/// fail (4 × 90 s)": a timed-out request was retried like a 5xx. It now
/// fails once its `--search-timeout` has passed, with one request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_api_that_never_answers_fails_after_one_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::start().await;
    world.put(
        "/search",
        Served::ok("application/json", "{}").delayed(std::time::Duration::from_secs(60)),
    );
    let env = vec![("SEARXNG_URL", world.url("/"))];
    let out = hostile::run(
        dir.path(),
        &scan_args(
            "poster",
            &["--search-timeout", "1", "--search-retries", "3"],
        ),
        &env,
    )
    .await;
    let err = hostile::stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("searxng did not answer"), "{err}");
    assert_eq!(world.hits("/search"), 1, "a timeout is not retried");
}
