//! Real photos stored as a scan stores them: analysed (hashes, keypoints,
//! thumbnail), with one sighting, and a vector when a model is given.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use provenance::decode::DecodeLimits;
use provenance::embed::Embedder;
use provenance::model::{ImageId, NewImage, NewSighting};
use provenance::scan::analyse::analyse;
use provenance::store::Store;

/// A file under `tests/fixtures`.
pub fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

/// Stores a fixture (`path` under `tests/fixtures`) as the scan does, seen
/// at `https://example.org/NAME` on `https://example.org/NAME.html`.
pub async fn store_fixture(
    store: &dyn Store,
    path: &str,
    embedder: Option<&Arc<dyn Embedder>>,
) -> ImageId {
    let name = path.rsplit('/').next().unwrap();
    let bytes = std::fs::read(fixture(path)).unwrap();
    let analysis = analyse(&bytes, &DecodeLimits::default(), None).unwrap();
    let image = NewImage {
        sha256: provenance::hash::sha256(&bytes),
        sha1: Some(provenance::hash::sha1(&bytes)),
        perceptual_hashes: analysis.hashes,
        width: analysis.width,
        height: analysis.height,
        format: analysis.format,
        byte_size: bytes.len() as u64,
        exif: analysis.exif,
        embedded: None,
        thumbnail: analysis.thumbnail,
        features: analysis.features,
        seen_at: Utc::now(),
    };
    let id = store.upsert_image(&image).await.unwrap().id;
    store
        .upsert_sighting(&NewSighting {
            image_id: id,
            image_url: format!("https://example.org/{name}"),
            page_url: Some(format!("https://example.org/{name}.html")),
            seen_at: Utc::now(),
            ..NewSighting::default()
        })
        .await
        .unwrap();
    if let Some(embedder) = embedder {
        store.bind_model(embedder.model()).await.unwrap();
        let picture = image::load_from_memory(&bytes).unwrap();
        let vector = embedder.embed_images(&[picture]).unwrap().remove(0);
        store.set_embedding(id, &vector).await.unwrap();
    }
    id
}
