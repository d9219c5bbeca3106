//! Watches on both stores, written once over sqlx's `Database`: what the
//! dialects do differently — how a time is encoded, the few statements
//! that need PostgreSQL's casts — is the [`Dialect`] each backend gives.

use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, Type};

use super::rows::{self, Columns};
use super::shared::Shared;
use super::watch_sql as sql;
use super::StoreResult;
use crate::model::{
    ChangeKind, ChangeRecord, CheckOutcome, NewWatch, PostingToCheck, ScanId, WatchId, WatchRecord,
};

/// What differs between the backends for watches.
pub(super) trait Dialect: Database {
    /// A time as the database stores it.
    type Time: for<'q> Encode<'q, Self> + Type<Self> + Send + Sync + 'static;
    /// Encodes a time.
    fn time(t: DateTime<Utc>) -> Self::Time;
    /// Rows a statement changed.
    fn rows_affected(done: &Self::QueryResult) -> u64;
    /// Records a watch: `$1` the scan as JSON text, `$2` picture, `$3`
    /// period, `$4` now; returns the id.
    const ADD_WATCH: &'static str;
    /// `changes`: `$1` since (or NULL), `$2` watch (or NULL).
    const CHANGES: &'static str;
    /// Marks changes sent: `$1` now, `$2` their ids as a JSON array.
    const MARK_DELIVERED: &'static str;
}

impl Dialect for sqlx::Sqlite {
    type Time = i64;
    fn time(t: DateTime<Utc>) -> i64 {
        rows::micros(t)
    }
    fn rows_affected(done: &sqlx::sqlite::SqliteQueryResult) -> u64 {
        done.rows_affected()
    }
    const ADD_WATCH: &'static str =
        "INSERT INTO watches (scan, image, every_secs, created_at, next_run_at)
         VALUES ($1, $2, $3, $4, $4) RETURNING id";
    const CHANGES: &'static str = "SELECT c.id, c.watch_id, c.kind, c.at, c.detail, c.delivered_at,
            s.id AS sighting_id, s.image_id, s.image_url, s.page_url, s.page_title, s.site
         FROM changes c JOIN sightings s ON s.id = c.sighting_id
         WHERE ($1 IS NULL OR c.at >= $1) AND ($2 IS NULL OR c.watch_id = $2)
         ORDER BY c.at, c.id";
    const MARK_DELIVERED: &'static str =
        "UPDATE changes SET delivered_at = $1 WHERE id IN (SELECT value FROM json_each($2))";
}

impl Dialect for sqlx::Postgres {
    type Time = DateTime<Utc>;
    fn time(t: DateTime<Utc>) -> DateTime<Utc> {
        t
    }
    fn rows_affected(done: &sqlx::postgres::PgQueryResult) -> u64 {
        done.rows_affected()
    }
    const ADD_WATCH: &'static str =
        "INSERT INTO watches (scan, image, every_secs, created_at, next_run_at)
         VALUES ($1::jsonb, $2, $3, $4, $4) RETURNING id";
    const CHANGES: &'static str = "SELECT c.id, c.watch_id, c.kind, c.at, c.detail, c.delivered_at,
            s.id AS sighting_id, s.image_id, s.image_url, s.page_url, s.page_title, s.site
         FROM changes c JOIN sightings s ON s.id = c.sighting_id
         WHERE ($1::timestamptz IS NULL OR c.at >= $1) AND ($2::bigint IS NULL OR c.watch_id = $2)
         ORDER BY c.at, c.id";
    const MARK_DELIVERED: &'static str = "UPDATE changes SET delivered_at = $1
         WHERE id IN (SELECT jsonb_array_elements_text($2::jsonb)::bigint)";
}

