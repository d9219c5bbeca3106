//! CLIP embedding benchmark and GPU checks (issue 3). Not a test: run it
//! with `cargo bench --bench clip_embed -- MODE [options]`, or the packed
//! CUDA build on the GPU machine (`scripts/bench-gpu.sh`).
//!
//! Modes:
//! - `model`: images/s of the model alone (input already on the device),
//!   this crate's [`VisionTower`] and candle-transformers' `ClipModel`, by
//!   batch size and number format;
//! - `profile`: where one forward pass spends its time, by stage;
//! - `pipeline`: JPEG files → decode → preprocess (CPU threads) → model,
//!   overlapped;
//! - `cold`: model load, first and second forward of a fresh process;
//! - `parity`: the tiny reference model's embeddings on this device and
//!   number format against transformers' (tests/fixtures/clip), and the
//!   full-size model on the device against the CPU.
//!
//! Options: `--device cpu|cuda` `--dtypes f32,f16,bf16` `--batches 1,32,256`
//! `--model-dir DIR` (a full-size model, `examples/random_clip_model.rs`)
//! `--images DIR` `--count N` `--seconds S` `--fixtures DIR`
//! `--tower fused|plain|both` (profile).

mod modes;
mod parity;
mod pipeline;

use std::path::PathBuf;

use provenance::embed::{DeviceChoice, Precision};

/// Parsed command line.
#[derive(Clone)]
pub struct Args {
    pub mode: String,
    pub device: DeviceChoice,
    pub precisions: Vec<Precision>,
    pub batches: Vec<usize>,
    pub model_dir: Option<PathBuf>,
    pub images: Option<PathBuf>,
    pub count: usize,
    pub seconds: f64,
    pub fixtures: PathBuf,
    pub threads: usize,
    /// `profile`: `fused`, `plain` (candle ops only) or `both`.
    pub tower: String,
}

fn list<T: std::str::FromStr>(text: &str) -> Result<Vec<T>, String> {
    text.split(',')
        .map(|item| {
            item.trim()
                .parse()
                .map_err(|_| format!("bad list item {item:?}"))
        })
        .collect()
}

fn parse(raw: &[String]) -> Result<Args, String> {
    let mut args = Args {
        mode: "model".into(),
        device: DeviceChoice::Cpu,
        precisions: vec![Precision::F32],
        batches: vec![1, 8, 32],
        model_dir: None,
        images: None,
        count: 1024,
        seconds: 3.0,
        fixtures: PathBuf::from("tests/fixtures/clip"),
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        tower: "both".into(),
    };
    let mut it = raw.iter().filter(|a| *a != "--bench");
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--device" => args.device = value()?.parse()?,
            "--dtypes" => args.precisions = list(&value()?)?,
            "--batches" => args.batches = list(&value()?)?,
            "--model-dir" => args.model_dir = Some(value()?.into()),
            "--images" => args.images = Some(value()?.into()),
            "--count" => args.count = value()?.parse().map_err(|_| "bad --count")?,
            "--seconds" => args.seconds = value()?.parse().map_err(|_| "bad --seconds")?,
            "--fixtures" => args.fixtures = value()?.into(),
            "--threads" => args.threads = value()?.parse().map_err(|_| "bad --threads")?,
            "--tower" => args.tower = value()?,
            mode if !mode.starts_with('-') => args.mode = mode.to_owned(),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(args)
}

fn main() {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    // `cargo test --all-targets` runs benches too: only measure under `cargo bench`.
    if !raw.iter().any(|a| a == "--bench") {
        println!("clip_embed: a benchmark; run it with `cargo bench --bench clip_embed`");
        return;
    }
    let args = match parse(&raw) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("clip_embed: {message}");
            std::process::exit(2);
        }
    };
    let result = match args.mode.as_str() {
        "model" => modes::model(&args),
        "profile" => modes::profile(&args),
        "cold" => modes::cold(&args),
        "pipeline" => pipeline::run(&args),
        "parity" => parity::run(&args),
        other => Err(format!("unknown mode {other}").into()),
    };
    if let Err(error) = result {
        eprintln!("clip_embed {}: {error}", args.mode);
        std::process::exit(1);
    }
}
