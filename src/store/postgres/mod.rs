//! PostgreSQL + pgvector store, for large collections and many workers
//! sharing one database. Vectors live in a `vector` column with an HNSW
//! cosine index over `embedding::vector(dim)`, created when a model is bound.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pgvector::Vector;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Connection, Row};

use super::rules::{self, ModelCell, ModelRow};
use super::shared::Shared;
use super::sql;
use super::*;
use crate::config::PostgresUrl;
use crate::model::*;

mod vector_index;

pub use vector_index::VectorIndex;

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// How long to wait for the server to answer a connection attempt.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Name of the HNSW index on the vectors.
const HNSW_INDEX: &str = "images_embedding_hnsw";

/// The PostgreSQL + pgvector store.
pub struct PostgresStore {
    pool: PgPool,
    location: String,
    model: ModelCell,
}

fn query_error(source: sqlx::Error) -> StoreError {
    StoreError::Query {
        backend: Backend::Postgres,
        source,
    }
}

impl PostgresStore {
    /// The connection pool (the work queue shares it).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The queries both backends share, on this store's pool.
    fn shared(&self) -> Shared<'_, sqlx::Postgres> {
        Shared {
            pool: &self.pool,
            backend: Backend::Postgres,
        }
    }

    /// Connects, checks that pgvector is available, and migrates.
    pub async fn open(url: &PostgresUrl) -> StoreResult<Self> {
        let location = url.to_string();
        let connect_error = |reason: String| StoreError::Connect {
            backend: Backend::Postgres,
            location: url.host_port(),
            reason,
        };
        let options = PgConnectOptions::from_str(url.expose())
            .map_err(|e| connect_error(e.to_string()))?
            .application_name("provenance");
        // One direct attempt first: the pool would retry a refused connection
        // until its acquire timeout; the user deserves the reason at once.
        match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options)).await {
            Ok(Ok(conn)) => conn
                .close()
                .await
                .map_err(|e| connect_error(e.to_string()))?,
            Ok(Err(e)) => return Err(connect_error(e.to_string())),
            Err(_) => {
                return Err(connect_error(format!(
                    "no answer within {} s",
                    CONNECT_TIMEOUT.as_secs()
                )))
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| connect_error(e.to_string()))?;
        let has_vector: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector')",
        )
        .fetch_one(&pool)
        .await
        .map_err(query_error)?;
        if !has_vector {
            return Err(StoreError::NoPgvector {
                location: url.host_port(),
            });
        }
        MIGRATOR.run(&pool).await.map_err(|e| StoreError::Migrate {
            backend: Backend::Postgres,
            reason: e.to_string(),
        })?;
        Ok(Self {
            pool,
            location,
            model: ModelCell::default(),
        })
    }
}

#[async_trait]
impl ModelRow for PostgresStore {
    fn model_cell(&self) -> &ModelCell {
        &self.model
    }

    async fn read_model_row(&self) -> StoreResult<Option<String>> {
        self.shared().model_row().await
    }

