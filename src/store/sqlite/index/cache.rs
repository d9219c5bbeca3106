//! The embedded store's in-memory copy of its vectors: a [`FlatIndex`] of
//! 8-bit codes, loaded on the first query and kept in step afterwards. The
//! full `f32` vectors stay in SQLite; a search reads only its shortlist's
//! (see [`super::flat`]).
//!
//! Loading: from the snapshot file next to the database
//! (`snapshot`) when there is a usable one for this store and
//! model, else from SQLite; then the rows the snapshot does not have are read
//! as below. A new snapshot is saved when many rows had to be read from
//! SQLite, so the next process starts from it.
//!
//! Keeping in step, before each query: rows added since the last look
//! (`id > highest id seen`, an index range scan that is empty when nothing
//! changed); rows seen earlier without a vector; and the rows listed in
//! `vector_changes` since the last look (a trigger logs every replaced or
//! deleted vector there). So vectors written by other processes are seen,
//! and this process's own writes update the copy directly as well.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

use futures::TryStreamExt;
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::Row;

use super::blob::from_blob;
use super::flat::FlatIndex;
use super::snapshot::{self as flat_snapshot, SnapshotHeader};
use crate::model::{ImageId, ModelInfo};
use crate::store::{Backend, Neighbor, StoreError, StoreResult};

/// Rows decoded before the index is locked to take them.
const BATCH: usize = 4096;

/// By default a snapshot is saved once at least this many rows, and a
/// twentieth of all rows, had to be read from SQLite since the last one.
const SNAPSHOT_AFTER_ROWS: usize = 10_000;

/// What has been read from the database so far.
#[derive(Debug, Default)]
struct Seen {
    /// Whether the first load (snapshot or full read) has happened.
    loaded: bool,
    /// The highest image id read.
    max_id: ImageId,
    /// Images read while they had no vector yet.
    without_vector: BTreeSet<ImageId>,
    /// The last `vector_changes.seq` applied.
    change_seq: i64,
    /// Rows read from SQLite since the last snapshot was loaded or saved.
    unsaved_rows: usize,
}

/// The vectors of an embedded store, in memory.
pub(crate) struct VectorCache {
    index: Arc<RwLock<FlatIndex>>,
    seen: tokio::sync::Mutex<Seen>,
    /// Where the snapshot lives; `None` keeps none.
    snapshot: Option<PathBuf>,
    /// Rows read from SQLite (at least) before a snapshot is saved.
    pub(crate) snapshot_after_rows: usize,
}

