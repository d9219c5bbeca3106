//! Whole matches at store sizes the evaluation set does not reach: a real
//! SQLite store of N pictures, each query decoded and looked up through
//! `lookup::find_image` exactly as `provenance match` runs it, hash-only.
//! Under `cargo test` only a 300-picture smoke run.
//!
//! ```text
//! cargo bench --bench whole_match -- [PICTURES ...]     # default 100000
//! ```
//!
//! The stored pictures are the fixture originals (analysed as the scan
//! does) among synthetic ones (`common/synthetic.rs`: real keypoints mixed
//! and turned, their copy-index terms, random perceptual hashes, one
//! sighting each). The store is built once per size under the system's
//! temporary directory and reused. Queries are JPEG files of real edits of
//! the originals; the time is the whole match: decoding the query, its
//! hashes and keypoints, the candidates, verification and the report.

use std::time::{Duration, Instant};

use provenance::lookup::{find_image, LookupOptions, MatchIndex, QueryPicture};

#[path = "common/store.rs"]
mod store;
#[path = "common/synthetic.rs"]
mod synthetic;

use store::{jpeg, store_of};
use synthetic::{edits, ORIGINALS};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn percentile(times: &mut [Duration], q: f64) -> Duration {
    times.sort();
    times[((times.len() - 1) as f64 * q).round() as usize]
}

/// Runs the queries against a store of `pictures`; returns how many of
/// the timed ones found their original first.
async fn run(pictures: usize) -> Result<(usize, usize)> {
    let (store, originals) = store_of(pictures).await?;
    let index = MatchIndex::default();
    let started = Instant::now();
    index.refresh(&store).await?;
    let loaded = started.elapsed();
    let options = LookupOptions::default();
    let queries: Vec<(i64, Vec<u8>)> = (0..ORIGINALS)
        .flat_map(|i| edits(i).map(|edit| (originals[i], jpeg(&edit))))
        .collect();
    // One warm-up pass, then three timed ones.
    let mut times = Vec::new();
    let mut first = 0;
    for pass in 0..4 {
        for (original, bytes) in &queries {
            let started = Instant::now();
            let query = QueryPicture::decode("query", bytes, &options.decode_limits)?;
            let report = find_image(&store, None, &index, &query, &options).await?;
            let took = started.elapsed();
            if pass > 0 {
                times.push(took);
                let found = report.matches.first();
                if found.is_some_and(|m| m.image.id == *original && m.kind.is_same_picture()) {
                    first += 1;
                }
            }
        }
    }
    let timed = times.len();
    println!(
        "| {pictures} | {:.1} s | {:.1} ms | {:.1} ms | {} of {timed} |",
        loaded.as_secs_f64(),
        percentile(&mut times, 0.5).as_secs_f64() * 1e3,
        percentile(&mut times, 0.95).as_secs_f64() * 1e3,
        first
    );
    Ok((first, timed))
}

fn main() -> Result<()> {
    let (sizes, benching) = synthetic::sizes(&[100_000], &[300]);
    let runtime = tokio::runtime::Runtime::new()?;
    println!("| pictures | index loaded | whole match p50 | p95 | originals found first |");
    println!("|---:|---:|---:|---:|---:|");
    for pictures in sizes {
        let (first, timed) = runtime.block_on(run(pictures))?;
        // The smoke run is a test too: the originals must be found.
        if !benching && first * 10 < timed * 9 {
            return Err(format!("only {first} of {timed} originals found first").into());
        }
    }
    Ok(())
}