    async fn insert_model_row(&self, raw: &str) -> StoreResult<()> {
        self.shared().insert_model_row(raw).await
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn status(&self) -> StoreResult<StoreStatus> {
        let model = rules::load_model(self).await?;
        self.shared().status(self.location.clone(), model).await
    }

    async fn last_image_id(&self) -> StoreResult<Option<ImageId>> {
        self.shared().last_image_id().await
    }

    async fn model(&self) -> StoreResult<Option<ModelInfo>> {
        rules::load_model(self).await
    }

    async fn bind_model(&self, model: &ModelInfo) -> StoreResult<()> {
        if !rules::bind_model(self, model).await? {
            return Ok(());
        }
        let mut conn = self.pool.acquire().await.map_err(query_error)?;
        let form = vector_index::current(&mut conn).await?;
        sqlx::query(sqlx::AssertSqlSafe(form.create(model.dim)))
            .execute(&mut *conn)
            .await
            .map_err(query_error)?;
        Ok(())
    }

    async fn upsert_image(&self, image: &NewImage) -> StoreResult<Upserted<ImageId>> {
        let mut tx = self.pool.begin().await.map_err(query_error)?;
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO images (sha256, width, height, format, byte_size, exif_date_time_original,
                                 exif_artist, exif_copyright, thumbnail, first_seen_at, last_seen_at, sha1,
                                 embedded_credits)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10, $9, $9, $11, $12)
             ON CONFLICT (sha256) DO NOTHING RETURNING id",
        )
        .bind(&image.sha256[..])
        .bind(image.width as i32)
        .bind(image.height as i32)
        .bind(&image.format)
        .bind(image.byte_size as i64)
        .bind(&image.exif.date_time_original)
        .bind(&image.exif.artist)
        .bind(&image.exif.copyright)
        .bind(image.seen_at)
        .bind(&image.thumbnail)
        .bind(image.sha1.as_ref().map(|d| &d[..]))
        .bind(image.embedded.as_ref().map(|c| serde_json::json!(c)))
        .fetch_optional(&mut *tx)
        .await
        .map_err(query_error)?;
        let (id, created) = match inserted {
            Some(id) => (id, true),
            None => {
                let id = sqlx::query_scalar(
                    "UPDATE images SET first_seen_at = least(first_seen_at, $1),
                                       last_seen_at = greatest(last_seen_at, $1),
                                       sha1 = coalesce(sha1, $3)
                     WHERE sha256 = $2 RETURNING id",
                )
                .bind(image.seen_at)
                .bind(&image.sha256[..])
                .bind(image.sha1.as_ref().map(|d| &d[..]))
                .fetch_one(&mut *tx)
                .await
                .map_err(query_error)?;
                (id, false)
            }
        };
        self.shared().insert_parts(&mut tx, id, image).await?;
        tx.commit().await.map_err(query_error)?;
        Ok(Upserted { id, created })
    }

    async fn touch_image(&self, id: ImageId, seen_at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "UPDATE images SET first_seen_at = least(first_seen_at, $1), last_seen_at = greatest(last_seen_at, $1)
             WHERE id = $2",
        )
        .bind(seen_at)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(query_error)?;
        Ok(())
    }

    async fn image_by_sha256(&self, sha256: &[u8; 32]) -> StoreResult<Option<ImageId>> {
        self.shared().image_by_sha256(sha256).await
    }

    async fn image_by_url(&self, image_url: &str) -> StoreResult<Option<ImageId>> {
        self.shared().image_by_url(image_url).await
    }

    async fn image(&self, id: ImageId) -> StoreResult<Option<ImageRecord>> {
        self.shared().image(id).await
    }

    async fn features(&self, id: ImageId, kind: &str) -> StoreResult<Option<Vec<u8>>> {
        self.shared().features(id, kind).await
    }

    async fn features_of(
        &self,
        ids: &[ImageId],
        kind: &str,
    ) -> StoreResult<Vec<(ImageId, Vec<u8>)>> {
        sqlx::query_as(
            "SELECT image_id, bytes FROM image_features WHERE kind = $1 AND image_id = ANY($2)",
        )
        .bind(kind)
        .bind(ids)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error)
    }

    async fn features_after(
        &self,
        kind: &str,
        after: ImageId,
        limit: u32,
    ) -> StoreResult<Vec<(ImageId, Vec<u8>)>> {
        self.shared().features_after(kind, after, limit).await
    }

    async fn features_lacking(
        &self,
        kind: &str,
        lacking: &str,
        after: ImageId,
        limit: u32,
    ) -> StoreResult<Vec<(ImageId, Vec<u8>)>> {
        self.shared()
            .features_lacking(kind, lacking, after, limit)
            .await
    }

    async fn add_features(&self, id: ImageId, features: &ImageFeatures) -> StoreResult<()> {
        self.shared().add_features(id, features).await
    }

    async fn thumbnail(&self, id: ImageId) -> StoreResult<Option<Vec<u8>>> {
        self.shared().thumbnail(id).await
    }

    async fn perceptual_hashes_after(
        &self,
        after: ImageId,
        limit: u32,
    ) -> StoreResult<Vec<(ImageId, Vec<PerceptualHash>)>> {
        self.shared().perceptual_hashes_after(after, limit).await
    }

    async fn set_embedding(&self, id: ImageId, embedding: &[f32]) -> StoreResult<()> {
        let model = rules::model_for_vector(rules::load_model(self).await?, embedding.len())?;
        sqlx::query(sql::SET_EMBEDDING)
            .bind(Vector::from(embedding.to_vec()))
            .bind(&model.id)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(query_error)?;
        Ok(())
    }

    async fn nearest(&self, query: &[f32], k: usize) -> StoreResult<Vec<Neighbor>> {
        let model = rules::load_model(self).await?;
        let Some(model) = rules::model_for_query(model, query.len(), k)? else {
            return Ok(Vec::new());
        };
        // 20 candidates per answer, at least 200: at 1M embedding-like
        // vectors recall@10 0.96 (fresh queries) / 0.99 (near-copies) in
        // 8 ms, where 100 gave 0.88 / 0.97 and pgvector's default of 40
        // 0.70 / 0.93 (BENCHMARKS.md, "Nearest-neighbour latency").
        let ef_search = (k * 20).clamp(200, 1000);
        let mut tx = self.pool.begin().await.map_err(query_error)?;
        // Both settings last until the end of this transaction. Without the
        // second, the planner picks an exact sequential scan + sort for small
        // tables and for generic plans of this prepared statement: correct
        // but 10× slower than the index (see BENCHMARKS.md).
        // The same round trip reads the index's form: the ORDER BY
        // expression must match the index expression exactly (the
        // similarity is of the full-precision vectors).
        let settings = format!(
            "SELECT set_config('hnsw.ef_search', $1, true), set_config('enable_seqscan', 'off', true), {}",
            vector_index::STORED
        );
        let stored: Option<String> = sqlx::query(sqlx::AssertSqlSafe(settings))
            .bind(ef_search.to_string())
            .fetch_one(&mut *tx)
            .await
            .map_err(query_error)?
            .get(2);
        let form = VectorIndex::stored(stored.as_deref());
        let sql = format!(
            "SELECT id, 1 - (embedding::vector({dim}) <=> $1) AS similarity FROM images
             WHERE embedding IS NOT NULL ORDER BY {expression} <=> {parameter} LIMIT $2",
            dim = model.dim,
            expression = form.expression(model.dim),
            parameter = form.parameter(model.dim),
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(Vector::from(query.to_vec()))
            .bind(k as i64)
            .fetch_all(&mut *tx)
            .await
            .map_err(query_error)?;
        tx.commit().await.map_err(query_error)?;
        Ok(rows
            .iter()
            .map(|r| Neighbor {
                image_id: r.get("id"),
                similarity: r.get::<f64, _>("similarity") as f32,
            })
            .collect())
    }

    async fn upsert_sighting(&self, s: &NewSighting) -> StoreResult<Upserted<i64>> {
        let row = sqlx::query(
            "INSERT INTO sightings AS t (image_id, image_url, page_url, page_title, site, provider, scan_id,
                                         rank, first_seen_at, last_seen_at, last_modified, etag, source_facts,
                                         words)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13)
             ON CONFLICT (image_id, image_url, page_url) DO UPDATE SET
                 page_title = coalesce(excluded.page_title, t.page_title),
                 site = coalesce(excluded.site, t.site),
                 provider = coalesce(excluded.provider, t.provider),
                 scan_id = coalesce(excluded.scan_id, t.scan_id),
                 rank = least(excluded.rank, t.rank),
                 first_seen_at = least(t.first_seen_at, excluded.first_seen_at),
                 last_seen_at = greatest(t.last_seen_at, excluded.last_seen_at),
                 last_modified = coalesce(excluded.last_modified, t.last_modified),
                 etag = coalesce(excluded.etag, t.etag),
                 source_facts = coalesce(excluded.source_facts, t.source_facts),
                 words = coalesce(excluded.words, t.words)
             RETURNING id, (xmax = 0) AS created",
        )
        .bind(s.image_id)
        .bind(&s.image_url)
        .bind(s.page_url.as_deref().unwrap_or(""))
        .bind(&s.page_title)
        .bind(&s.site)
        .bind(&s.provider)
        .bind(s.scan_id)
        .bind(s.rank.map(|r| r as i32))
        .bind(s.seen_at)
        .bind(s.last_modified)
        .bind(&s.etag)
        .bind(s.source_facts.as_ref().map(|f| serde_json::json!(f)))
        .bind(s.words.as_ref().map(|w| serde_json::json!(w)))
        .fetch_one(&self.pool)
        .await
        .map_err(query_error)?;
        Ok(Upserted {
            id: row.get("id"),
            created: row.get("created"),
        })
    }

    async fn sightings(&self, image: ImageId) -> StoreResult<Vec<SightingRecord>> {
        self.shared().sightings(image).await
    }

    async fn start_scan(&self, scan: &NewScan) -> StoreResult<ScanId> {
        sqlx::query_scalar(sql::START_SCAN)
            .bind(&scan.keyphrase)
            .bind(&scan.provider)
            .bind(&scan.options)
            .bind(serde_json::to_value(ScanCounts::default()).expect("counts serialise"))
            .bind(scan.started_at)
            .fetch_one(&self.pool)
            .await
            .map_err(query_error)
    }

    async fn resumable_scan(&self, scan: &NewScan) -> StoreResult<Option<ScanId>> {
        sqlx::query_scalar(sql::RESUMABLE_SCAN)
            .bind(&scan.keyphrase)
            .bind(&scan.provider)
            .bind(&scan.options)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error)
    }

    async fn batch_progress(&self, scans: &[ScanId]) -> StoreResult<Vec<(ScanId, BatchProgress)>> {
        let rows = sqlx::query(
            "SELECT scan_id, count(*) AS total,
                    count(*) FILTER (WHERE status = 'done') AS done,
                    count(*) FILTER (WHERE status = 'running') AS running,
                    count(*) FILTER (WHERE status = 'queued') AS queued,
                    count(*) FILTER (WHERE status = 'failed') AS failed
             FROM scan_batches WHERE scan_id = ANY($1) GROUP BY scan_id",
        )
        .bind(scans)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error)?;
        Ok(rows
            .iter()
            .map(|r| {
                let progress = BatchProgress {
                    total: r.get("total"),
                    done: r.get("done"),
                    running: r.get("running"),
                    queued: r.get("queued"),
                    failed: r.get("failed"),
                };
                (r.get("scan_id"), progress)
            })
            .collect())
    }

    async fn update_scan(
        &self,
        id: ScanId,
        status: ScanStatus,
        counts: &ScanCounts,
        finished_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        sqlx::query(sql::UPDATE_SCAN)
            .bind(status.as_str())
            .bind(serde_json::to_value(counts).expect("counts serialise"))
            .bind(finished_at)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(query_error)?;
        Ok(())
    }

    async fn scan(&self, id: ScanId) -> StoreResult<Option<ScanRecord>> {
        self.shared().scan(id).await
    }

    async fn record_failure(&self, f: &NewFailure) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO failures AS t (url, stage, reason, scan_id, attempts, first_at, last_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)
             ON CONFLICT (url, stage) DO UPDATE SET
                 reason = excluded.reason,
                 scan_id = coalesce(excluded.scan_id, t.scan_id),
                 attempts = t.attempts + excluded.attempts,
                 last_at = greatest(t.last_at, excluded.last_at)",
        )
        .bind(&f.url)
        .bind(f.stage.to_string())
        .bind(&f.reason)
        .bind(f.scan_id)
        .bind(i32::try_from(f.attempts).unwrap_or(i32::MAX))
        .bind(f.at)
        .execute(&self.pool)
        .await
        .map_err(query_error)?;
        Ok(())
    }

    async fn failures(&self, limit: u32) -> StoreResult<Vec<FailureRecord>> {
        self.shared().failures(limit).await
    }

    async fn scans(&self, limit: u32) -> StoreResult<Vec<ScanRecord>> {
        self.shared().scans(limit).await
    }

    async fn search_postings(
        &self,
        query: &TextQuery,
        within: Option<&[ImageId]>,
        limit: u32,
    ) -> StoreResult<Vec<PostingHit>> {
        let statement = match within {
            Some(ids) => sqlx::query(super::page_text::POSTGRES_SEARCH_WITHIN)
                .bind(query.to_tsquery())
                .bind(ids.to_vec())
                .bind(i64::from(limit)),
            None => sqlx::query(super::page_text::POSTGRES_SEARCH)
                .bind(query.to_tsquery())
                .bind(i64::from(limit)),
        };
        let rows = statement.fetch_all(&self.pool).await.map_err(query_error)?;
        Ok(rows.iter().map(super::rows::posting_hit).collect())
    }

    async fn library(
        &self,
        containing: Option<&str>,
        before: Option<ImageId>,
        limit: u32,
    ) -> StoreResult<Vec<ImageRecord>> {
        self.shared().library(containing, before, limit).await
    }

    async fn put_review(&self, r: &NewReview) -> StoreResult<Option<ReviewRecord>> {
        let row = sqlx::query(sql::PUT_REVIEW)
            .bind(&r.query_sha256[..])
            .bind(r.image_id)
            .bind(r.decision.as_str())
            .bind(&r.note)
            .bind(r.at)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error)?;
        row.as_ref().map(super::rows::review).transpose()
    }

    async fn reviews(&self, query_sha256: &[u8; 32]) -> StoreResult<Vec<ReviewRecord>> {
        self.shared().reviews(query_sha256).await
    }

    async fn archive_lookup(&self, url: &str) -> StoreResult<Option<ArchiveLookup>> {
        self.shared().archive_lookup(url).await
    }

    async fn put_archive_lookup(&self, lookup: &ArchiveLookup) -> StoreResult<()> {
        sqlx::query(sql::PUT_ARCHIVE_LOOKUP)
            .bind(&lookup.url)
            .bind(lookup.checked_at)
            .bind(serde_json::json!(lookup.captures))
            .execute(&self.pool)
            .await
            .map_err(query_error)?;
        Ok(())
    }

    async fn add_watch(&self, watch: &NewWatch) -> StoreResult<WatchId> {
        self.shared().add_watch(watch).await
    }

    async fn watches(&self) -> StoreResult<Vec<WatchRecord>> {
        self.shared().watches().await
    }

    async fn watch_image(&self, id: WatchId) -> StoreResult<Option<Vec<u8>>> {
        self.shared().watch_image(id).await
    }

    async fn remove_watch(&self, id: WatchId) -> StoreResult<bool> {
        self.shared().remove_watch(id).await
    }

    async fn take_postings(
        &self,
        watch: WatchId,
        scan: ScanId,
        at: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.shared().take_postings(watch, scan, at).await
    }

    async fn postings_to_check(&self, watch: WatchId) -> StoreResult<Vec<PostingToCheck>> {
        self.shared().postings_to_check(watch).await
    }

    async fn record_check(
        &self,
        watch: WatchId,
        sighting: i64,
        outcome: &CheckOutcome,
        at: DateTime<Utc>,
        gone_after: u32,
    ) -> StoreResult<Option<ChangeKind>> {
        self.shared()
            .record_check(watch, sighting, outcome, at, gone_after)
            .await
    }

    async fn finish_watch_run(
        &self,
        watch: WatchId,
        at: DateTime<Utc>,
        scan: Option<ScanId>,
        next: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.shared().finish_watch_run(watch, at, scan, next).await
    }

    async fn undelivered_changes(&self, limit: u32) -> StoreResult<Vec<ChangeRecord>> {
        self.shared().undelivered_changes(limit).await
    }

    async fn mark_delivered(&self, ids: &[i64], at: DateTime<Utc>) -> StoreResult<()> {
        self.shared().mark_delivered(ids, at).await
    }

    async fn changes(
        &self,
        since: Option<DateTime<Utc>>,
        watch: Option<WatchId>,
    ) -> StoreResult<Vec<ChangeRecord>> {
        self.shared().changes(since, watch).await
    }
}
