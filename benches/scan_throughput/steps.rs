//! Where the prepare stage's CPU time goes: each step of the scan's
//! per-image work timed alone, one thread, files in memory, as
//! milliseconds per image. Uses only functions that have been public since
//! the first scan (decode, perceptual hashes, thumbnail, keypoint
//! features, CLIP preprocessing), so the same file built against an older
//! `src/` measures the "before".

use std::path::Path;
use std::time::{Duration, Instant};

use provenance::decode::{decode, DecodeLimits};
use provenance::hash::{perceptual_hashes, sha256};
use provenance::thumbnail::thumbnail_jpeg;
use provenance::verify;

/// Times each step on the first `limit` images of `dir`; one JSON line.
pub fn steps(dir: &Path, limit: usize) -> Result<(), String> {
    let files = super::stages::read_files(dir, limit)?;
    let limits = DecodeLimits::default();
    let names = [
        "sha256",
        "decode",
        "perceptual_hashes",
        "thumbnail",
        "keypoint_features",
        "clip_preprocess",
    ];
    let mut spent = [Duration::ZERO; 6];
    let mut timed = |step: usize, work: &mut dyn FnMut()| {
        let started = Instant::now();
        work();
        spent[step] += started.elapsed();
    };
    let mut images = 0;
    for file in &files {
        timed(0, &mut || {
            std::hint::black_box(sha256(file));
        });
        let mut decoded = None;
        timed(1, &mut || decoded = decode(file, &limits).ok());
        let Some(decoded) = decoded else { continue };
        let image = &decoded.image;
        images += 1;
        timed(2, &mut || {
            drop(std::hint::black_box(perceptual_hashes(image)))
        });
        timed(3, &mut || {
            drop(std::hint::black_box(thumbnail_jpeg(image, 160)))
        });
        timed(4, &mut || {
            let features = verify::extract(image, verify::VerifySettings::default().max_keypoints);
            drop(std::hint::black_box(verify::encode(&features)));
        });
        timed(5, &mut || {
            drop(std::hint::black_box(provenance::embed::preprocess(image)))
        });
    }
    let per_image = |d: Duration| d.as_secs_f64() * 1e3 / images.max(1) as f64;
    let mut line = serde_json::Map::new();
    line.insert("stage".into(), "prepare-steps".into());
    line.insert("images".into(), images.into());
    for (name, d) in names.iter().zip(spent) {
        line.insert(format!("{name}_ms"), per_image(d).into());
    }
    line.insert("total_ms".into(), per_image(spent.iter().sum()).into());
    println!("{}", serde_json::Value::Object(line));
    Ok(())
}
