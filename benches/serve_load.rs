//! Concurrent uploads to `provenance serve`: the real server (the library
//! entry the binary runs) on loopback over a real SQLite store of N
//! pictures (`common/store.rs`), C uploads of real edited photos sent at
//! once through `POST /api/v1/match`, each timed from send to the whole
//! report. Peak RSS is the process's (server and client), reset before
//! the burst. Under `cargo test` only a 300-picture, 8-upload smoke run,
//! which fails unless every upload is answered with its original first.
//!
//! ```text
//! cargo bench --bench serve_load -- [PICTURES ...]     # default 10000, 50 uploads
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use provenance::fetch::{FetchSettings, Fetcher};
use provenance::lookup::{LookupOptions, MatchIndex};
use provenance::serve::{self, AppState, ServeSettings};

#[path = "common/store.rs"]
mod store;
#[path = "common/synthetic.rs"]
mod synthetic;

use store::{jpeg, store_of, Result};
use synthetic::{edits, ORIGINALS};

/// The process's peak resident memory since the last reset, MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Starts counting the peak anew (Linux: `5` to `clear_refs`).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn percentile(times: &mut [Duration], q: f64) -> Duration {
    times.sort();
    times[((times.len() - 1) as f64 * q).round() as usize]
}

struct Outcome {
    answered: usize,
    found_first: usize,
}

async fn run(pictures: usize, uploads: usize) -> Result<Outcome> {
    let (store, originals) = store_of(pictures).await?;
    let store: Arc<dyn provenance::store::Store> = Arc::new(store);
    let index = MatchIndex::default();
    index.refresh(&*store).await?;
    let cases = tempfile::tempdir()?;
    let settings = ServeSettings {
        token: None,
        loopback_only: true,
        upload_max_bytes: 32 * 1024 * 1024,
        max_concurrent_matches: std::thread::available_parallelism().map_or(2, |n| n.get()),
        request_timeout: Duration::from_secs(600),
        lookup: LookupOptions::default(),
        cases_dir: cases.path().to_path_buf(),
        scans: provenance::scan::ScanOptions::default(),
        watching: None,
    };
    let fetcher = Fetcher::new(FetchSettings::default())?;
    let state = AppState::new(
        settings,
        store,
        None,
        index,
        fetcher,
        Arc::new(|_: &str| None),
    )?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(serve::serve(listener, state, std::future::pending()));

    let client = reqwest::Client::new();
    let session: serde_json::Value = client
        .get(format!("{base}/api/v1/session"))
        .send()
        .await?
        .json()
        .await?;
    let csrf = session["csrf_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let queries: Vec<(i64, Vec<u8>)> = (0..ORIGINALS)
        .flat_map(|i| edits(i).map(|edit| (originals[i], jpeg(&edit))))
        .collect();
    let upload = |n: usize| {
        let (original, bytes) = queries[n % queries.len()].clone();
        let (client, url, csrf) = (client.clone(), format!("{base}/api/v1/match"), csrf.clone());
        async move {
            let form = reqwest::multipart::Form::new().part(
                "image",
                reqwest::multipart::Part::bytes(bytes).file_name(format!("q{n}.jpg")),
            );
            let started = Instant::now();
            let response = client
                .post(url)
                .header("X-CSRF-Token", csrf)
                .multipart(form)
                .send()
                .await;
            let report: Option<serde_json::Value> = match response {
                Ok(r) if r.status().is_success() => r.json().await.ok(),
                _ => None,
            };
            let first = report
                .as_ref()
                .is_some_and(|r| r["matches"][0]["image"]["id"] == original);
            (started.elapsed(), report.is_some(), first)
        }
    };
    // Warm-up: one upload alone.
    upload(0).await;
    reset_peak_rss();
    let started = Instant::now();
    let results = futures::future::join_all((0..uploads).map(upload)).await;
    let wall = started.elapsed();
    let mut times: Vec<Duration> = results.iter().map(|r| r.0).collect();
    let answered = results.iter().filter(|r| r.1).count();
    let found_first = results.iter().filter(|r| r.2).count();
    println!(
        "| {pictures} | {uploads} | {answered} of {uploads} | {found_first} | {:.0} ms | {:.0} ms | {:.0} ms | {:.1} s | {:.0} MiB |",
        percentile(&mut times, 0.5).as_secs_f64() * 1e3,
        percentile(&mut times, 0.99).as_secs_f64() * 1e3,
        times.iter().max().unwrap_or(&Duration::ZERO).as_secs_f64() * 1e3,
        wall.as_secs_f64(),
        peak_rss_mib()
    );
    Ok(Outcome {
        answered,
        found_first,
    })
}

fn main() -> Result<()> {
    let (sizes, benching) = synthetic::sizes(&[10_000], &[300]);
    let uploads = if benching { 50 } else { 8 };
    let runtime = tokio::runtime::Runtime::new()?;
    println!("| pictures | uploads at once | answered | original first | p50 | p99 | max | wall | peak RSS |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for pictures in sizes {
        let outcome = runtime.block_on(run(pictures, uploads))?;
        if outcome.answered < uploads || (!benching && outcome.found_first * 10 < uploads * 9) {
            return Err(format!(
                "{} of {uploads} answered, {} with the original first",
                outcome.answered, outcome.found_first
            )
            .into());
        }
    }
    Ok(())
}
