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
