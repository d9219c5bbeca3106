//! Shared helpers of the hostile-input suite (`tests/hostile_*.rs`): running
//! the real binary with a clean environment, reading back what it recorded
//! (`db failures`, `db status`), and building search answers that point at
//! any loopback URL. The hostile servers live in [`host`], the hostile
//! images in [`images`].
#![allow(dead_code)]

pub mod host;
pub mod images;
pub mod pg;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

/// Variables that would change what the binary does; cleared for every run.
pub const CLEARED_VARIABLES: [&str; 20] = [
    "DATABASE_URL",
    "SERPAPI_API_KEY",
    "BRAVE_API_KEY",
    "SERPER_API_KEY",
    "SEARXNG_URL",
    "PROVENANCE_FORMAT",
    "PROVENANCE_PROVIDER",
    "PROVENANCE_EMBEDDER",
    "PROVENANCE_SERPAPI_URL",
    "PROVENANCE_BRAVE_URL",
    "PROVENANCE_SERPER_URL",
    "PROVENANCE_DATA_DIR",
    "PROVENANCE_TIMEOUT",
    "PROVENANCE_READ_TIMEOUT",
    "PROVENANCE_RETRIES",
    "PROVENANCE_ALLOW_PRIVATE_ADDRESSES",
    "PROVENANCE_FOLLOW_PAGES",
    "PROVENANCE_MAX_IMAGE_MB",
    "PROVENANCE_MAX_MEGAPIXELS",
    "RUST_LOG",
];

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

/// The command for the binary under test, data in `dir/data`, with a clean
/// environment plus `env`.
pub fn command(dir: &Path, args: &[&str], env: &[(&str, String)]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_provenance"));
    cmd.current_dir(dir)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(args)
        .kill_on_drop(true);
    for name in CLEARED_VARIABLES {
        cmd.env_remove(name);
    }
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd
}

/// Runs the binary to its end (bounded by a generous watchdog).
pub async fn run(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Output {
    let child = command(dir, args, env).output();
    tokio::time::timeout(Duration::from_secs(120), child)
        .await
        .unwrap_or_else(|_| panic!("provenance {args:?} did not finish in 120 s"))
        .expect("run provenance")
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Standard output as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Standard output parsed as JSON; the run must have succeeded.
pub fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        stderr(out)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

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
