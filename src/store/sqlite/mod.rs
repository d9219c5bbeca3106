//! The embedded store: one SQLite file, zero set-up. Vectors are blobs of
//! little-endian f32; nearest-neighbour search is exact, over an in-memory
//! copy of the vectors ([`index`]).

pub mod index;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::rows::micros;
use super::rules::{self, ModelCell, ModelRow};
use super::shared::Shared;
use super::sql;
use super::*;
use crate::model::*;
use index::blob::to_blob;
use index::cache::VectorCache;
use index::snapshot;

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// The embedded SQLite store.
pub struct SqliteStore {
    pub(super) pool: SqlitePool,
    path: String,
    model: ModelCell,
    pub(super) vectors: VectorCache,
}

fn query_error(source: sqlx::Error) -> StoreError {
    StoreError::Query {
        backend: Backend::Sqlite,
        source,
    }
}

impl SqliteStore {
    /// The queries both backends share, on this store's pool.
    fn shared(&self) -> Shared<'_, sqlx::Sqlite> {
        Shared {
            pool: &self.pool,
            backend: Backend::Sqlite,
        }
    }

    /// Opens or creates the store file (and its directory), then migrates.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let shown = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        // Creating the file, switching it to WAL and migrating are not safe
        // against a concurrent peer (two commands opening a new data
        // directory at once): one process at a time does them, behind an
        // exclusive lock on a file beside the store. Held until migrated.
        let _creating = lock_beside(path).await?;
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(|e| connect_error(&shown, e))?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| connect_error(&shown, e))?;
        MIGRATOR.run(&pool).await.map_err(|e| StoreError::Migrate {
            backend: Backend::Sqlite,
            reason: e.to_string(),
        })?;
        Ok(Self {
            pool,
            path: shown,
            model: ModelCell::default(),
            vectors: VectorCache::new(Some(snapshot::path_for(path))),
        })
    }
}

/// An exclusive lock on `PATH.lock`, waited for off the async runtime;
/// released when the returned file is dropped.
async fn lock_beside(path: &Path) -> StoreResult<std::fs::File> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = std::path::PathBuf::from(name);
    let shown = lock_path.display().to_string();
    let locked = tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)?;
        file.lock()?;
        Ok::<_, std::io::Error>(file)
    })
    .await
    .map_err(|e| std::io::Error::other(e.to_string()))
    .and_then(|r| r);
    locked.map_err(|source| StoreError::DataDir {
        path: shown,
        source,
    })
}

fn connect_error(location: &str, e: sqlx::Error) -> StoreError {
    StoreError::Connect {
        backend: Backend::Sqlite,
        location: location.to_string(),
        reason: e.to_string(),
    }
}

#[async_trait]
impl ModelRow for SqliteStore {
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
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn status(&self) -> StoreResult<StoreStatus> {
        let model = rules::load_model(self).await?;
        self.shared().status(self.path.clone(), model).await
    }

    async fn last_image_id(&self) -> StoreResult<Option<ImageId>> {
        self.shared().last_image_id().await
    }

    async fn model(&self) -> StoreResult<Option<ModelInfo>> {
        rules::load_model(self).await
    }

    async fn bind_model(&self, model: &ModelInfo) -> StoreResult<()> {
        rules::bind_model(self, model).await.map(|_| ())
    }

