//! Scans run by workers on many machines that share one PostgreSQL store.
//!
//! `scan --enqueue` asks the search (or takes the URL list) at once, splits
//! the candidates into batches ([`work::split`]), and records the scan, its
//! batches (`scan_batches`) and one job per batch in the work queue, in one
//! transaction. `provenance worker`, on any machine with the same
//! `DATABASE_URL`, claims jobs and runs each batch through the scan's
//! stages ([`crate::scan::run_scan_part`]).
//!
//! The queue is [apalis](https://docs.rs/apalis) on `apalis-postgres`: jobs
//! claimed with `FOR UPDATE SKIP LOCKED`, workers woken by `LISTEN/NOTIFY`
//! (with a slow poll as a fallback), heartbeats, and a dead worker's jobs
//! put back after its missed heartbeats. Delivery is at-least-once, so a
//! batch may start twice: every write is idempotent (the store's unique
//! keys), and `scan_batches` keeps what the queue does not: a batch's
//! state, attempts and error, its counters, and so the scan's state and
//! progress, readable from any machine. The per-host limit holds for all
//! workers together through slots in PostgreSQL ([`host_slots`]).

pub mod batches;
pub mod host_slots;
pub mod work;
pub mod worker;

use std::time::Duration;

use apalis::prelude::TaskBuilder;
use apalis_postgres::PostgresStorage;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::config::PostgresUrl;
use crate::model::{NewScan, ScanId};
use crate::scan::Found;
use crate::store::{PostgresStore, StoreError};
pub use batches::FailedBatch;
pub use worker::{run_worker, WorkerSettings, WorkerSummary};

/// The work queue's name in apalis' tables.
pub const QUEUE: &str = "provenance-scan-batches";

/// Candidates per batch unless told otherwise.
pub const DEFAULT_BATCH_SIZE: usize = 16;

/// Attempts a batch gets before it fails for good.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// One job of the queue: a batch of a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchJob {
    /// The scan.
    pub scan_id: ScanId,
    /// The batch's number within it, from 0.
    pub batch_no: i32,
}

/// Why the queue could not do something.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A query failed (the database may have gone away).
    #[error("work queue query failed: {0}")]
    Database(String),
    /// The queue's own tables could not be set up.
    #[error("cannot set up the work queue's tables (apalis; they need the hstore and pgcrypto extensions, part of PostgreSQL's contrib): {0}")]
    Setup(String),
    /// A job names a batch that is not in `scan_batches`.
    #[error("batch {} of scan {} is not in the store", .0.batch_no, .0.scan_id)]
    NoSuchBatch(BatchJob),
    /// The queue's worker stopped with an error.
    #[error("the worker stopped: {0}")]
    Worker(String),
}

/// A queued scan, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Enqueued {
    /// Its id.
    pub scan_id: ScanId,
    /// Batches queued.
    pub batches: usize,
    /// Candidates in them.
    pub candidates: usize,
}

/// The work queue on a PostgreSQL store.
pub struct ScanQueue {
    store: PostgresStore,
}

impl ScanQueue {
    /// Opens the store (migrating it) and sets up the queue's tables.
    pub async fn open(url: &PostgresUrl) -> Result<Self, QueueError> {
        let store = PostgresStore::open(url).await?;
        PostgresStorage::setup(store.pool())
            .await
            .map_err(|e| QueueError::Setup(e.to_string()))?;
        Ok(Self { store })
    }

    /// The store under the queue.
    pub fn store(&self) -> &PostgresStore {
        &self.store
    }

    /// Its pool.
    pub fn pool(&self) -> &PgPool {
        self.store.pool()
    }

    /// The store, to be shared by a worker's stages.
    pub fn into_store(self) -> PostgresStore {
        self.store
    }

    /// Records a scan of what `found` holds, split into batches of
    /// `batch_size`, and queues one job per batch (each tried at most
    /// `max_attempts` times), all or nothing.
    pub async fn enqueue(
        &self,
        record: &NewScan,
        found: &Found,
        batch_size: usize,
        max_attempts: u32,
    ) -> Result<Enqueued, QueueError> {
        let work = work::split(&found.candidates, &found.pages, batch_size);
        let db = |e: sqlx::Error| QueueError::Database(e.to_string());
        let mut tx = self.pool().begin().await.map_err(db)?;
        let scan_id = batches::insert_scan(&mut tx, &queued(record, max_attempts), &work).await?;
        let tasks = (0..work.len())
            .map(|batch_no| {
                let job = BatchJob {
                    scan_id,
                    batch_no: batch_no as i32,
                };
                TaskBuilder::new(serde_json::to_vec(&job).expect("a job serialises"))
                    // The batch's attempts are counted in `scan_batches`
                    // (a worker that died on it counts; a worker stopped
                    // by the user does not): the queue must never stop
                    // delivering a job first, or the scan would never end.
                    .max_attempts(QUEUE_ATTEMPTS)
                    .build()
            })
            .collect();
        apalis_postgres::queries::push_tasks(&mut *tx, QUEUE, tasks)
            .await
            .map_err(|e| QueueError::Database(e.to_string()))?;
        batches::refresh_scan(&mut tx, scan_id).await.map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(Enqueued {
            scan_id,
            batches: work.len(),
            candidates: found.candidates.len(),
        })
    }
}

/// How often the queue delivers a job at most: far more than any batch's
/// attempts, which `scan_batches` counts and ends.
const QUEUE_ATTEMPTS: usize = 1000;

/// A queued scan's record: marked, so a scan run in one process with the
/// same words never resumes it (its batches are the workers'), and with
/// the attempts each batch gets.
fn queued(record: &NewScan, max_attempts: u32) -> NewScan {
    let mut record = record.clone();
    if let Some(options) = record.options.as_object_mut() {
        options.insert("queued".into(), true.into());
        options.insert("max_attempts".into(), max_attempts.max(1).into());
    }
    record
}

/// How long a worker's shared host slot lasts unless renewed: as long as
/// the queue waits for a silent worker (its missed heartbeats), so a dead
/// worker's slots and its batches come free together.
pub fn host_slot_lease(heartbeat: Duration, missed_heartbeats: usize) -> Duration {
    (heartbeat * missed_heartbeats.max(1) as u32).max(Duration::from_secs(1))
}
