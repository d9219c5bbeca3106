//! `parity`: this device's embeddings against the reference (the tiny
//! fixture model, whose expected outputs transformers wrote) and, for a
//! full-size model, against the CPU in `f32`.

use std::path::Path;

use candle_core::{Device, Tensor};
use provenance::embed::preprocess::normalize;
use provenance::embed::{DeviceChoice, Embedder, Precision};
use serde::Deserialize;

use crate::modes::{load, BenchResult};
use crate::Args;

#[derive(Deserialize)]
struct Expected {
    images: Vec<ImageCase>,
    texts: Vec<TextCase>,
}

#[derive(Deserialize)]
struct ImageCase {
    file: String,
    pixels_png: String,
    embedding: Vec<f32>,
}

#[derive(Deserialize)]
struct TextCase {
    text: String,
    embedding: Vec<f32>,
}

fn max_abs_diff(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    a.iter()
        .flatten()
        .zip(b.iter().flatten())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn min_cosine(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.iter().zip(y).map(|(p, q)| p * q).sum::<f32>())
        .fold(1.0, f32::min)
}

pub fn run(args: &Args) -> BenchResult {
    let fixtures = &args.fixtures;
    let expected: Expected =
        serde_json::from_str(&std::fs::read_to_string(fixtures.join("expected.json"))?)?;
    // The processor's own pixel tensors (bit-exact, see tests/clip_parity.rs).
    let pixels: Vec<Vec<f32>> = expected
        .images
        .iter()
        .map(|case| {
            let crop = image::open(fixtures.join("images").join(&case.pixels_png))?.to_rgb8();
            Ok(normalize(&crop))
        })
        .collect::<Result<_, Box<dyn std::error::Error>>>()?;
    let reference_images: Vec<Vec<f32>> = expected
        .images
        .iter()
        .map(|c| c.embedding.clone())
        .collect();
    let reference_texts: Vec<Vec<f32>> =
        expected.texts.iter().map(|c| c.embedding.clone()).collect();
    let texts: Vec<&str> = expected.texts.iter().map(|c| c.text.as_str()).collect();
    println!(
        "## parity with transformers (tiny model, {} images: {}; {} texts)\n",
        expected.images.len(),
        expected
            .images
            .iter()
            .map(|c| c.file.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        texts.len()
    );
    println!("| device | dtype | images max abs | texts max abs | min cosine |\n|---|---|---:|---:|---:|");
    for &precision in &args.precisions {
        let m = load(&fixtures.join("tiny"), args, precision, 4)?;
        let images = m.embed_pixels(&pixels)?;
        let text_vectors = m.embed_texts(&texts)?;
        println!(
            "| {} | {precision:?} | {:.2e} | {:.2e} | {:.6} |",
            args.device,
            max_abs_diff(&images, &reference_images),
            max_abs_diff(&text_vectors, &reference_texts),
            min_cosine(&images, &reference_images).min(min_cosine(&text_vectors, &reference_texts)),
        );
    }
    if let Some(dir) = &args.model_dir {
        full_size(dir, args, &pixels)?;
    }
    Ok(())
}

/// The full-size model on this device against the CPU in `f32`, on the
/// fixture pictures plus random inputs.
fn full_size(dir: &Path, args: &Args, fixtures: &[Vec<f32>]) -> BenchResult {
    let cpu_args = Args {
        device: DeviceChoice::Cpu,
        ..args.clone()
    };
    let reference = load(dir, &cpu_args, Precision::F32, 8)?;
    let per_image = reference.pixels_per_image();
    let noise = Tensor::randn(0f32, 1f32, (8, per_image), &Device::Cpu)?.to_vec2::<f32>()?;
    let pixels: Vec<Vec<f32>> = fixtures.iter().cloned().chain(noise).collect();
    let expected = reference.embed_pixels(&pixels)?;
    println!(
        "\n## full-size model on {} against the CPU in F32 ({} inputs)\n",
        args.device,
        pixels.len()
    );
    println!("| dtype | max abs | min cosine |\n|---|---:|---:|");
    for &precision in &args.precisions {
        let m = load(dir, args, precision, 8)?;
        let got = m.embed_pixels(&pixels)?;
        println!(
            "| {precision:?} | {:.2e} | {:.6} |",
            max_abs_diff(&got, &expected),
            min_cosine(&got, &expected)
        );
    }
    Ok(())
}
