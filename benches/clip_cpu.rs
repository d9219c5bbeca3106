//! CPU throughput of full-size CLIP ViT-B/32 (random weights: same FLOPs as
//! the real model): (a) the model alone by batch size, (b) JPEG bytes →
//! decode → preprocess → model. Not a test; run with
//! `cargo bench --bench clip_cpu` (release) and read the table it prints.

use std::time::{Duration, Instant};

use candle_core::{DType, Device};
use candle_nn::{Init, VarBuilder, VarMap};
use candle_transformers::models::clip::ClipConfig;
use image::{DynamicImage, ImageFormat, RgbImage};
use provenance::decode::{decode, DecodeLimits};
use provenance::embed::ClipEmbedder;

/// How long each measurement runs at least.
const MIN_TIME: Duration = Duration::from_secs(3);

fn model(batch: usize) -> ClipEmbedder {
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let init = Init::Randn {
        mean: 0.,
        stdev: 0.02,
    };
    vb.get_with_hints(768, "vision_model.embeddings.class_embedding", init)
        .expect("in-memory variable");
    ClipEmbedder::from_var_builder(vb, &ClipConfig::vit_base_patch32(), "random".into(), batch)
        .expect("random ViT-B/32")
}

fn jpeg(seed: u32) -> Vec<u8> {
    let picture = RgbImage::from_fn(640, 480, |x, y| {
        let v = (x * 7 + y * 3 + seed * 31) % 256;
        image::Rgb([
            v as u8,
            ((x ^ y) % 256) as u8,
            ((x * y / 97 + seed) % 256) as u8,
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(picture)
        .write_to(&mut out, ImageFormat::Jpeg)
        .expect("encode");
    out.into_inner()
}

/// Runs `work` (which handles `per_call` images) until MIN_TIME; images/s.
fn rate(per_call: usize, mut work: impl FnMut()) -> f64 {
    work(); // warm-up
    let start = Instant::now();
    let mut calls = 0;
    while start.elapsed() < MIN_TIME {
        work();
        calls += 1;
    }
    (calls * per_call) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    // `cargo test --all-targets` runs benches too: only measure under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        println!("clip_cpu: a benchmark; run it with `cargo bench --bench clip_cpu`");
        return;
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("CPU, {threads} threads, ViT-B/32 f32, random weights\n");
    println!("| what | batch | images/s |\n|---|---:|---:|");
    for batch in [1, 8, 32] {
        let m = model(batch);
        let pixels = vec![vec![0.1f32; 3 * 224 * 224]; batch];
        let r = rate(batch, || {
            m.embed_pixels(&pixels).expect("forward");
        });
        println!("| model alone | {batch} | {r:.1} |");
    }
    let batch = 32;
    let m = model(batch);
    let files: Vec<Vec<u8>> = (0..batch as u32).map(jpeg).collect();
    let limits = DecodeLimits::default();
    let prep = |bytes: &Vec<u8>| m.preprocess(&decode(bytes, &limits).expect("decode").image);
    let r = rate(batch, || {
        let _: Vec<Vec<f32>> = files.iter().map(prep).collect();
    });
    println!("| 640x480 JPEG decode + preprocess, 1 thread | - | {r:.1} |");
    let r = rate(batch, || {
        let pixels: Vec<Vec<f32>> = files.iter().map(prep).collect();
        m.embed_pixels(&pixels).expect("forward");
    });
    println!("| 640x480 JPEG → decode → preprocess → model, sequential | {batch} | {r:.1} |");
    let r = rate(batch, || overlapped(&m, &files, 8));
    println!("| same, decode+preprocess overlapped with the model (batches of 8) | 8 | {r:.1} |");
}

/// Decode + preprocess on a worker thread, one batch ahead of the model.
fn overlapped(m: &ClipEmbedder, files: &[Vec<u8>], batch: usize) {
    let limits = DecodeLimits::default();
    let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Vec<f32>>>(1);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for chunk in files.chunks(batch) {
                let pixels = chunk
                    .iter()
                    .map(|b| m.preprocess(&decode(b, &limits).expect("decode").image))
                    .collect();
                if send.send(pixels).is_err() {
                    break;
                }
            }
        });
        for pixels in receive {
            m.embed_pixels(&pixels).expect("forward");
        }
    });
}
