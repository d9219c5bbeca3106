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

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use provenance::copy_index::{Terms, TERMS_KIND};
use provenance::decode::DecodeLimits;
use provenance::lookup::{find_image, LookupOptions, MatchIndex, QueryPicture};
use provenance::model::{ImageFeatures, NewImage, NewSighting, PerceptualHash};
use provenance::scan::analyse::analyse;
use provenance::store::{SqliteStore, Store};
use provenance::verify::{self, Features};

#[path = "common/synthetic.rs"]
mod synthetic;

use synthetic::{base_features, edits, Rng, ORIGINALS, PHOTOS};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn jpeg(image: &image::DynamicImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .to_rgb8()
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("JPEG encoding");
    out.into_inner()
}

/// The originals, analysed and stored as the scan stores them; returns
/// their ids.
async fn store_originals(store: &SqliteStore) -> Result<Vec<i64>> {
    let mut ids = Vec::new();
    for name in PHOTOS {
        let bytes = jpeg(&synthetic::photo(name));
        let a = analyse(&bytes, &DecodeLimits::default(), None)?;
        let id = store
            .upsert_image(&NewImage {
                sha256: provenance::hash::sha256(&bytes),
                perceptual_hashes: a.hashes,
                width: a.width,
                height: a.height,
                format: a.format,
                byte_size: bytes.len() as u64,
                exif: a.exif,
                thumbnail: a.thumbnail,
                features: a.features,
                seen_at: Utc::now(),
            })
            .await?
            .id;
        sighting(store, id).await?;
        ids.push(id);
    }
    Ok(ids)
}

async fn sighting(store: &SqliteStore, id: i64) -> Result<()> {
    store
        .upsert_sighting(&NewSighting {
            image_id: id,
            image_url: format!("https://example.org/{id}.jpg"),
            seen_at: Utc::now(),
            ..NewSighting::default()
        })
        .await?;
    Ok(())
}

/// A synthetic picture as the scan would store it.
fn synthetic_image(n: u64, features: &Features, hash_kinds: &[String], rng: &mut Rng) -> NewImage {
    let mut sha256 = [0u8; 32];
    sha256[..8].copy_from_slice(&n.to_le_bytes());
    sha256[8..16].copy_from_slice(&rng.next().to_le_bytes());
    NewImage {
        sha256,
        perceptual_hashes: hash_kinds
            .iter()
            .map(|kind| PerceptualHash {
                kind: kind.clone(),
                bits: rng.next().to_le_bytes().to_vec(),
            })
            .collect(),
        width: 1024,
        height: 768,
        format: "jpeg".into(),
        byte_size: 150_000,
        exif: Default::default(),
        thumbnail: None,
        features: vec![
            ImageFeatures {
                kind: verify::FEATURE_KIND.into(),
                bytes: verify::encode(features),
            },
            ImageFeatures {
                kind: TERMS_KIND.into(),
                bytes: Terms::of(features).encode(),
            },
        ],
        seen_at: Utc::now(),
    }
}

/// The store of `pictures` pictures (built unless already there) and the
/// originals' ids.
async fn store_of(pictures: usize) -> Result<(SqliteStore, Vec<i64>)> {
    let dir: PathBuf = std::env::temp_dir().join(format!("provenance-whole-match-{pictures}"));
    let path = dir.join("provenance.sqlite3");
    let complete = dir.join("complete");
    if !complete.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
    }
    let store = SqliteStore::open(&path).await?;
    if complete.exists() {
        let ids = (1..=PHOTOS.len() as i64).collect();
        return Ok((store, ids));
    }
    let started = Instant::now();
    let ids = store_originals(&store).await?;
    let mut rng = Rng(0x00C0_FFEE_1234_5678);
    let bases = base_features(&mut rng);
    let kinds: Vec<String> = provenance::hash::perceptual_hashes(&synthetic::photo(PHOTOS[0]))
        .into_iter()
        .map(|h| h.kind)
        .collect();
    for n in PHOTOS.len()..pictures {
        let features = synthetic::synthetic(&bases, &mut rng);
        let image = synthetic_image(n as u64, &features, &kinds, &mut rng);
        let id = store.upsert_image(&image).await?.id;
        sighting(&store, id).await?;
        if (n + 1) % 10_000 == 0 {
            eprintln!("{} of {pictures} pictures stored", n + 1);
        }
    }
    std::fs::write(&complete, b"")?;
    eprintln!("store of {pictures} built in {:.0?}", started.elapsed());
    Ok((store, ids))
}

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
