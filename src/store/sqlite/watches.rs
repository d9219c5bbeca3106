//! Watches on the embedded store (times as microseconds, JSON as text).

use super::{query_error, SqliteStore};
use crate::model::{
    ChangeKind, ChangeRecord, CheckOutcome, NewWatch, PostingToCheck, ScanId, WatchId, WatchRecord,
};
use crate::store::rows::{self, micros};
use crate::store::watch_sql as sql;
use crate::store::StoreResult;
use chrono::{DateTime, Utc};

impl SqliteStore {
    pub(super) async fn add_watch_row(&self, w: &NewWatch) -> StoreResult<WatchId> {
        sqlx::query_scalar(
            "INSERT INTO watches (scan, image, every_secs, created_at, next_run_at)
             VALUES ($1, $2, $3, $4, $4) RETURNING id",
        )
        .bind(serde_json::json!(w.scan).to_string())
        .bind(&w.image)
        .bind(w.every_secs)
        .bind(micros(w.created_at))
        .fetch_one(&self.pool)
        .await
        .map_err(query_error)
    }

    pub(super) async fn watch_rows(&self) -> StoreResult<Vec<WatchRecord>> {
        let found = sqlx::query(sql::WATCHES)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error)?;
        found.iter().map(rows::watch).collect()
    }

    pub(super) async fn watch_image_row(&self, id: WatchId) -> StoreResult<Option<Vec<u8>>> {
        let found: Option<Option<Vec<u8>>> = sqlx::query_scalar(sql::WATCH_IMAGE)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error)?;
        Ok(found.flatten())
    }

    pub(super) async fn remove_watch_row(&self, id: WatchId) -> StoreResult<bool> {
        let done = sqlx::query(sql::REMOVE_WATCH)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(query_error)?;
        Ok(done.rows_affected() > 0)
    }

    pub(super) async fn take_postings_rows(
        &self,
        watch: WatchId,
        scan: ScanId,
        at: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await.map_err(query_error)?;
        let new = sqlx::query(sql::NEW_POSTINGS)
            .bind(watch)
            .bind(scan)
            .bind(micros(at))
            .execute(&mut *tx)
            .await
            .map_err(query_error)?
            .rows_affected();
        sqlx::query(sql::FOLLOW_POSTINGS)
            .bind(watch)
            .bind(scan)
            .execute(&mut *tx)
            .await
            .map_err(query_error)?;
        tx.commit().await.map_err(query_error)?;
        Ok(new)
    }

    pub(super) async fn postings_to_check_rows(
        &self,
        watch: WatchId,
    ) -> StoreResult<Vec<PostingToCheck>> {
        let found = sqlx::query(sql::POSTINGS_TO_CHECK)
            .bind(watch)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error)?;
        Ok(found.iter().map(rows::posting_to_check).collect())
    }

    pub(super) async fn record_check_rows(
        &self,
        watch: WatchId,
        sighting: i64,
        outcome: &CheckOutcome,
        at: DateTime<Utc>,
        gone_after: u32,
    ) -> StoreResult<Option<ChangeKind>> {
        let mut tx = self.pool.begin().await.map_err(query_error)?;
        let mut recorded = None;
        let change = match outcome {
            CheckOutcome::Skipped(_) => None,
            CheckOutcome::There {
                etag,
                last_modified,
            } => {
                let was_gone: Option<bool> = sqlx::query_scalar(sql::WAS_GONE)
                    .bind(sighting)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(query_error)?;
                sqlx::query(sql::POSTING_THERE)
                    .bind(sighting)
                    .bind(micros(at))
                    .bind(etag)
                    .bind(last_modified.map(micros))
                    .execute(&mut *tx)
                    .await
                    .map_err(query_error)?;
                if was_gone == Some(true) {
                    sqlx::query(sql::ADD_CHANGE)
                        .bind(watch)
                        .bind(sighting)
                        .bind(ChangeKind::New.as_str())
                        .bind(micros(at))
                        .bind("there again after it was gone")
                        .execute(&mut *tx)
                        .await
                        .map_err(query_error)?;
                    recorded = Some(ChangeKind::New);
                }
                None
            }
            CheckOutcome::Gone(why) => Some((ChangeKind::Gone, why.clone())),
            CheckOutcome::Changed(why) => Some((ChangeKind::Changed, why.clone())),
            CheckOutcome::Failed(why) => {
                let failed: Option<i64> = sqlx::query_scalar(sql::POSTING_FAILED)
                    .bind(sighting)
                    .bind(micros(at))
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(query_error)?;
                failed.filter(|n| *n >= i64::from(gone_after)).map(|n| {
                    (
                        ChangeKind::Gone,
                        format!("no answer on {n} checks in a row (the last: {why})"),
                    )
                })
            }
        };
        if let Some((kind, why)) = change {
            let ended = sqlx::query(sql::POSTING_GONE)
                .bind(sighting)
                .bind(micros(at))
                .execute(&mut *tx)
                .await
                .map_err(query_error)?
                .rows_affected();
            if ended > 0 {
                sqlx::query(sql::ADD_CHANGE)
                    .bind(watch)
                    .bind(sighting)
                    .bind(kind.as_str())
                    .bind(micros(at))
                    .bind(why)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_error)?;
                recorded = Some(kind);
            }
        }
        tx.commit().await.map_err(query_error)?;
        Ok(recorded)
    }

    pub(super) async fn finish_watch_run_row(
        &self,
        watch: WatchId,
        at: DateTime<Utc>,
        scan: Option<ScanId>,
        next: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(sql::FINISH_RUN)
            .bind(watch)
            .bind(micros(at))
            .bind(scan)
            .bind(micros(next))
            .execute(&self.pool)
            .await
            .map_err(query_error)?;
        Ok(())
    }

    pub(super) async fn change_rows(
        &self,
        since: Option<DateTime<Utc>>,
        watch: Option<WatchId>,
    ) -> StoreResult<Vec<ChangeRecord>> {
        let statement = format!(
            "{} WHERE ($1 IS NULL OR c.at >= $1) AND ($2 IS NULL OR c.watch_id = $2) ORDER BY c.at, c.id",
            sql::CHANGES
        );
        let found = sqlx::query(sqlx::AssertSqlSafe(statement))
            .bind(since.map(micros))
            .bind(watch)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error)?;
        found.iter().map(rows::change).collect()
    }

    pub(super) async fn undelivered_change_rows(
        &self,
        limit: u32,
    ) -> StoreResult<Vec<ChangeRecord>> {
        let statement = format!(
            "{} WHERE c.delivered_at IS NULL ORDER BY c.id LIMIT $1",
            sql::CHANGES
        );
        let found = sqlx::query(sqlx::AssertSqlSafe(statement))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(query_error)?;
        found.iter().map(rows::change).collect()
    }

    pub(super) async fn mark_delivered_rows(
        &self,
        ids: &[i64],
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE changes SET delivered_at = $1 WHERE id IN (SELECT value FROM json_each($2))",
        )
        .bind(micros(at))
        .bind(serde_json::json!(ids).to_string())
        .execute(&self.pool)
        .await
        .map_err(query_error)?;
        Ok(())
    }
}
