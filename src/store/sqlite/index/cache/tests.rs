//! Tests of the vector cache: loading from SQLite and from a snapshot,
//! seeing other processes' writes, saving snapshots.

use std::path::Path;

use super::flat_snapshot;
use crate::model::{ExifSummary, ImageId, ModelInfo, NewImage};
use crate::store::{SqliteStore, Store};

fn image(seed: u8) -> NewImage {
    NewImage {
        sha256: [seed; 32],
        sha1: None,
        perceptual_hashes: Vec::new(),
        width: 10,
        height: 10,
        format: "png".into(),
        byte_size: 100,
        exif: ExifSummary::default(),
        embedded: None,
        thumbnail: None,
        features: Vec::new(),
        seen_at: chrono::Utc::now(),
    }
}

fn model(dim: usize) -> ModelInfo {
    ModelInfo {
        id: format!("test/clip-{dim}"),
        dim,
    }
}

async fn nearest_ids(store: &SqliteStore, query: &[f32]) -> Vec<ImageId> {
    let found = store.nearest(query, 10).await.unwrap();
    found.iter().map(|n| n.image_id).collect()
}

/// A store at `path` holding `vectors` (ids in order), bound to a model.
async fn store_with(path: &Path, vectors: &[[f32; 3]], seed: u8) -> (SqliteStore, Vec<ImageId>) {
    let store = SqliteStore::open(path).await.unwrap();
    store.bind_model(&model(3)).await.unwrap();
    let mut ids = Vec::new();
    for (i, v) in vectors.iter().enumerate() {
        let id = store.upsert_image(&image(seed + i as u8)).await.unwrap().id;
        store.set_embedding(id, v).await.unwrap();
        ids.push(id);
    }
    (store, ids)
}

async fn rows_read_from_sqlite(store: &SqliteStore) -> usize {
    store.vectors.seen.lock().await.unsaved_rows
}

const AXES: [[f32; 3]; 3] = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];

/// Two stores on one file stand for two processes: the reader's
/// in-memory copy must pick up what the writer adds after its first load.
#[tokio::test]
async fn a_loaded_copy_sees_vectors_written_by_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite3");
    let (reader, writer) = (
        SqliteStore::open(&path).await.unwrap(),
        SqliteStore::open(&path).await.unwrap(),
    );
    reader.bind_model(&model(2)).await.unwrap();
    let first = reader.upsert_image(&image(1)).await.unwrap().id;
    reader.set_embedding(first, &[1.0, 0.0]).await.unwrap();
    assert_eq!(nearest_ids(&reader, &[1.0, 0.0]).await, vec![first]);

    // An image seen without its vector, embedded later.
    let late = writer.upsert_image(&image(2)).await.unwrap().id;
    assert_eq!(nearest_ids(&reader, &[1.0, 0.0]).await, vec![first]);
    writer.set_embedding(late, &[0.0, 1.0]).await.unwrap();
    // A new image with its vector.
    let new = writer.upsert_image(&image(3)).await.unwrap().id;
    writer.set_embedding(new, &[0.6, 0.8]).await.unwrap();
    assert_eq!(
        nearest_ids(&reader, &[0.0, 1.0]).await,
        vec![late, new, first]
    );

    // The reader's own writes are searchable at once.
    reader.set_embedding(first, &[0.0, 1.0]).await.unwrap();
    let top = reader.nearest(&[0.0, 1.0], 2).await.unwrap();
    assert_eq!((top[0].image_id, top[1].image_id), (first, late));

    // A vector the reader holds, replaced by the other process.
    writer.set_embedding(late, &[-1.0, 0.0]).await.unwrap();
    let top = reader.nearest(&[-1.0, 0.0], 1).await.unwrap();
    assert_eq!(top[0].image_id, late);
    assert!((top[0].similarity - 1.0).abs() < 1e-6);

    // A deleted image is never found again.
    sqlx::query("DELETE FROM images WHERE id = ?")
        .bind(late)
        .execute(&writer.pool)
        .await
        .unwrap();
    assert!(!nearest_ids(&reader, &[-1.0, 0.0]).await.contains(&late));
}

#[tokio::test]
async fn a_new_process_starts_from_the_snapshot_and_reads_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite3");
    let (mut first, ids) = store_with(&path, &AXES, 1).await;
    first.vectors.snapshot_after_rows = 1;
    assert_eq!(nearest_ids(&first, &AXES[0]).await[0], ids[0]);
    assert!(flat_snapshot::path_for(&path).exists(), "snapshot saved");
    assert_eq!(
        rows_read_from_sqlite(&first).await,
        0,
        "and counted as saved"
    );

    let second = SqliteStore::open(&path).await.unwrap();
    assert_eq!(
        nearest_ids(&second, &AXES[1]).await,
        vec![ids[1], ids[0], ids[2]]
    );
    assert_eq!(
        rows_read_from_sqlite(&second).await,
        0,
        "all from the snapshot"
    );

    // Another process adds one vector and replaces one.
    let added = first.upsert_image(&image(9)).await.unwrap().id;
    first.set_embedding(added, &[0.0, 0.6, 0.8]).await.unwrap();
    first
        .set_embedding(ids[0], &[0.0, 0.0, -1.0])
        .await
        .unwrap();
    let found = second.nearest(&[0.0, 0.0, -1.0], 4).await.unwrap();
    let found_ids: Vec<_> = found.iter().map(|n| n.image_id).collect();
    assert_eq!(found_ids, vec![ids[0], ids[1], added, ids[2]]);
    assert!((found[0].similarity - 1.0).abs() < 1e-6);
    assert_eq!(
        rows_read_from_sqlite(&second).await,
        2,
        "one new row, one change"
    );
}

#[tokio::test]
async fn a_snapshot_of_another_store_or_a_damaged_one_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let (path_a, path_b) = (dir.path().join("a.sqlite3"), dir.path().join("b.sqlite3"));
    let (mut a, _) = store_with(&path_a, &AXES, 1).await;
    a.vectors.snapshot_after_rows = 1;
    nearest_ids(&a, &AXES[0]).await;
    let reversed: Vec<[f32; 3]> = AXES.iter().rev().copied().collect();
    let (b, b_ids) = store_with(&path_b, &reversed, 1).await;
    drop(b);
    std::fs::copy(
        flat_snapshot::path_for(&path_a),
        flat_snapshot::path_for(&path_b),
    )
    .unwrap();
    let b = SqliteStore::open(&path_b).await.unwrap();
    assert_eq!(
        nearest_ids(&b, &AXES[0]).await[0],
        b_ids[2],
        "b's own vectors"
    );
    assert_eq!(rows_read_from_sqlite(&b).await, 3);

    std::fs::write(flat_snapshot::path_for(&path_a), b"PROVFLAT garbage").unwrap();
    let mut a = SqliteStore::open(&path_a).await.unwrap();
    a.vectors.snapshot_after_rows = 1;
    assert_eq!(nearest_ids(&a, &AXES[2]).await.len(), 3);
    let replaced = flat_snapshot::load(&flat_snapshot::path_for(&path_a));
    assert!(replaced.unwrap().is_some(), "the damaged file was replaced");
}
