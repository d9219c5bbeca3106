//! The copy index at store sizes the evaluation set does
//! not reach: how long filing takes, how much memory the postings need, and
//! how long a query's candidate search takes at 10k–1M
//! pictures. Under `cargo test` only a 2,000-picture smoke run.
//!
//! ```text
//! cargo bench --bench copy_index -- [PICTURES ...]     # default 100000 1000000
//! MAX_POSTINGS=N cargo bench --bench copy_index -- 100000   # another work budget
//! ```
//!
//! Pictures are synthetic but their keys are real (`common/synthetic.rs`);
//! queries are real edits of the fixture photos, whose originals are filed
//! among the synthetic ones.

use std::time::{Duration, Instant};

use provenance::copy_index::{CopyIndex, QueryTerms, SearchSettings, Terms, DEFAULT_MAX_POSTINGS};
use provenance::verify::{extract, Features, QueryFeatures, VerifySettings};

#[path = "common/synthetic.rs"]
mod synthetic;

use synthetic::{base_features, edits, photo, Rng, ORIGINALS, PHOTOS};

/// One synthetic picture's terms.
fn synthetic_terms(bases: &[Features], rng: &mut Rng) -> Terms {
    Terms::of(&synthetic::synthetic(bases, rng))
}

/// The real queries: edits of each original.
fn queries() -> Vec<(usize, QueryTerms)> {
    let settings = VerifySettings {
        max_keypoints: 768,
        ..VerifySettings::default()
    };
    let mut out = Vec::new();
    for i in 0..ORIGINALS {
        for edit in edits(i) {
            let features = QueryFeatures::new(&edit, &settings);
            out.push((
                i,
                QueryTerms {
                    plain: Terms::of(&features.plain),
                    mirrored: Terms::of(&features.mirrored),
                },
            ));
        }
    }
    out
}

/// A setting from the environment, for trying values by hand.
fn env_or(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(times: &mut [Duration], q: f64) -> Duration {
    times.sort();
    times[((times.len() - 1) as f64 * q).round() as usize]
}

fn run(pictures: usize, bases: &[Features], queries: &[(usize, QueryTerms)]) {
    let mut rng = Rng(0x00C0_FFEE_1234_5678);
    let started = Instant::now();
    let mut index = CopyIndex::default();
    // The fixture originals first (ids 1..=10), then synthetic pictures.
    for (i, name) in PHOTOS.iter().enumerate() {
        index.insert(i as i64 + 1, &Terms::of(&extract(&photo(name), 256)));
    }
    for id in PHOTOS.len()..pictures {
        index.insert(id as i64 + 1, &synthetic_terms(bases, &mut rng));
    }
    let filed = started.elapsed();
    let lengths = index.list_lengths();
    let postings: usize = lengths.iter().sum();
    let settings = SearchSettings {
        candidates: 50,
        stop_factor: env_or("STOP_FACTOR", 200),
        max_postings: env_or("MAX_POSTINGS", DEFAULT_MAX_POSTINGS as u32) as usize,
        ..SearchSettings::default()
    };
    // One warm-up pass, then the timed ones.
    for (_, q) in queries.iter().take(3) {
        index.candidates(q, &settings);
    }
    let mut times = Vec::new();
    let mut found = 0;
    for (original, q) in queries {
        let started = Instant::now();
        let candidates = index.candidates(q, &settings);
        times.push(started.elapsed());
        if candidates
            .iter()
            .any(|c| c.image_id == *original as i64 + 1)
        {
            found += 1;
        }
    }
    let p50 = percentile(&mut times, 0.5);
    let p95 = percentile(&mut times, 0.95);
    println!(
        "| {pictures} | {:.1} s | {postings} | {:.2} GB | {:.1} ms | {:.1} ms | {found} of {} |",
        filed.as_secs_f64(),
        postings as f64 * 6.0 / 1e9,
        p50.as_secs_f64() * 1e3,
        p95.as_secs_f64() * 1e3,
        queries.len()
    );
}

fn main() {
    let (sizes, _) = synthetic::sizes(&[100_000, 1_000_000], &[2_000]);
    let mut rng = Rng(42);
    let bases = base_features(&mut rng);
    let queries = queries();
    println!("| pictures | filing | postings | postings memory (6 B each) | candidates p50 | p95 | originals among the 50 candidates |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for pictures in sizes {
        run(pictures, &bases, &queries);
    }
}
