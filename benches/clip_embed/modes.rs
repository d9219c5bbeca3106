//! `model`, `profile` and `cold`, and the loading they share.

use std::path::Path;
use std::time::{Duration, Instant};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::clip::{ClipConfig, ClipModel};
use provenance::embed::config::HfClipConfig;
use provenance::embed::hub::{hub_client, ModelFiles};
use provenance::embed::{ClipEmbedder, ModelSettings, Precision, StageTimes};

use crate::Args;

pub type BenchResult = Result<(), Box<dyn std::error::Error>>;

/// The resolved files of a local model directory.
pub fn files(dir: &Path) -> Result<ModelFiles, Box<dyn std::error::Error>> {
    let settings = ModelSettings {
        batch_size: 1,
        ..ModelSettings::local(dir.to_owned())
    };
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    Ok(runtime.block_on(ModelFiles::resolve(&settings, &hub_client()?, &|_| {}))?)
}

pub fn settings(dir: &Path, args: &Args, precision: Precision, batch: usize) -> ModelSettings {
    ModelSettings {
        device: args.device,
        precision,
        batch_size: batch,
        ..ModelSettings::local(dir.to_owned())
    }
}

pub fn load(
    dir: &Path,
    args: &Args,
    precision: Precision,
    batch: usize,
) -> Result<ClipEmbedder, Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_multi_thread().build()?;
    let settings = settings(dir, args, precision, batch);
    Ok(runtime.block_on(ClipEmbedder::load(&settings, &|_| {}))?)
}

fn model_dir(args: &Args) -> Result<&Path, Box<dyn std::error::Error>> {
    args.model_dir.as_deref().ok_or_else(|| {
        "--model-dir DIR is needed (examples/random_clip_model.rs writes one)".into()
    })
}

/// Runs `work` until `seconds` have passed (after one warm-up call);
/// returns calls per second.
pub fn calls_per_second(
    seconds: f64,
    mut work: impl FnMut() -> BenchResult,
) -> Result<f64, Box<dyn std::error::Error>> {
    work()?;
    let start = Instant::now();
    let mut calls = 0u32;
    while start.elapsed() < Duration::from_secs_f64(seconds) || calls < 3 {
        work()?;
        calls += 1;
    }
    Ok(f64::from(calls) / start.elapsed().as_secs_f64())
}

fn random_pixels(
    batch: usize,
    size: usize,
    dtype: DType,
    device: &Device,
) -> candle_core::Result<Tensor> {
    Tensor::randn(0f32, 1f32, (batch, 3, size, size), device)?.to_dtype(dtype)
}

/// Images/s of the model alone, ours and candle-transformers', by batch
/// and number format.
pub fn model(args: &Args) -> BenchResult {
    let dir = model_dir(args)?;
    let files = files(dir)?;
    let config = HfClipConfig::from_json(&std::fs::read_to_string(&files.config)?)?.to_candle()?;
    println!(
        "## model alone, {} ({:?}), input on the device\n",
        args.device, files.id
    );
    println!("| implementation | dtype | batch | images/s |\n|---|---|---:|---:|");
    for &precision in &args.precisions {
        let ours = load(dir, args, precision, 1)?;
        let device = ours.device().clone();
        let theirs =
            candle_transformers_model(&files.weights, &config, precision.dtype(), &device)?;
        let plain = ours.vision().clone().without_fused_kernels();
        for &batch in &args.batches {
            let x = random_pixels(
                batch,
                config.vision_config.image_size,
                precision.dtype(),
                &device,
            )?;
            let rate = batch as f64
                * calls_per_second(args.seconds, || {
                    ours.vision().forward(&x)?;
                    Ok(device.synchronize()?)
                })?;
            println!("| provenance VisionTower | {precision:?} | {batch} | {rate:.1} |");
            if device.is_cuda() {
                let rate = batch as f64
                    * calls_per_second(args.seconds, || {
                        plain.forward(&x)?;
                        Ok(device.synchronize()?)
                    })?;
                println!("| provenance VisionTower, candle ops only | {precision:?} | {batch} | {rate:.1} |");
            }
            let rate = batch as f64
                * calls_per_second(args.seconds, || {
                    theirs.get_image_features(&x)?;
                    Ok(device.synchronize()?)
                })?;
            println!("| candle-transformers ClipModel | {precision:?} | {batch} | {rate:.1} |");
        }
    }
    Ok(())
}

fn candle_transformers_model(
    weights: &Path,
    config: &ClipConfig,
    dtype: DType,
    device: &Device,
) -> Result<ClipModel, Box<dyn std::error::Error>> {
    // Safety: the bench's model file is not modified while mapped.
    let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[weights], dtype, device)? };
    Ok(ClipModel::new(vb, config)?)
}

/// Where one forward pass spends its time (each stage synchronised).
pub fn profile(args: &Args) -> BenchResult {
    let dir = model_dir(args)?;
    for &precision in &args.precisions {
        for &batch in &args.batches {
            let m = load(dir, args, precision, batch)?;
            let x = random_pixels(
                batch,
                m.image_size() as usize,
                precision.dtype(),
                m.device(),
            )?;
            for (label, tower) in [
                ("fused", m.vision().clone()),
                (
                    "candle ops only",
                    m.vision().clone().without_fused_kernels(),
                ),
            ] {
                let wanted = match args.tower.as_str() {
                    "fused" => label == "fused",
                    "plain" => label != "fused",
                    _ => true,
                };
                if !wanted {
                    continue;
                }
                tower.forward(&x)?;
                let mut times = StageTimes::default();
                let passes = 5;
                for _ in 0..passes {
                    tower.forward_probed(&x, Some(&mut times))?;
                }
                let total: f64 = times.stages.iter().map(|(_, s)| s).sum();
                println!(
                "\n## stages, {label}, {} {precision:?} batch {batch}: {:.2} ms a pass (synchronised)\n",
                args.device,
                1e3 * total / passes as f64
            );
                println!("| stage | ms a pass | share |\n|---|---:|---:|");
                for (stage, seconds) in &times.stages {
                    println!(
                        "| {stage} | {:.3} | {:.1} % |",
                        1e3 * seconds / passes as f64,
                        100.0 * seconds / total
                    );
                }
            }
        }
    }
    Ok(())
}

/// Model load, first and second forward pass of this process.
pub fn cold(args: &Args) -> BenchResult {
    let dir = model_dir(args)?;
    let precision = args.precisions.first().copied().unwrap_or_default();
    let batch = args.batches.first().copied().unwrap_or(1);
    let start = Instant::now();
    let m = load(dir, args, precision, batch)?;
    m.device().synchronize()?;
    let loaded = start.elapsed();
    let pixels = vec![0.5f32; batch * m.pixels_per_image()];
    let first = Instant::now();
    m.embed_flat(pixels.clone())?;
    let first = first.elapsed();
    let second = Instant::now();
    m.embed_flat(pixels)?;
    let second = second.elapsed();
    println!(
        "cold start, {} {precision:?} batch {batch}: load {:.3} s, first forward {:.3} s, second {:.3} s",
        args.device,
        loaded.as_secs_f64(),
        first.as_secs_f64(),
        second.as_secs_f64()
    );
    Ok(())
}
