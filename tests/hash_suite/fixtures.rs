//! The committed photographs (see tests/fixtures/hash/README.md), plus any
//! extra pictures in `PROVENANCE_HASH_EXTRA_DIR` for a wider measurement.

use std::path::{Path, PathBuf};

use image::DynamicImage;

/// Fixture photographs, by name.
pub fn photos() -> Vec<(String, DynamicImage)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hash");
    let mut photos = load_dir(&dir);
    assert!(
        photos.len() >= 8,
        "hash fixtures missing in {}",
        dir.display()
    );
    if let Ok(extra) = std::env::var("PROVENANCE_HASH_EXTRA_DIR") {
        photos.extend(load_dir(Path::new(&extra)));
    }
    photos
}

fn load_dir(dir: &Path) -> Vec<(String, DynamicImage)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read fixture dir")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("jpg" | "png")
            )
        })
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("?")
                .to_owned();
            let image = image::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (name, image)
        })
        .collect()
}
