//! The `scan_batches` table: each batch's state, attempts, last error and
//! counters, and its scan's state and counters derived from them. Every
//! write is idempotent under the queue's at-least-once delivery: a batch
//! already done or failed is never run or changed again.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgPool, Postgres, Row, Transaction};

use super::work::BatchWork;
use super::{BatchJob, QueueError};
use crate::model::{NewScan, ScanCounts, ScanId, ScanStatus};

/// What a worker may do with a batch it was handed.
#[derive(Debug)]
pub enum Claim {
    /// Run it, under `lease`.
    Run {
        /// The work, as queued.
        work: serde_json::Value,
        /// The scan's options (follow pages, …).
        options: serde_json::Value,
        /// Which attempt, by whom: every later write names it.
        lease: Lease,
    },
    /// Already done or failed (a second delivery): nothing to do.
    Ended,
    /// It ran out of attempts (workers died on it): now failed.
    GaveUp,
}

/// One attempt at a batch: its later writes change the batch only while
/// it is still this attempt's (another worker may have taken the batch
/// over from one thought dead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The batch.
    pub job: BatchJob,
    /// The worker running it.
    pub worker: String,
    /// Which attempt (1 for the first).
    pub attempt: i32,
    /// Attempts the batch gets in all.
    pub max_attempts: i32,
}

impl Lease {
    /// Whether no attempt is left after this one.
    pub fn is_last(&self) -> bool {
        self.attempt >= self.max_attempts
    }
}

/// A batch that failed for good.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailedBatch {
    /// Its scan.
    pub scan_id: ScanId,
    /// Its number within the scan (from 0).
    pub batch_no: i32,
    /// Candidates in it.
    pub size: i32,
    /// Attempts made.
    pub attempts: i32,
    /// The last worker that ran it.
    pub worker: Option<String>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it failed.
    pub failed_at: DateTime<Utc>,
}

fn db(e: sqlx::Error) -> QueueError {
    QueueError::Database(e.to_string())
}

