//! Single stages of the scan pipeline, alone, on the same images as the
//! scan: the fetcher (as the fetch stage drives it), the prepare stage's
//! CPU work (decode, hashes, thumbnail, keypoints, model input), and
//! decode + preprocess + CLIP model (embed-only). Each prints one JSON line.

use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;
use std::sync::Mutex;
use std::time::Instant;

use futures::{stream, StreamExt};
use provenance::decode::{decode, DecodeLimits};
use provenance::embed::{ClipEmbedder, DeviceChoice, Embedder, ModelSettings, Precision};
use provenance::fetch::{FetchSettings, Fetcher};
use provenance::scan::analyse::analyse;
use url::Url;

/// Prints a measurement as one JSON line.
fn report(stage: &str, images: usize, failed: usize, bytes: u64, secs: f64) {
    println!(
        "{}",
        serde_json::json!({
            "stage": stage,
            "images": images,
            "failed": failed,
            "megabytes": bytes as f64 / 1e6,
            "secs": secs,
            "images_per_s": images as f64 / secs,
        })
    );
}

/// The image URLs of a URL list (first field of each line).
fn read_urls(path: &Path) -> Result<Vec<Url>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(|u| Url::parse(u).map_err(|e| format!("{u}: {e}")))
        .collect()
}

/// The first `limit` `.jpg` files of `dir`, by name, read into memory.
pub fn read_files(dir: &Path, limit: usize) -> Result<Vec<Vec<u8>>, String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jpg"))
        .collect();
    paths.sort();
    paths.truncate(limit);
    paths
        .iter()
        .map(|p| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display())))
        .collect()
}

/// Fetch-only: every URL through one [`Fetcher`] with the scan's settings
/// (`concurrency` in flight, all on one host, private addresses allowed),
/// bodies streamed, capped and SHA-256 hashed, then dropped.
pub fn fetch(urls: &Path, concurrency: usize, per_host: usize) -> Result<(), String> {
    let urls = read_urls(urls)?;
    let settings = FetchSettings {
        concurrency,
        per_host_concurrency: per_host,
        ..FetchSettings::default().allowing_private_addresses()
    };
    let fetcher = Fetcher::new(settings).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let results: Vec<Result<u64, String>> = runtime.block_on(
        stream::iter(urls)
            .map(|url| {
                let fetcher = fetcher.clone();
                async move {
                    fetcher
                        .fetch_image(&url)
                        .await
                        .map(|image| image.bytes.len() as u64)
                        .map_err(|e| e.to_string())
                }
            })
            .buffer_unordered(concurrency.max(1))
            .collect(),
    );
    let secs = started.elapsed().as_secs_f64();
    let bytes = results.iter().flatten().sum();
    let failed = results.iter().filter(|r| r.is_err()).count();
    if let Some(Err(e)) = results.iter().find(|r| r.is_err()) {
        eprintln!("first fetch failure: {e}");
    }
    report("fetch-only", results.len() - failed, failed, bytes, secs);
    Ok(())
}

/// Prepare-only: the scan's prepare stage work
/// ([`provenance::scan::analyse::analyse`]: decode, perceptual hashes,
/// thumbnail, keypoint features, and the model input when `model_dir` is
/// given) on `threads` threads, files already in memory.
pub fn prepare(
    dir: &Path,
    limit: usize,
    threads: usize,
    model_dir: Option<PathBuf>,
) -> Result<(), String> {
    let files = read_files(dir, limit)?;
    let bytes: u64 = files.iter().map(|f| f.len() as u64).sum();
    let model = match &model_dir {
        Some(dir) => Some(load_model(dir, DeviceChoice::Cpu, Precision::F32, 1)?),
        None => None,
    };
    let embedder = model.as_ref().map(|m| m as &dyn Embedder);
    let limits = DecodeLimits::default();
    let next = Mutex::new(files.iter());
    let started = Instant::now();
    let failed: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut failed = 0;
                    while let Some(file) = next.lock().map(|mut i| i.next()).unwrap_or(None) {
                        match analyse(file, &limits, embedder) {
                            Ok(analysis) => drop(std::hint::black_box(analysis)),
                            Err(_) => failed += 1,
                        }
                    }
                    failed
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or(0)).sum()
    });
    let secs = started.elapsed().as_secs_f64();
    let stage = if model.is_some() {
        "prepare-only+model-input"
    } else {
        "prepare-only"
    };
    report(stage, files.len() - failed, failed, bytes, secs);
    Ok(())
}

/// Loads the model of `dir` (no download).
fn load_model(
    dir: &Path,
    device: DeviceChoice,
    precision: Precision,
    batch: usize,
) -> Result<ClipEmbedder, String> {
    let settings = ModelSettings {
        device,
        precision,
        batch_size: batch,
        ..ModelSettings::local(dir.to_path_buf())
    };
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime
        .block_on(ClipEmbedder::load(&settings, &|_| {}))
        .map_err(|e| e.to_string())
}

/// How the embed-only measurement runs.
pub struct EmbedRun {
    /// Folder of the images.
    pub dir: PathBuf,
    /// How many of them.
    pub limit: usize,
    /// `config.json` + `model.safetensors`.
    pub model_dir: PathBuf,
    /// `cpu`, `cuda`, …
    pub device: DeviceChoice,
    /// Pictures per forward pass.
    pub batch: usize,
    /// Number format of the model.
    pub precision: Precision,
    /// Decode + preprocess threads.
    pub threads: usize,
}

/// Embed-only: decode + preprocess on `threads` threads, overlapped with the
/// model on batches (as the pipeline overlaps them), files in memory.
pub fn embed(run: &EmbedRun) -> Result<(), String> {
    let files = read_files(&run.dir, run.limit)?;
    let bytes: u64 = files.iter().map(|f| f.len() as u64).sum();
    let model = load_model(&run.model_dir, run.device, run.precision, run.batch)?;
    let limits = DecodeLimits::default();
    let next = Mutex::new(files.iter());
    let (send, receive) = sync_channel::<Vec<f32>>(run.batch * 2);
    let started = Instant::now();
    let embedded = std::thread::scope(|scope| {
        for _ in 0..run.threads.max(1) {
            let send = send.clone();
            let (next, model, limits) = (&next, &model, &limits);
            scope.spawn(move || {
                while let Some(file) = next.lock().map(|mut i| i.next()).unwrap_or(None) {
                    if let Ok(decoded) = decode(file, limits) {
                        if send.send(model.preprocess(&decoded.image)).is_err() {
                            break;
                        }
                    }
                }
            });
        }
        drop(send);
        let mut embedded = 0;
        let mut batch = Vec::with_capacity(run.batch);
        let flush = |batch: &mut Vec<Vec<f32>>| -> Result<usize, String> {
            let n = model.embed_pixels(batch).map_err(|e| e.to_string())?.len();
            batch.clear();
            Ok(n)
        };
        for pixels in receive {
            batch.push(pixels);
            if batch.len() == run.batch {
                embedded += flush(&mut batch)?;
            }
        }
        if !batch.is_empty() {
            embedded += flush(&mut batch)?;
        }
        Ok::<usize, String>(embedded)
    })?;
    let secs = started.elapsed().as_secs_f64();
    report(
        "decode+preprocess+model-only",
        embedded,
        files.len() - embedded,
        bytes,
        secs,
    );
    Ok(())
}