    async fn upsert_image(&self, image: &NewImage) -> StoreResult<Upserted<ImageId>> {
        let seen = micros(image.seen_at);
        let mut tx = self.pool.begin().await.map_err(query_error)?;
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO images (sha256, width, height, format, byte_size, exif_date_time_original,
                                 exif_artist, exif_copyright, thumbnail, first_seen_at, last_seen_at, sha1,
                                 embedded_credits)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (sha256) DO NOTHING RETURNING id",
        )
        .bind(&image.sha256[..])
        .bind(image.width as i64)
        .bind(image.height as i64)
        .bind(&image.format)
        .bind(image.byte_size as i64)
        .bind(&image.exif.date_time_original)
        .bind(&image.exif.artist)
        .bind(&image.exif.copyright)
        .bind(&image.thumbnail)
        .bind(seen)
        .bind(seen)
        .bind(image.sha1.as_ref().map(|d| &d[..]))
        .bind(image.embedded.as_ref().map(|c| serde_json::json!(c).to_string()))
        .fetch_optional(&mut *tx)
        .await
        .map_err(query_error)?;
        let (id, created) = match inserted {
            Some(id) => (id, true),
            None => {
                let id = sqlx::query_scalar(
                    "UPDATE images SET first_seen_at = min(first_seen_at, ?1),
                                       last_seen_at = max(last_seen_at, ?1),
                                       sha1 = coalesce(sha1, ?3)
                     WHERE sha256 = ?2 RETURNING id",
                )
                .bind(seen)
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
            "UPDATE images SET first_seen_at = min(first_seen_at, ?1), last_seen_at = max(last_seen_at, ?1) WHERE id = ?2",
        )
        .bind(micros(seen_at))
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
        // SQLite binds no arrays: the ids travel as one JSON array.
        let ids = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
        sqlx::query_as(
            "SELECT image_id, bytes FROM image_features
             WHERE kind = ?1 AND image_id IN (SELECT value FROM json_each(?2))",
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
            .bind(to_blob(embedding))
            .bind(&model.id)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(query_error)?;
        self.vectors.remember(id, embedding).await
    }

    async fn nearest(&self, query: &[f32], k: usize) -> StoreResult<Vec<Neighbor>> {
        let model = rules::load_model(self).await?;
        let Some(model) = rules::model_for_query(model, query.len(), k)? else {
            return Ok(Vec::new());
        };
        self.vectors.refresh(&self.pool, &model).await?;
        self.vectors.search(&self.pool, query, k).await
    }

    async fn upsert_sighting(&self, s: &NewSighting) -> StoreResult<Upserted<i64>> {
        let page_url = s.page_url.as_deref().unwrap_or("");
        let facts = s
            .source_facts
            .as_ref()
            .map(|f| serde_json::json!(f).to_string());
        let words = s.words.as_ref().map(|w| serde_json::json!(w).to_string());
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO sightings (image_id, image_url, page_url, page_title, site, provider, scan_id,
                                    rank, first_seen_at, last_seen_at, last_modified, etag, source_facts,
                                    words)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (image_id, image_url, page_url) DO NOTHING RETURNING id",
        )
        .bind(s.image_id)
        .bind(&s.image_url)
        .bind(page_url)
        .bind(&s.page_title)
        .bind(&s.site)
        .bind(&s.provider)
        .bind(s.scan_id)
        .bind(s.rank.map(i64::from))
        .bind(micros(s.seen_at))
        .bind(micros(s.seen_at))
        .bind(s.last_modified.map(micros))
        .bind(&s.etag)
        .bind(&facts)
        .bind(&words)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error)?;
        if let Some(id) = inserted {
            return Ok(Upserted { id, created: true });
        }
        let id = sqlx::query_scalar(
            "UPDATE sightings SET
                 page_title = coalesce(?4, page_title),
                 site = coalesce(?5, site),
                 provider = coalesce(?6, provider),
                 scan_id = coalesce(?7, scan_id),
                 rank = CASE WHEN rank IS NULL OR ?8 < rank THEN coalesce(?8, rank) ELSE rank END,
                 first_seen_at = min(first_seen_at, ?9),
                 last_seen_at = max(last_seen_at, ?9),
                 last_modified = coalesce(?10, last_modified),
                 etag = coalesce(?11, etag),
                 source_facts = coalesce(?12, source_facts),
                 words = coalesce(?13, words)
             WHERE image_id = ?1 AND image_url = ?2 AND page_url = ?3 RETURNING id",
        )
        .bind(s.image_id)
        .bind(&s.image_url)
        .bind(page_url)
        .bind(&s.page_title)
        .bind(&s.site)
        .bind(&s.provider)
        .bind(s.scan_id)
        .bind(s.rank.map(i64::from))
        .bind(micros(s.seen_at))
        .bind(s.last_modified.map(micros))
        .bind(&s.etag)
        .bind(&facts)
        .bind(&words)
        .fetch_one(&self.pool)
        .await
        .map_err(query_error)?;
        Ok(Upserted { id, created: false })
    }

    async fn sightings(&self, image: ImageId) -> StoreResult<Vec<SightingRecord>> {
        self.shared().sightings(image).await
    }

    async fn start_scan(&self, scan: &NewScan) -> StoreResult<ScanId> {
        sqlx::query_scalar(sql::START_SCAN)
            .bind(&scan.keyphrase)
            .bind(&scan.provider)
            .bind(scan.options.to_string())
            .bind(serde_json::to_string(&ScanCounts::default()).expect("counts serialise"))
            .bind(micros(scan.started_at))
            .fetch_one(&self.pool)
            .await
            .map_err(query_error)
    }

    async fn resumable_scan(&self, scan: &NewScan) -> StoreResult<Option<ScanId>> {
        sqlx::query_scalar(sql::RESUMABLE_SCAN)
            .bind(&scan.keyphrase)
            .bind(&scan.provider)
            .bind(scan.options.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error)
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
            .bind(serde_json::to_string(counts).expect("counts serialise"))
            .bind(finished_at.map(micros))
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
            "INSERT INTO failures (url, stage, reason, scan_id, attempts, first_at, last_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
             ON CONFLICT (url, stage) DO UPDATE SET
                 reason = excluded.reason,
                 scan_id = coalesce(excluded.scan_id, failures.scan_id),
                 attempts = failures.attempts + excluded.attempts,
                 last_at = max(failures.last_at, excluded.last_at)",
        )
        .bind(&f.url)
        .bind(f.stage.to_string())
        .bind(&f.reason)
        .bind(f.scan_id)
        .bind(i64::from(f.attempts))
        .bind(micros(f.at))
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
            Some(ids) => sqlx::query(super::page_text::SQLITE_SEARCH_WITHIN)
                .bind(query.to_fts5())
                .bind(serde_json::json!(ids).to_string())
                .bind(i64::from(limit)),
            None => sqlx::query(super::page_text::SQLITE_SEARCH)
                .bind(query.to_fts5())
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
            .bind(micros(r.at))
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
            .bind(micros(lookup.checked_at))
            .bind(serde_json::json!(lookup.captures).to_string())
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