/// Records a queued scan and its batches (in the caller's transaction, so
/// the queue's jobs are pushed with them or not at all).
pub async fn insert_scan(
    tx: &mut Transaction<'_, Postgres>,
    record: &NewScan,
    batches: &[BatchWork],
) -> Result<ScanId, QueueError> {
    let candidates: usize = batches.iter().map(|b| b.candidates.len()).sum();
    let counts = ScanCounts {
        candidates: candidates as u64,
        ..ScanCounts::default()
    };
    let scan_id: ScanId = sqlx::query_scalar(
        "INSERT INTO scans (keyphrase, provider, options, status, counts, started_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(&record.keyphrase)
    .bind(&record.provider)
    .bind(&record.options)
    .bind(ScanStatus::Queued.as_str())
    .bind(serde_json::to_value(counts).expect("counts serialise"))
    .bind(record.started_at)
    .fetch_one(&mut **tx)
    .await
    .map_err(db)?;
    let works: Vec<serde_json::Value> = batches
        .iter()
        .map(|b| serde_json::to_value(b).expect("work serialises"))
        .collect();
    let sizes: Vec<i32> = batches.iter().map(|b| b.candidates.len() as i32).collect();
    sqlx::query(
        "INSERT INTO scan_batches (scan_id, batch_no, work, size, status, updated_at)
         SELECT $1, ord::int - 1, work, size, 'queued', now()
         FROM unnest($2::jsonb[], $3::int[]) WITH ORDINALITY AS t(work, size, ord)",
    )
    .bind(scan_id)
    .bind(&works)
    .bind(&sizes)
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    Ok(scan_id)
}

/// Locks the scan's row first: every transaction that changes a batch
/// then derives the scan's state from what the others committed (without
/// it, two last batches ending at once could each see the other running).
async fn lock_scan(tx: &mut Transaction<'_, Postgres>, scan_id: ScanId) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1 FROM scans WHERE id = $1 FOR UPDATE")
        .bind(scan_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Takes a batch for `worker`, counting the attempt; a batch whose
/// earlier attempts all ended without a word (their workers died) fails.
/// The attempts a batch gets are its scan's (`scan --enqueue
/// --max-attempts`).
pub async fn claim(pool: &PgPool, job: BatchJob, worker: &str) -> Result<Claim, QueueError> {
    let mut tx = pool.begin().await.map_err(db)?;
    lock_scan(&mut tx, job.scan_id).await.map_err(db)?;
    let row = sqlx::query(
        "SELECT b.status, b.attempts, b.work, s.options FROM scan_batches b
         JOIN scans s ON s.id = b.scan_id
         WHERE b.scan_id = $1 AND b.batch_no = $2 FOR UPDATE OF b",
    )
    .bind(job.scan_id)
    .bind(job.batch_no)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?
    .ok_or(QueueError::NoSuchBatch(job))?;
    let status: String = row.get("status");
    let attempts: i32 = row.get("attempts");
    let options: serde_json::Value = row.get("options");
    let max_attempts = options["max_attempts"]
        .as_i64()
        .map_or(super::DEFAULT_MAX_ATTEMPTS as i32, |n| {
            n.clamp(1, 1000) as i32
        });
    if status == "done" || status == "failed" {
        return Ok(Claim::Ended);
    }
    if attempts >= max_attempts {
        let reason = format!(
            "gave up after {attempts} attempts (the last ended without a word: its worker stopped or died)"
        );
        give_up(&mut tx, job, &reason).await?;
        refresh_scan(&mut tx, job.scan_id).await.map_err(db)?;
        tx.commit().await.map_err(db)?;
        return Ok(Claim::GaveUp);
    }
    // What an earlier attempt did is kept (the pictures it stored are new
    // no more for this one), its candidates aside: they are this one's too.
    sqlx::query(
        "UPDATE scan_batches SET status = 'running', attempts = attempts + 1, worker = $3,
                prior = CASE WHEN counts IS NULL THEN prior ELSE (
                    SELECT jsonb_object_agg(key, total) FROM (
                        SELECT key, sum(value::bigint) AS total FROM (
                            SELECT * FROM jsonb_each_text(coalesce(prior, '{}'))
                            UNION ALL SELECT * FROM jsonb_each_text(counts - 'candidates')) e
                        GROUP BY key) t) END,
                counts = NULL, updated_at = now()
         WHERE scan_id = $1 AND batch_no = $2",
    )
    .bind(job.scan_id)
    .bind(job.batch_no)
    .bind(worker)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    refresh_scan(&mut tx, job.scan_id).await.map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(Claim::Run {
        work: row.get("work"),
        options,
        lease: Lease {
            job,
            worker: worker.to_string(),
            attempt: attempts + 1,
            max_attempts,
        },
    })
}

/// The guard on every write of an attempt: the batch is still running
/// under it.
const HELD: &str =
    "scan_id = $1 AND batch_no = $2 AND status = 'running' AND worker = $3 AND attempts = $4";

/// The batch's counters so far, and its scan's sums.
pub async fn progress(
    pool: &PgPool,
    lease: &Lease,
    counts: &ScanCounts,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    lock_scan(&mut tx, lease.job.scan_id).await?;
    let sql = format!("UPDATE scan_batches SET counts = $5, updated_at = now() WHERE {HELD}");
    held(sqlx::query(sqlx::AssertSqlSafe(sql)), lease)
        .bind(serde_json::to_value(counts).expect("counts serialise"))
        .execute(&mut *tx)
        .await?;
    refresh_scan(&mut tx, lease.job.scan_id).await?;
    tx.commit().await
}

/// Binds [`HELD`]'s four parameters.
fn held<'q>(
    query: sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>,
    lease: &Lease,
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    query
        .bind(lease.job.scan_id)
        .bind(lease.job.batch_no)
        .bind(lease.worker.clone())
        .bind(lease.attempt)
}

/// Ends an attempt: the batch `done` with its counters, `failed` with
/// why (its last attempt), back to `queued` with why (to be tried again),
/// or back to `queued` uncounted (its worker stopped before the end).
/// Nothing changes when the batch is no longer this attempt's.
pub async fn end(pool: &PgPool, lease: &Lease, end: BatchEnd<'_>) -> Result<(), QueueError> {
    let mut tx = pool.begin().await.map_err(db)?;
    lock_scan(&mut tx, lease.job.scan_id).await.map_err(db)?;
    let (status, error, counts, uncount) = match end {
        BatchEnd::Done(counts) => ("done", None, Some(counts), false),
        BatchEnd::Failed(error) if lease.is_last() => ("failed", Some(error), None, false),
        BatchEnd::Failed(error) => ("queued", Some(error), None, false),
        BatchEnd::Released => ("queued", None, None, true),
    };
    let sql = format!(
        "UPDATE scan_batches SET status = $5, last_error = coalesce($6, last_error),
                counts = coalesce($7, counts),
                attempts = CASE WHEN $8 THEN greatest(attempts - 1, 0) ELSE attempts END,
                updated_at = now()
         WHERE {HELD}"
    );
    held(sqlx::query(sqlx::AssertSqlSafe(sql)), lease)
        .bind(status)
        .bind(error)
        .bind(counts.map(|c| serde_json::to_value(c).expect("counts serialise")))
        .bind(uncount)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    refresh_scan(&mut tx, lease.job.scan_id).await.map_err(db)?;
    tx.commit().await.map_err(db)
}

/// Gives back what a worker (one life of a worker process) was running
/// when its connection broke: its batches `queued` again, uncounted, and
/// its jobs back in the queue (apalis would wait for the name to go
/// silent, which a reconnecting process never does).
pub async fn release_worker(pool: &PgPool, worker: &str) -> Result<(), QueueError> {
    let mut tx = pool.begin().await.map_err(db)?;
    let scans: Vec<ScanId> = sqlx::query_scalar(
        "SELECT DISTINCT scan_id FROM scan_batches WHERE worker = $1 AND status = 'running'",
    )
    .bind(worker)
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    for scan_id in &scans {
        lock_scan(&mut tx, *scan_id).await.map_err(db)?;
    }
    sqlx::query(
        "UPDATE scan_batches SET status = 'queued', attempts = greatest(attempts - 1, 0),
                updated_at = now()
         WHERE worker = $1 AND status = 'running'",
    )
    .bind(worker)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    sqlx::query(
        "UPDATE apalis.jobs SET status = 'Pending', lock_by = NULL, lock_at = NULL
         WHERE lock_by = $1 AND status IN ('Queued', 'Running')",
    )
    .bind(worker)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    for scan_id in scans {
        refresh_scan(&mut tx, scan_id).await.map_err(db)?;
    }
    tx.commit().await.map_err(db)
}

/// How an attempt at a batch ended.
#[derive(Debug)]
pub enum BatchEnd<'a> {
    /// It ran to its end.
    Done(&'a ScanCounts),
    /// It failed, for this reason.
    Failed(&'a str),
    /// Its worker stopped before its end.
    Released,
}

/// Fails a batch that ran out of attempts.
async fn give_up(
    tx: &mut Transaction<'_, Postgres>,
    job: BatchJob,
    reason: &str,
) -> Result<(), QueueError> {
    sqlx::query(
        "UPDATE scan_batches SET status = 'failed', last_error = coalesce(last_error || '; ', '') || $3,
                updated_at = now()
         WHERE scan_id = $1 AND batch_no = $2 AND status IN ('queued', 'running')",
    )
    .bind(job.scan_id)
    .bind(job.batch_no)
    .bind(reason)
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    Ok(())
}

/// A scan's counters are its batches' sums (every attempt's); it is running while a batch
/// waits or runs, then completed, or failed when a batch failed.
pub(super) async fn refresh_scan(
    tx: &mut Transaction<'_, Postgres>,
    scan_id: ScanId,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH sums AS (
             SELECT jsonb_object_agg(key, total) AS counts FROM (
                 SELECT key, sum(value::bigint) AS total FROM (
                     SELECT c.key, c.value FROM scan_batches b,
                            jsonb_each_text(coalesce(b.counts, '{}')) c WHERE b.scan_id = $1
                     UNION ALL
                     SELECT p.key, p.value FROM scan_batches b,
                            jsonb_each_text(coalesce(b.prior, '{}')) p WHERE b.scan_id = $1) e
                 GROUP BY key) t),
         states AS (
             SELECT bool_or(status IN ('queued', 'running')) AS open,
                    bool_or(status = 'failed') AS failed,
                    bool_or(status <> 'queued' OR attempts > 0) AS started
             FROM scan_batches WHERE scan_id = $1)
         UPDATE scans s SET
             -- Candidates: those the search found, or more once batches
             -- following pages found more.
             counts = CASE WHEN sums.counts IS NULL THEN s.counts
                           ELSE s.counts || sums.counts || jsonb_build_object('candidates',
                               greatest(coalesce((s.counts->>'candidates')::bigint, 0),
                                        coalesce((sums.counts->>'candidates')::bigint, 0))) END,
             status = CASE WHEN states.open AND states.started THEN 'running'
                           WHEN states.open THEN 'queued'
                           WHEN states.failed THEN 'failed'
                           ELSE 'completed' END,
             finished_at = CASE WHEN states.open THEN NULL ELSE coalesce(s.finished_at, now()) END
         FROM sums, states WHERE s.id = $1",
    )
    .bind(scan_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Batches that failed for good, the latest first.
pub async fn failed(pool: &PgPool, limit: u32) -> Result<Vec<FailedBatch>, QueueError> {
    let rows = sqlx::query(
        "SELECT scan_id, batch_no, size, attempts, worker, last_error, updated_at
         FROM scan_batches WHERE status = 'failed' ORDER BY updated_at DESC LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db)?;
    Ok(rows
        .iter()
        .map(|r| FailedBatch {
            scan_id: r.get("scan_id"),
            batch_no: r.get("batch_no"),
            size: r.get("size"),
            attempts: r.get("attempts"),
            worker: r.get("worker"),
            last_error: r.get("last_error"),
            failed_at: r.get("updated_at"),
        })
        .collect())
}

/// Whether any batch of any scan waits or runs.
pub async fn any_open(pool: &PgPool) -> Result<bool, QueueError> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM scan_batches WHERE status IN ('queued', 'running'))",
    )
    .fetch_one(pool)
    .await
    .map_err(db)
}