impl<DB> Shared<'_, DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    DB::Row: Columns,
    for<'q> &'q str: Encode<'q, DB> + Type<DB> + ColumnIndex<DB::Row>,
    for<'q> &'q String: Encode<'q, DB>,
    String: Type<DB> + for<'q> Encode<'q, DB>,
    Option<String>: Type<DB> + for<'q> Encode<'q, DB>,
    Option<Vec<u8>>: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    Option<i64>: Type<DB> + for<'q> Encode<'q, DB>,
    Option<DB::Time>: Type<DB> + for<'q> Encode<'q, DB>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
    (Option<Vec<u8>>,): for<'r> FromRow<'r, DB::Row>,
{
    /// Records a watch.
    pub async fn add_watch(&self, w: &NewWatch) -> StoreResult<WatchId> {
        sqlx::query_scalar::<DB, i64>(DB::ADD_WATCH)
            .bind(serde_json::json!(w.scan).to_string())
            .bind(w.image.clone())
            .bind(w.every_secs)
            .bind(DB::time(w.created_at))
            .fetch_one(self.pool)
            .await
            .map_err(|e| self.error(e))
    }

    /// Every watch.
    pub async fn watches(&self) -> StoreResult<Vec<WatchRecord>> {
        let found = sqlx::query::<DB>(sql::WATCHES)
            .fetch_all(self.pool)
            .await
            .map_err(|e| self.error(e))?;
        found.iter().map(rows::watch).collect()
    }

    /// The picture kept with a watch.
    pub async fn watch_image(&self, id: WatchId) -> StoreResult<Option<Vec<u8>>> {
        let found = sqlx::query_scalar::<DB, Option<Vec<u8>>>(sql::WATCH_IMAGE)
            .bind(id)
            .fetch_optional(self.pool)
            .await
            .map_err(|e| self.error(e))?;
        Ok(found.flatten())
    }

    /// Removes a watch.
    pub async fn remove_watch(&self, id: WatchId) -> StoreResult<bool> {
        let done = sqlx::query::<DB>(sql::REMOVE_WATCH)
            .bind(id)
            .execute(self.pool)
            .await
            .map_err(|e| self.error(e))?;
        Ok(DB::rows_affected(&done) > 0)
    }

    /// The scan's new postings become the watch's, in one transaction.
    pub async fn take_postings(
        &self,
        watch: WatchId,
        scan: ScanId,
        at: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await.map_err(|e| self.error(e))?;
        let new = sqlx::query::<DB>(sql::NEW_POSTINGS)
            .bind(watch)
            .bind(scan)
            .bind(DB::time(at))
            .execute(&mut *tx)
            .await
            .map_err(|e| self.error(e))?;
        sqlx::query::<DB>(sql::FOLLOW_POSTINGS)
            .bind(watch)
            .bind(scan)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.error(e))?;
        tx.commit().await.map_err(|e| self.error(e))?;
        Ok(DB::rows_affected(&new))
    }

    /// Every posting a watch follows.
    pub async fn postings_to_check(&self, watch: WatchId) -> StoreResult<Vec<PostingToCheck>> {
        let found = sqlx::query::<DB>(sql::POSTINGS_TO_CHECK)
            .bind(watch)
            .fetch_all(self.pool)
            .await
            .map_err(|e| self.error(e))?;
        Ok(found.iter().map(rows::posting_to_check).collect())
    }

    /// A re-check's outcome and its change, in one transaction.
    pub async fn record_check(
        &self,
        watch: WatchId,
        sighting: i64,
        outcome: &CheckOutcome,
        at: DateTime<Utc>,
        gone_after: u32,
    ) -> StoreResult<Option<ChangeKind>> {
        let mut tx = self.pool.begin().await.map_err(|e| self.error(e))?;
        let (kind, why) = match outcome {
            CheckOutcome::Skipped(_) => return Ok(None),
            CheckOutcome::There {
                etag,
                last_modified,
            } => {
                let was_gone = sqlx::query_scalar::<DB, i64>(sql::WAS_GONE)
                    .bind(sighting)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| self.error(e))?;
                sqlx::query::<DB>(sql::POSTING_THERE)
                    .bind(sighting)
                    .bind(DB::time(at))
                    .bind(etag.clone())
                    .bind(last_modified.map(DB::time))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| self.error(e))?;
                if was_gone == 0 {
                    tx.commit().await.map_err(|e| self.error(e))?;
                    return Ok(None);
                }
                (ChangeKind::New, "there again after it was gone".to_string())
            }
            CheckOutcome::Gone(why) => (ChangeKind::Gone, why.clone()),
            CheckOutcome::Changed(why) => (ChangeKind::Changed, why.clone()),
            CheckOutcome::Failed(why) => {
                let failed = sqlx::query_scalar::<DB, i64>(sql::POSTING_FAILED)
                    .bind(sighting)
                    .bind(DB::time(at))
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(|e| self.error(e))?;
                match failed.filter(|n| *n >= i64::from(gone_after)) {
                    Some(n) => (
                        ChangeKind::Gone,
                        format!("no answer on {n} checks in a row (the last: {why})"),
                    ),
                    None => {
                        tx.commit().await.map_err(|e| self.error(e))?;
                        return Ok(None);
                    }
                }
            }
        };
        if kind != ChangeKind::New {
            let ended = sqlx::query::<DB>(sql::POSTING_GONE)
                .bind(sighting)
                .bind(DB::time(at))
                .execute(&mut *tx)
                .await
                .map_err(|e| self.error(e))?;
            if DB::rows_affected(&ended) == 0 {
                tx.commit().await.map_err(|e| self.error(e))?;
                return Ok(None);
            }
        }
        sqlx::query::<DB>(sql::ADD_CHANGE)
            .bind(watch)
            .bind(sighting)
            .bind(kind.as_str())
            .bind(DB::time(at))
            .bind(why)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.error(e))?;
        tx.commit().await.map_err(|e| self.error(e))?;
        Ok(Some(kind))
    }

    /// A run ended.
    pub async fn finish_watch_run(
        &self,
        watch: WatchId,
        at: DateTime<Utc>,
        scan: Option<ScanId>,
        next: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query::<DB>(sql::FINISH_RUN)
            .bind(watch)
            .bind(DB::time(at))
            .bind(scan)
            .bind(DB::time(next))
            .execute(self.pool)
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Changes since a time, of one watch or all.
    pub async fn changes(
        &self,
        since: Option<DateTime<Utc>>,
        watch: Option<WatchId>,
    ) -> StoreResult<Vec<ChangeRecord>> {
        let found = sqlx::query::<DB>(DB::CHANGES)
            .bind(since.map(DB::time))
            .bind(watch)
            .fetch_all(self.pool)
            .await
            .map_err(|e| self.error(e))?;
        found.iter().map(rows::change).collect()
    }

    /// The changes not sent yet.
    pub async fn undelivered_changes(&self, limit: u32) -> StoreResult<Vec<ChangeRecord>> {
        let found = sqlx::query::<DB>(sql::UNDELIVERED)
            .bind(i64::from(limit))
            .fetch_all(self.pool)
            .await
            .map_err(|e| self.error(e))?;
        found.iter().map(rows::change).collect()
    }

    /// Marks changes as sent.
    pub async fn mark_delivered(&self, ids: &[i64], at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query::<DB>(DB::MARK_DELIVERED)
            .bind(DB::time(at))
            .bind(serde_json::json!(ids).to_string())
            .execute(self.pool)
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }
}
