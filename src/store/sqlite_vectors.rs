//! The embedded store's in-memory copy of its vectors: a [`FlatIndex`] loaded
//! from SQLite on the first query and kept in step afterwards.
//!
//! Keeping in step: this process's own `set_embedding` calls update the copy
//! directly. Before each query, rows added since the last look
//! (`id > highest id seen`, an index range scan that is empty when nothing
//! changed) and rows seen earlier without a vector are read again, so vectors
//! written by another process are found too. Not detected: another process
//! *replacing* a vector this process already holds (vectors are only replaced
//! when an image is embedded again with the same model).

use std::collections::BTreeSet;
use std::sync::{Arc, PoisonError, RwLock};

use futures::TryStreamExt;
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::Row;

use super::flat::FlatIndex;
use super::vector::from_blob;
use super::{Backend, ImageId, Neighbor, StoreError, StoreResult};

/// Rows decoded before the index is locked to take them.
const BATCH: usize = 4096;

/// What has been read from the database so far.
#[derive(Debug, Default)]
struct Seen {
    /// The highest image id read.
    max_id: ImageId,
    /// Images read while they had no vector yet.
    without_vector: BTreeSet<ImageId>,
}

/// The vectors of an embedded store, in memory.
pub(super) struct VectorCache {
    index: Arc<RwLock<FlatIndex>>,
    seen: tokio::sync::Mutex<Seen>,
}

fn query_error(source: sqlx::Error) -> StoreError {
    StoreError::Query {
        backend: Backend::Sqlite,
        source,
    }
}

impl VectorCache {
    /// An empty cache; nothing is read until the first [`Self::refresh`].
    pub(super) fn new() -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            index: Arc::new(RwLock::new(FlatIndex::with_threads(threads))),
            seen: tokio::sync::Mutex::new(Seen::default()),
        }
    }

    /// Records a vector this process has just written to the database.
    pub(super) async fn remember(&self, id: ImageId, vector: &[f32]) -> StoreResult<()> {
        self.index
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .upsert(id, vector)
            .map_err(|e| StoreError::Dimension {
                expected: e.expected,
                got: e.got,
            })?;
        self.seen.lock().await.without_vector.remove(&id);
        Ok(())
    }

    /// Reads the vectors written since the last look (all of them the first
    /// time) into memory.
    pub(super) async fn refresh(&self, pool: &SqlitePool, dim: usize) -> StoreResult<()> {
        let mut seen = self.seen.lock().await;
        let mut rows = sqlx::query("SELECT id, embedding FROM images WHERE id > ? ORDER BY id")
            .bind(seen.max_id)
            .fetch(pool);
        let mut batch = Vec::with_capacity(BATCH);
        while let Some(row) = rows.try_next().await.map_err(query_error)? {
            let id: ImageId = row.get("id");
            seen.max_id = seen.max_id.max(id);
            match decode(&row, dim)? {
                Some(vector) => batch.push((id, vector)),
                None => {
                    seen.without_vector.insert(id);
                }
            }
            if batch.len() == BATCH {
                self.take(&mut batch)?;
            }
        }
        drop(rows);
        if !seen.without_vector.is_empty() {
            let ids = serde_json::to_string(&seen.without_vector).unwrap_or_default();
            let rows = sqlx::query(
                "SELECT id, embedding FROM images
                 WHERE embedding IS NOT NULL AND id IN (SELECT value FROM json_each(?))",
            )
            .bind(ids)
            .fetch_all(pool)
            .await
            .map_err(query_error)?;
            for row in &rows {
                if let Some(vector) = decode(row, dim)? {
                    let id: ImageId = row.get("id");
                    seen.without_vector.remove(&id);
                    batch.push((id, vector));
                }
            }
        }
        self.take(&mut batch)
    }

    /// Moves decoded vectors into the index.
    fn take(&self, batch: &mut Vec<(ImageId, Vec<f32>)>) -> StoreResult<()> {
        let mut index = self.index.write().unwrap_or_else(PoisonError::into_inner);
        for (id, vector) in batch.drain(..) {
            index.upsert(id, &vector).map_err(|e| StoreError::Corrupt {
                what: "images.embedding",
                reason: e.to_string(),
            })?;
        }
        Ok(())
    }

    /// Exact search, off the async runtime's threads.
    pub(super) async fn search(&self, query: &[f32], k: usize) -> StoreResult<Vec<Neighbor>> {
        let index = Arc::clone(&self.index);
        let query = query.to_vec();
        let found = tokio::task::spawn_blocking(move || {
            index
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .search(&query, k)
        })
        .await;
        match found {
            Ok(found) => found.map_err(|e| StoreError::Dimension {
                expected: e.expected,
                got: e.got,
            }),
            Err(e) => match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                // Only when the runtime is shutting down.
                Err(_) => Err(query_error(sqlx::Error::WorkerCrashed)),
            },
        }
    }
}

/// The row's vector, `None` if it has none; an error if its length does not
/// fit the model.
fn decode(row: &SqliteRow, dim: usize) -> StoreResult<Option<Vec<f32>>> {
    let Some(blob) = row.get::<Option<&[u8]>, _>("embedding") else {
        return Ok(None);
    };
    from_blob(blob)
        .filter(|v| v.len() == dim)
        .map(Some)
        .ok_or(StoreError::Corrupt {
            what: "images.embedding",
            reason: format!("blob of {} bytes for a {dim}-d model", blob.len()),
        })
}

#[cfg(test)]
mod tests {
    use crate::store::{ExifSummary, ModelInfo, NewImage, SqliteStore, Store};

    fn image(seed: u8) -> NewImage {
        NewImage {
            sha256: [seed; 32],
            perceptual_hashes: Vec::new(),
            width: 10,
            height: 10,
            format: "png".into(),
            byte_size: 100,
            exif: ExifSummary::default(),
            thumbnail: None,
            features: None,
            seen_at: chrono::Utc::now(),
        }
    }

    async fn nearest_ids(store: &SqliteStore, query: &[f32]) -> Vec<i64> {
        let found = store.nearest(query, 10).await.unwrap();
        found.iter().map(|n| n.image_id).collect()
    }

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
        let model = ModelInfo {
            id: "test/clip-2".into(),
            dim: 2,
        };
        reader.bind_model(&model).await.unwrap();
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
    }
}
