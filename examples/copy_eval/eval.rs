//! `copy_eval eval DIR`: every query against every stored picture with
//! each method's evidence, then recall@1 and label precision per
//! transformation, as a Markdown table on stdout.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use provenance::decode::{decode, DecodeLimits};
use provenance::embed::{ClipEmbedder, Embedder, ModelSettings};
use provenance::hash::{hash_distance, perceptual_hashes, sha256};
use provenance::model::PerceptualHash;
use provenance::verify::{self, Features, QueryFeatures, VerifySettings};

use crate::report;

/// What is stored for one picture of the index.
pub struct Stored {
    pub name: String,
    pub sha: [u8; 32],
    pub hashes: Vec<PerceptualHash>,
    pub features: Features,
    pub embedding: Vec<f32>,
}

/// One query with its ground truth and its evidence against every stored
/// picture (same order as the index).
pub struct QueryResult {
    pub transform: String,
    pub original: usize,
    pub same_bytes: Vec<bool>,
    pub distances: Vec<Option<u32>>,
    pub similarities: Vec<f32>,
    pub inliers: Vec<usize>,
    pub hash_time: Duration,
    pub feature_time: Duration,
    pub verify_time: Duration,
}

/// Runs the evaluation of the set in `dir`.
pub fn run(dir: &Path, clip_dir: &Path, settings: &VerifySettings, shortlist: usize) -> Result<()> {
    let embedder = tiny_clip(clip_dir)?;
    let started = Instant::now();
    let mut names: Vec<String> = std::fs::read_dir(dir.join("index"))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    let index = index_all(dir, &names, &embedder, settings)?;
    let index_time = started.elapsed();
    eprintln!("indexed {} pictures in {index_time:.1?}", index.len());
    let manifest = std::fs::read_to_string(dir.join("manifest.tsv"))?;
    let rows: Vec<(String, String, usize)> = manifest
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split('\t');
            let (q, t, o) = (f.next()?, f.next()?, f.next()?);
            let original = names.iter().position(|n| n == o)?;
            Some((q.to_owned(), t.to_owned(), original))
        })
        .collect();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let results = parallel(&rows, |(query, transform, original)| {
        let path = dir.join("queries").join(query);
        let result = evaluate_query(&path, transform, *original, &index, &embedder, settings);
        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if n.is_multiple_of(25) {
            eprintln!("{n}/{} queries, {:.0?}", rows.len(), started.elapsed());
        }
        result
    })?;
    report::print(&results, &index, settings, shortlist, index_time);
    Ok(())
}

fn tiny_clip(dir: &Path) -> Result<ClipEmbedder> {
    let settings = ModelSettings {
        precision: Default::default(),
        batch_size: 16,
        ..ModelSettings::local(dir.to_path_buf())
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().build()?;
    Ok(runtime.block_on(ClipEmbedder::load(&settings, &|_| {}))?)
}

fn index_all(
    dir: &Path,
    names: &[String],
    embedder: &ClipEmbedder,
    settings: &VerifySettings,
) -> Result<Vec<Stored>> {
    parallel(names, |name| {
        let path: PathBuf = dir.join("index").join(name);
        let bytes = std::fs::read(&path).with_context(|| path.display().to_string())?;
        let image = decode(&bytes, &DecodeLimits::default())?.image;
        // Through the stored form, as `match` would read it back.
        let stored = verify::encode(&verify::extract(&image, settings.max_keypoints));
        Ok(Stored {
            name: name.clone(),
            sha: sha256(&bytes),
            hashes: perceptual_hashes(&image),
            features: verify::decode(&stored)?,
            embedding: embedder
                .embed_images(std::slice::from_ref(&image))?
                .remove(0),
        })
    })
}

fn evaluate_query(
    path: &Path,
    transform: &str,
    original: usize,
    index: &[Stored],
    embedder: &ClipEmbedder,
    settings: &VerifySettings,
) -> Result<QueryResult> {
    let bytes = std::fs::read(path).with_context(|| path.display().to_string())?;
    let image = decode(&bytes, &DecodeLimits::default())?.image;
    let sha = sha256(&bytes);
    let clock = Instant::now();
    let hashes = perceptual_hashes(&image);
    let hash_time = clock.elapsed();
    let clock = Instant::now();
    let features = QueryFeatures::new(&image, settings);
    let feature_time = clock.elapsed();
    let embedding = embedder
        .embed_images(std::slice::from_ref(&image))?
        .remove(0);
    let clock = Instant::now();
    let inliers = index
        .iter()
        .map(|s| verify::verify(&features, &s.features, settings).inliers)
        .collect();
    let verify_time = clock.elapsed();
    Ok(QueryResult {
        transform: transform.to_owned(),
        original,
        same_bytes: index.iter().map(|s| s.sha == sha).collect(),
        distances: index
            .iter()
            .map(|s| hash_distance(&hashes, &s.hashes))
            .collect(),
        similarities: index
            .iter()
            .map(|s| s.embedding.iter().zip(&embedding).map(|(a, b)| a * b).sum())
            .collect(),
        inliers,
        hash_time,
        feature_time,
        verify_time,
    })
}

/// Worker threads (0: one per core); `--threads` sets it.
pub static THREADS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Maps `work` over `items` on [`THREADS`] threads, keeping the order.
pub fn parallel<T: Sync, R: Send>(
    items: &[T],
    work: impl Fn(&T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let threads = match THREADS.load(std::sync::atomic::Ordering::Relaxed) {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(|| part.iter().map(&work).collect::<Result<Vec<R>>>()))
            .collect();
        let mut all = Vec::with_capacity(items.len());
        for handle in handles {
            all.extend(
                handle
                    .join()
                    .map_err(|_| anyhow::anyhow!("worker panicked"))??,
            );
        }
        Ok(all)
    })
}