fn query_error(source: sqlx::Error) -> StoreError {
    StoreError::Query {
        backend: Backend::Sqlite,
        source,
    }
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl VectorCache {
    /// An empty cache, saving snapshots at `snapshot`; nothing is read
    /// until the first [`Self::refresh`].
    pub(crate) fn new(snapshot: Option<PathBuf>) -> Self {
        Self {
            index: Arc::new(RwLock::new(FlatIndex::with_threads(threads()))),
            seen: tokio::sync::Mutex::new(Seen::default()),
            snapshot,
            snapshot_after_rows: SNAPSHOT_AFTER_ROWS,
        }
    }

    /// Records a vector this process has just written to the database.
    pub(crate) async fn remember(&self, id: ImageId, vector: &[f32]) -> StoreResult<()> {
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

    /// Brings the copy up to date with the database: the first time from
    /// the snapshot if there is a usable one, then whatever it lacks.
    pub(crate) async fn refresh(&self, pool: &SqlitePool, model: &ModelInfo) -> StoreResult<()> {
        let mut seen = self.seen.lock().await;
        if !seen.loaded {
            // Changes logged before the full read are in it.
            seen.change_seq = last_change(pool).await?;
            self.load_snapshot(&store_id(pool).await?, model, &mut seen)
                .await;
            seen.loaded = true;
        }
        self.apply_changes(pool, model.dim, &mut seen).await?;
        self.read_new_rows(pool, model.dim, &mut seen).await?;
        self.read_late_vectors(pool, model.dim, &mut seen).await?;
        let rows = self
            .index
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        if seen.unsaved_rows > 0 && seen.unsaved_rows >= self.snapshot_after_rows.max(rows / 20) {
            self.save_snapshot(store_id(pool).await?, model, &mut seen)
                .await;
        }
        Ok(())
    }

    /// Takes over the snapshot if it is this store's, for this model.
    async fn load_snapshot(&self, store_id: &str, model: &ModelInfo, seen: &mut Seen) {
        let Some(path) = self.snapshot.clone() else {
            return;
        };
        let loaded = tokio::task::spawn_blocking(move || flat_snapshot::load(&path)).await;
        let snapshot = match loaded {
            Ok(Ok(Some(snapshot))) => snapshot,
            Ok(Ok(None)) => return,
            Ok(Err(e)) => {
                tracing::warn!("{e}; reading the vectors from the database instead");
                return;
            }
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        let header = &snapshot.header;
        if header.store_id != store_id || header.model != model.id || header.dim != model.dim {
            tracing::info!("the vector snapshot belongs to another store or model; not used");
            return;
        }
        match FlatIndex::from_parts(snapshot.parts, threads()) {
            Ok(index) => {
                tracing::debug!("{} vectors loaded from the snapshot", index.len());
                *self.index.write().unwrap_or_else(PoisonError::into_inner) = index;
                seen.max_id = header.max_id;
                seen.change_seq = header.change_seq;
                seen.without_vector = header.without_vector.iter().copied().collect();
            }
            Err(e) => tracing::warn!("vector snapshot: {e}; not used"),
        }
    }

    /// Saves the copy as the snapshot; a failure only costs the next
    /// process a slower start, so it is logged, not returned.
    async fn save_snapshot(&self, store_id: String, model: &ModelInfo, seen: &mut Seen) {
        let Some(path) = self.snapshot.clone() else {
            return;
        };
        let header = SnapshotHeader {
            store_id,
            model: model.id.clone(),
            dim: model.dim,
            rows: 0,
            max_id: seen.max_id,
            change_seq: seen.change_seq,
            without_vector: seen.without_vector.iter().copied().collect(),
        };
        let index = Arc::clone(&self.index);
        let saved = tokio::task::spawn_blocking(move || {
            let index = index.read().unwrap_or_else(PoisonError::into_inner);
            flat_snapshot::save(&path, &header, &index)
        })
        .await;
        match saved {
            Ok(Ok(())) => seen.unsaved_rows = 0,
            Ok(Err(e)) => tracing::warn!("{e}; the next start reads the database instead"),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }

    /// Re-reads the rows whose vector was replaced or deleted since the
    /// last look.
    async fn apply_changes(
        &self,
        pool: &SqlitePool,
        dim: usize,
        seen: &mut Seen,
    ) -> StoreResult<()> {
        let changes: Vec<(i64, ImageId)> =
            sqlx::query_as("SELECT seq, image_id FROM vector_changes WHERE seq > ? ORDER BY seq")
                .bind(seen.change_seq)
                .fetch_all(pool)
                .await
                .map_err(query_error)?;
        let Some(&(last, _)) = changes.last() else {
            return Ok(());
        };
        let ids: BTreeSet<ImageId> = changes.iter().map(|&(_, id)| id).collect();
        let current: HashMap<ImageId, Vec<f32>> = vectors_of(pool, dim, ids.iter().copied())
            .await?
            .into_iter()
            .collect();
        let mut index = self.index.write().unwrap_or_else(PoisonError::into_inner);
        for id in ids {
            match current.get(&id) {
                Some(vector) => upsert(&mut index, id, vector)?,
                None => {
                    index.remove(id);
                    if id <= seen.max_id {
                        // Still there without a vector, or gone: either way
                        // a vector written later is picked up.
                        seen.without_vector.insert(id);
                    }
                }
            }
        }
        seen.change_seq = last;
        seen.unsaved_rows += changes.len();
        Ok(())
    }

    /// Reads the rows added since the last look (all of them the first time
    /// without a snapshot).
    async fn read_new_rows(
        &self,
        pool: &SqlitePool,
        dim: usize,
        seen: &mut Seen,
    ) -> StoreResult<()> {
        let mut rows = sqlx::query("SELECT id, embedding FROM images WHERE id > ? ORDER BY id")
            .bind(seen.max_id)
            .fetch(pool);
        let mut batch = Vec::with_capacity(BATCH);
        while let Some(row) = rows.try_next().await.map_err(query_error)? {
            let id: ImageId = row.get("id");
            seen.max_id = seen.max_id.max(id);
            seen.unsaved_rows += 1;
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
        self.take(&mut batch)
    }

    /// Reads the vectors that rows seen without one have got since.
    async fn read_late_vectors(
        &self,
        pool: &SqlitePool,
        dim: usize,
        seen: &mut Seen,
    ) -> StoreResult<()> {
        if seen.without_vector.is_empty() {
            return Ok(());
        }
        let mut found = vectors_of(pool, dim, seen.without_vector.iter().copied()).await?;
        for (id, _) in &found {
            seen.without_vector.remove(id);
        }
        seen.unsaved_rows += found.len();
        self.take(&mut found)
    }

    /// Moves decoded vectors into the index.
    fn take(&self, batch: &mut Vec<(ImageId, Vec<f32>)>) -> StoreResult<()> {
        let mut index = self.index.write().unwrap_or_else(PoisonError::into_inner);
        for (id, vector) in batch.drain(..) {
            upsert(&mut index, id, &vector)?;
        }
        Ok(())
    }

    /// Exact search: the shortlist from the codes, off the async runtime's
    /// threads, then the shortlisted rows' full vectors from SQLite.
    pub(crate) async fn search(
        &self,
        pool: &SqlitePool,
        query: &[f32],
        k: usize,
    ) -> StoreResult<Vec<Neighbor>> {
        let index = Arc::clone(&self.index);
        let owned = query.to_vec();
        let shortlist = tokio::task::spawn_blocking(move || {
            index
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .shortlist(&owned, k)
        })
        .await;
        let shortlist = match shortlist {
            Ok(found) => found.map_err(dimension_error)?,
            Err(e) => match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                // Only when the runtime is shutting down.
                Err(_) => return Err(query_error(sqlx::Error::WorkerCrashed)),
            },
        };
        let vectors = vectors_of(pool, query.len(), shortlist.ids().iter().copied()).await?;
        shortlist
            .rank(vectors.iter().map(|(id, v)| (*id, v.as_slice())))
            .map_err(dimension_error)
    }
}

fn dimension_error(e: super::flat::DimensionMismatch) -> StoreError {
    StoreError::Dimension {
        expected: e.expected,
        got: e.got,
    }
}

fn upsert(index: &mut FlatIndex, id: ImageId, vector: &[f32]) -> StoreResult<()> {
    index.upsert(id, vector).map_err(|e| StoreError::Corrupt {
        what: "images.embedding",
        reason: e.to_string(),
    })
}

/// This store's id (made by migration 2).
async fn store_id(pool: &SqlitePool) -> StoreResult<String> {
    sqlx::query_scalar("SELECT value FROM store_meta WHERE key = 'store_id'")
        .fetch_optional(pool)
        .await
        .map_err(query_error)?
        .ok_or(StoreError::Corrupt {
            what: "store_meta.store_id",
            reason: "missing".into(),
        })
}

/// The last sequence number in `vector_changes` (0 if none).
async fn last_change(pool: &SqlitePool) -> StoreResult<i64> {
    sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM vector_changes")
        .fetch_one(pool)
        .await
        .map_err(query_error)
}

/// The vectors of those of `ids` that have one.
async fn vectors_of(
    pool: &SqlitePool,
    dim: usize,
    ids: impl Iterator<Item = ImageId>,
) -> StoreResult<Vec<(ImageId, Vec<f32>)>> {
    let ids = serde_json::Value::from(ids.collect::<Vec<_>>()).to_string();
    let rows = sqlx::query(
        "SELECT id, embedding FROM images
         WHERE embedding IS NOT NULL AND id IN (SELECT value FROM json_each(?))",
    )
    .bind(ids)
    .fetch_all(pool)
    .await
    .map_err(query_error)?;
    let mut found = Vec::with_capacity(rows.len());
    for row in &rows {
        if let Some(vector) = decode(row, dim)? {
            found.push((row.get("id"), vector));
        }
    }
    Ok(found)
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
mod tests;
