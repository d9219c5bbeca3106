//! Copy-detection evaluation (issue 5, item 6): how well perceptual
//! hashes, CLIP and keypoint verification find the original of a
//! transformed copy among distractors. Not part of `cargo test`.
//!
//! ```text
//! scripts/build_copy_eval_set.sh [DIR]         # builds the set (calls `build`)
//! cargo run --example copy_eval --config 'profile.dev.package.provenance.opt-level=3' \
//!     -- eval DIR [--min-inliers N] [--keypoints N] [--shortlist K] [--clip DIR] [--threads N]
//! ```
//!
//! The table goes to stdout (Markdown), progress to stderr. See
//! BENCHMARKS.md, "Copy detection".

mod build;
mod eval;
mod photos;
mod report;
mod transforms;

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use provenance::verify::VerifySettings;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("build") if args.len() == 3 => {
            build::build(&PathBuf::from(&args[1]), &PathBuf::from(&args[2]))
        }
        Some("photos") if args.len() >= 2 => {
            let mut verify_top = 50;
            let mut copy_index = true;
            let mut edits = Vec::new();
            let mut rest = args[2..].iter();
            while let Some(flag) = rest.next() {
                match flag.as_str() {
                    "--verify-top" => {
                        verify_top = rest.next().context("--verify-top needs a value")?.parse()?
                    }
                    "--no-copy-index" => copy_index = false,
                    "--edits" => {
                        edits = rest
                            .next()
                            .context("--edits needs a list")?
                            .split(',')
                            .map(str::to_owned)
                            .collect()
                    }
                    "--threads" => eval::THREADS.store(
                        rest.next().context("--threads needs a value")?.parse()?,
                        std::sync::atomic::Ordering::Relaxed,
                    ),
                    other => bail!("unknown option {other}"),
                }
            }
            photos::run(&PathBuf::from(&args[1]), verify_top, copy_index, &edits)
        }
        Some("fixtures") if args.len() == 3 => {
            build::fixtures(&PathBuf::from(&args[1]), &PathBuf::from(&args[2]))
        }
        Some("eval") if args.len() >= 2 => {
            let mut settings = VerifySettings::default();
            let mut shortlist = 50;
            let mut clip = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clip/tiny");
            let mut rest = args[2..].iter();
            while let Some(flag) = rest.next() {
                let value = rest.next().with_context(|| format!("{flag} needs a value"))?;
                match flag.as_str() {
                    "--min-inliers" => settings.min_inliers = value.parse()?,
                    "--keypoints" => settings.max_keypoints = value.parse()?,
                    "--shortlist" => shortlist = value.parse()?,
                    "--clip" => clip = PathBuf::from(value),
                    "--threads" => eval::THREADS.store(value.parse()?, std::sync::atomic::Ordering::Relaxed),
                    other => bail!("unknown option {other}"),
                }
            }
            eval::run(&PathBuf::from(&args[1]), &clip, &settings, shortlist)
        }
        _ => bail!(
            "usage: copy_eval build DIR SOURCES.txt | copy_eval fixtures HASH_FIXTURES OUT | copy_eval eval DIR \
             [--min-inliers N] [--keypoints N] [--shortlist K] [--clip MODEL_DIR] [--threads N] | \
             copy_eval photos DIR [--verify-top N] [--no-copy-index] [--edits A,B,negative] [--threads N]"
        ),
    }
}
