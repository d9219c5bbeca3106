//! Shared helpers of the hostile-input suite (`tests/hostile_*.rs`): the
//! binary runner of `common::binary`, reading back what it recorded
//! (`db failures`, `db status`), and building search answers that point at
//! any loopback URL. The hostile servers live in [`host`], the hostile
//! images in [`images`].
#![allow(dead_code)]

pub mod host;
pub mod images;
pub mod pg;

use std::path::Path;

#[allow(unused_imports)]
pub use crate::common::binary::{command, json, run, stderr, stdout};

/// Fetch flags that keep hostile cases fast: short timeouts, one retry.
pub const FAST_FETCH: [&str; 10] = [
    "--timeout",
    "3",
    "--read-timeout",
    "1",
    "--retries",
    "1",
    "--per-host",
    "16",
    "--embedder",
    "none",
];

/// The environment pointing at a store: SQLite in `dir` or `database_url`.
pub fn store_env(database_url: Option<&str>) -> Vec<(&'static str, String)> {
    database_url
        .map(|url| vec![("DATABASE_URL", url.to_string())])
        .unwrap_or_default()
}

/// Every recorded failure, through `provenance db failures --format json`.
pub async fn failures(dir: &Path, env: &[(&str, String)]) -> Vec<serde_json::Value> {
    let out = run(
        dir,
        &["db", "failures", "--limit", "100000", "--format", "json"],
        env,
    )
    .await;
    json(&out).as_array().expect("a JSON array").clone()
}

/// The recorded failure of `url`; panics with the whole list when none.
pub fn failure_of<'a>(failures: &'a [serde_json::Value], url: &str) -> &'a serde_json::Value {
    failures
        .iter()
        .find(|f| f["url"] == url)
        .unwrap_or_else(|| panic!("no failure recorded for {url}: {failures:#?}"))
}

/// Asserts that `url` failed at `stage` with a reason containing `words`.
pub fn assert_failed(failures: &[serde_json::Value], url: &str, stage: &str, words: &str) {
    let failure = failure_of(failures, url);
    assert_eq!(failure["stage"], stage, "{url}: {failure}");
    let reason = failure["reason"].as_str().unwrap_or_default();
    assert!(
        reason.to_lowercase().contains(&words.to_lowercase()),
        "{url}: reason {reason:?} should mention {words:?}"
    );
}

/// `provenance db status --format json`.
pub async fn status(dir: &Path, env: &[(&str, String)]) -> serde_json::Value {
    json(&run(dir, &["db", "status", "--format", "json"], env).await)
}

/// A SearXNG JSON answer listing `(image URL, page URL, title)` results.
pub fn searxng_answer(results: &[(String, String, String)]) -> Vec<u8> {
    let results: Vec<_> = results
        .iter()
        .map(|(image, page, title)| {
            serde_json::json!({
                "template": "images.html",
                "url": page,
                "title": title,
                "img_src": image,
                "thumbnail_src": image,
                "engine": "test",
                "category": "images",
            })
        })
        .collect();
    serde_json::to_vec(
        &serde_json::json!({"query": "q", "number_of_results": results.len(), "results": results}),
    )
    .expect("serialise")
}
