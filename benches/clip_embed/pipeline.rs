//! `pipeline`: JPEG files → decode → preprocess on CPU threads, batches
//! handed to the model as they fill, the model running meanwhile.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use provenance::decode::{decode, DecodeLimits};

use crate::modes::{load, BenchResult};
use crate::Args;

pub fn run(args: &Args) -> BenchResult {
    let dir = args
        .model_dir
        .as_deref()
        .ok_or("--model-dir DIR is needed")?;
    let images = args.images.as_deref().ok_or("--images DIR is needed")?;
    let mut paths: Vec<_> = std::fs::read_dir(images)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jpg"))
        .collect();
    paths.sort();
    paths.truncate(args.count);
    // Read every file first: the benchmark measures decoding and the model,
    // not the disk.
    let files: Vec<Vec<u8>> = paths.iter().map(std::fs::read).collect::<Result<_, _>>()?;
    let workers = args.threads.saturating_sub(1).max(1);
    println!(
        "\n## JPEG → decode → preprocess ({workers} threads) → model, {} files, {}\n",
        files.len(),
        args.device
    );
    println!("| dtype | batch | images/s |\n|---|---:|---:|");
    for &precision in &args.precisions {
        for &batch in &args.batches {
            let m = load(dir, args, precision, batch)?;
            m.embed_flat(vec![0.0; m.pixels_per_image()])?; // warm-up
            let start = Instant::now();
            let embedded = overlapped(&m, &files, batch, workers)?;
            let rate = embedded as f64 / start.elapsed().as_secs_f64();
            println!("| {precision:?} | {batch} | {rate:.1} |");
        }
    }
    Ok(())
}

/// Workers each fill whole batches (one flat buffer) and send them; this
/// thread runs the model on each as it arrives. Returns images embedded.
fn overlapped(
    m: &provenance::embed::ClipEmbedder,
    files: &[Vec<u8>],
    batch: usize,
    workers: usize,
) -> Result<usize, Box<dyn std::error::Error>> {
    let limits = DecodeLimits::default();
    let next = AtomicUsize::new(0);
    let (send, receive) = sync_channel::<Vec<f32>>(workers);
    let per_image = m.pixels_per_image();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let send = send.clone();
            let (next, limits) = (&next, &limits);
            scope.spawn(move || loop {
                let first = next.fetch_add(batch, Ordering::Relaxed);
                if first >= files.len() {
                    break;
                }
                let chunk = &files[first..files.len().min(first + batch)];
                let mut flat = Vec::with_capacity(chunk.len() * per_image);
                for bytes in chunk {
                    if let Ok(decoded) = decode(bytes, limits) {
                        flat.extend(m.preprocess(&decoded.image));
                    }
                }
                if flat.is_empty() || send.send(flat).is_err() {
                    break;
                }
            });
        }
        drop(send);
        let mut embedded = 0;
        for flat in receive {
            embedded += m.embed_flat(flat)?.len();
        }
        Ok(embedded)
    })
}
