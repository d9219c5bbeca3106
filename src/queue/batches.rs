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
    /// Run it: this is attempt `attempt`.
    Run {
        /// The work, as queued.
        work: serde_json::Value,
        /// The scan's options (follow pages, …).
        options: serde_json::Value,
        /// 1 for the first attempt.
        attempt: i32,
    },
    /// Already done or failed (a second delivery): nothing to do.
    Ended,
    /// It ran out of attempts (workers died on it): now failed.
    GaveUp,
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

/// Takes a batch for `worker`, counting the attempt; a batch whose
/// earlier attempts all ended without a word (their workers died) fails.
pub async fn claim(
    pool: &PgPool,
    job: BatchJob,
    worker: &str,
    max_attempts: i32,
) -> Result<Claim, QueueError> {
    let mut tx = pool.begin().await.map_err(db)?;
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
    if status == "done" || status == "failed" {
        return Ok(Claim::Ended);
    }
    if attempts >= max_attempts {
        let reason = format!(
            "gave up after {attempts} attempts; the last ended without a word (its worker stopped or died)"
        );
        set_state(&mut tx, job, "failed", Some(&reason), None).await?;
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
        options: row.get("options"),
        attempt: attempts + 1,
    })
}

/// The batch's counters so far, and its scan's sums.
pub async fn progress(
    pool: &PgPool,
    job: BatchJob,
    counts: &ScanCounts,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE scan_batches SET counts = $3, updated_at = now()
         WHERE scan_id = $1 AND batch_no = $2 AND status = 'running'",
    )
    .bind(job.scan_id)
    .bind(job.batch_no)
    .bind(serde_json::to_value(counts).expect("counts serialise"))
    .execute(&mut *tx)
    .await?;
    refresh_scan(&mut tx, job.scan_id).await?;
    tx.commit().await
}

/// Ends a batch: `done` with its counters, `failed` with why, or back to
/// `queued` (a failed attempt to retry, or a run interrupted by its worker
/// stopping, which does not count as an attempt).
pub async fn end(pool: &PgPool, job: BatchJob, end: BatchEnd<'_>) -> Result<(), QueueError> {
    let mut tx = pool.begin().await.map_err(db)?;
    match end {
        BatchEnd::Done(counts) => set_state(&mut tx, job, "done", None, Some(counts)).await?,
        BatchEnd::Failed { error, last: true } => {
            set_state(&mut tx, job, "failed", Some(error), None).await?
        }
        BatchEnd::Failed { error, last: false } => {
            set_state(&mut tx, job, "queued", Some(error), None).await?
        }
        BatchEnd::Released => {
            sqlx::query(
                "UPDATE scan_batches SET status = 'queued', attempts = greatest(attempts - 1, 0),
                        updated_at = now()
                 WHERE scan_id = $1 AND batch_no = $2 AND status = 'running'",
            )
            .bind(job.scan_id)
            .bind(job.batch_no)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
    }
    refresh_scan(&mut tx, job.scan_id).await.map_err(db)?;
    tx.commit().await.map_err(db)
}

/// How a batch's run ended.
#[derive(Debug)]
pub enum BatchEnd<'a> {
    /// It ran to its end.
    Done(&'a ScanCounts),
    /// It failed; `last` when no attempt is left.
    Failed {
        /// Why.
        error: &'a str,
        /// No attempt is left.
        last: bool,
    },
    /// Its worker stopped before its end.
    Released,
}

async fn set_state(
    tx: &mut Transaction<'_, Postgres>,
    job: BatchJob,
    status: &str,
    error: Option<&str>,
    counts: Option<&ScanCounts>,
) -> Result<(), QueueError> {
    sqlx::query(
        "UPDATE scan_batches SET status = $3, last_error = coalesce($4, last_error),
                counts = coalesce($5, counts), updated_at = now()
         WHERE scan_id = $1 AND batch_no = $2 AND status IN ('queued', 'running')",
    )
    .bind(job.scan_id)
    .bind(job.batch_no)
    .bind(status)
    .bind(error)
    .bind(counts.map(|c| serde_json::to_value(c).expect("counts serialise")))
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
