//! A real SQLite store of N pictures for the benches: the fixture
//! originals analysed as the scan does, among synthetic pictures
//! (`synthetic.rs`: real keypoints mixed and turned, their copy-index
//! terms, random perceptual hashes, one sighting each). Built once per size
//! under the system's temporary directory and reused.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Instant;

use chrono::Utc;
use provenance::copy_index::{Terms, TERMS_KIND};
use provenance::decode::DecodeLimits;
use provenance::model::{ImageFeatures, NewImage, NewSighting, PerceptualHash};
use provenance::scan::analyse::analyse;
use provenance::store::{SqliteStore, Store};
use provenance::verify::{self, Features};

use super::synthetic::{self, base_features, Rng, PHOTOS};

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

pub fn jpeg(image: &image::DynamicImage) -> Vec<u8> {
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
                sha1: None,
                perceptual_hashes: a.hashes,
                width: a.width,
                height: a.height,
                format: a.format,
                byte_size: bytes.len() as u64,
                exif: a.exif,
                embedded: None,
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
        sha1: None,
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
        embedded: None,
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
pub async fn store_of(pictures: usize) -> Result<(SqliteStore, Vec<i64>)> {
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
