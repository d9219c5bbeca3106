//! Storage behind one narrow trait, a folder per backend: the embedded
//! SQLite file (default, zero set-up; with its own in-memory vector index in
//! `sqlite/index/`) and PostgreSQL with pgvector. What both backends must do
//! alike (binding a model, checking vectors, reading rows into the domain
//! model) is written once, in `rules` and `rows`, and the statements that
//! are the same in both dialects in `sql`.
//!
//! Every write is idempotent: writing the same image, sighting or failure
//! twice updates the existing row and never duplicates it.

mod page_text;
mod postgres;
mod rows;
mod rules;
mod shared;
mod sql;
pub mod sqlite;
mod types;
mod watch_sql;
mod watches;

pub use postgres::{PostgresStore, VectorIndex};
pub use sqlite::SqliteStore;
pub use types::{Backend, Neighbor, StoreStatus, Upserted};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::config::StoreLocation;
use crate::model::{
    ArchiveLookup, BatchProgress, FailureRecord, ImageFeatures, ImageId, ImageRecord, ModelInfo,
    NewFailure, NewImage, NewReview, NewScan, NewSighting, PerceptualHash, PostingHit,
    ReviewRecord, ScanCounts, ScanId, ScanRecord, ScanStatus, SightingRecord, TextQuery,
};
use crate::model::{
    ChangeKind, ChangeRecord, CheckOutcome, NewWatch, PostingToCheck, WatchId, WatchRecord,
};

/// Why a store operation failed. Each message says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory could not be created or written.
    #[error("cannot use the data directory {path}: {source}; choose a writable one with --data-dir or PROVENANCE_DATA_DIR")]
    DataDir {
        /// The directory.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The database could not be opened or reached.
    #[error("cannot connect to {backend} at {location}: {reason}; check that the server is running and DATABASE_URL is right")]
    Connect {
        /// Backend name.
        backend: Backend,
        /// Where (password redacted).
        location: String,
        /// What the driver said.
        reason: String,
    },
    /// The PostgreSQL server has no pgvector.
    #[error("the PostgreSQL server at {location} has no pgvector extension; install pgvector 0.5 or newer there (https://github.com/pgvector/pgvector#installation, or the pgvector/pgvector container image), or unset DATABASE_URL to use the embedded store")]
    NoPgvector {
        /// Where (password redacted).
        location: String,
    },
    /// Applying migrations failed; nothing of the failed migration was kept.
    #[error("cannot bring the {backend} schema up to date: {reason}")]
    Migrate {
        /// Backend name.
        backend: Backend,
        /// What failed.
        reason: String,
    },
    /// The store was built with another model.
    #[error("this store holds vectors of {stored}, but the current model is {current}; use the same model (--model-dir / PROVENANCE_MODEL), or another store (--data-dir or DATABASE_URL)")]
    ModelMismatch {
        /// The store's model.
        stored: ModelInfo,
        /// The model in use now.
        current: ModelInfo,
    },
    /// A vector has the wrong length for the store's model.
    #[error("vector has {got} dimensions, the store's model has {expected}")]
    Dimension {
        /// The store's dimension.
        expected: usize,
        /// The vector's length.
        got: usize,
    },
    /// A vector was written before any model was bound.
    #[error("no model is bound to this store; bind one before storing vectors")]
    NoModel,
    /// The database failed during a query (it may have gone away).
    #[error("{backend} query failed: {source}")]
    Query {
        /// Backend name.
        backend: Backend,
        /// Driver error.
        source: sqlx::Error,
    },
    /// A stored value could not be read back.
    #[error("corrupt stored value in {what}: {reason}")]
    Corrupt {
        /// Which value.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

/// The operations the rest of provenance needs from storage.
#[async_trait]
pub trait Store: Send + Sync {
    /// Which backend this is.
    fn backend(&self) -> Backend;

    /// Counts, model and schema version.
    async fn status(&self) -> StoreResult<StoreStatus>;

    /// The highest image id stored, `None` when the store is empty
    /// (cheaper than [`Store::status`]'s counts, which read every row).
    async fn last_image_id(&self) -> StoreResult<Option<ImageId>>;

    /// The model the store's vectors come from, if one is bound.
    async fn model(&self) -> StoreResult<Option<ModelInfo>>;

    /// Binds the store to a model on first use; afterwards a different model
    /// is a [`StoreError::ModelMismatch`].
    async fn bind_model(&self, model: &ModelInfo) -> StoreResult<()>;

    /// Records an image by content; an existing one (same sha256) has its
    /// first/last seen times widened and missing hashes added.
    async fn upsert_image(&self, image: &NewImage) -> StoreResult<Upserted<ImageId>>;

    /// Widens an image's first/last seen times to include `seen_at` (a known
    /// image seen again, without decoding it again).
    async fn touch_image(&self, id: ImageId, seen_at: DateTime<Utc>) -> StoreResult<()>;

    /// The image with these exact bytes, if stored.
    async fn image_by_sha256(&self, sha256: &[u8; 32]) -> StoreResult<Option<ImageId>>;

    /// The image last fetched from this URL, if any.
    async fn image_by_url(&self, image_url: &str) -> StoreResult<Option<ImageId>>;

    /// One stored image.
    async fn image(&self, id: ImageId) -> StoreResult<Option<ImageRecord>>;

    /// The keypoint features of an image of one kind, if stored.
    async fn features(&self, id: ImageId, kind: &str) -> StoreResult<Option<Vec<u8>>>;

    /// The keypoint features of one kind of several images at once, for
    /// those that have them (in no particular order): one round trip for a
    /// match's whole shortlist.
    async fn features_of(
        &self,
        ids: &[ImageId],
        kind: &str,
    ) -> StoreResult<Vec<(ImageId, Vec<u8>)>>;

    /// Features of one kind stored after image `after`, in image id order,
    /// at most `limit` (to read them all in pages).
    async fn features_after(
        &self,
        kind: &str,
        after: ImageId,
        limit: u32,
    ) -> StoreResult<Vec<(ImageId, Vec<u8>)>>;

    /// Features of `kind` of the images that have none of `lacking`, after
    /// image `after`, in image id order, at most `limit`.
    async fn features_lacking(
        &self,
        kind: &str,
        lacking: &str,
        after: ImageId,
        limit: u32,
    ) -> StoreResult<Vec<(ImageId, Vec<u8>)>>;

    /// Stores features of one kind for a stored image, replacing a row of
    /// that kind (derived features are rebuilt this way when found
    /// damaged).
    async fn add_features(&self, id: ImageId, features: &ImageFeatures) -> StoreResult<()>;

    /// The small JPEG preview of an image, if one was stored.
    async fn thumbnail(&self, id: ImageId) -> StoreResult<Option<Vec<u8>>>;

    /// The perceptual hashes of the first `limit` images stored after image
    /// `after`, in image id order (to read them all in pages).
    async fn perceptual_hashes_after(
        &self,
        after: ImageId,
        limit: u32,
    ) -> StoreResult<Vec<(ImageId, Vec<PerceptualHash>)>>;

    /// Stores (or replaces) the vector of an image. The store must be bound
    /// to a model of the vector's dimension.
    async fn set_embedding(&self, id: ImageId, embedding: &[f32]) -> StoreResult<()>;

    /// The `k` images whose vectors are most similar to `query` (cosine),
    /// most similar first.
    async fn nearest(&self, query: &[f32], k: usize) -> StoreResult<Vec<Neighbor>>;

    /// Records a sighting; the same (image, image URL, page URL) updates the
    /// existing row (last seen, best rank, latest scan and headers).
    async fn upsert_sighting(&self, sighting: &NewSighting) -> StoreResult<Upserted<i64>>;

    /// All sightings of an image, earliest first.
    async fn sightings(&self, image: ImageId) -> StoreResult<Vec<SightingRecord>>;

    /// Postings whose words (page title, alt text, caption, heading, the
    /// text around the picture, the page's description, a provider's
    /// snippet) hold every term of `query`, most relevant first, at most
    /// `limit`; with `within`, only postings of those pictures.
    async fn search_postings(
        &self,
        query: &TextQuery,
        within: Option<&[ImageId]>,
        limit: u32,
    ) -> StoreResult<Vec<PostingHit>>;

    /// Starts a scan.
    async fn start_scan(&self, scan: &NewScan) -> StoreResult<ScanId>;

    /// The latest unfinished (running, interrupted or failed) scan with the
    /// same keyphrase, provider and options, to resume instead of starting anew.
    async fn resumable_scan(&self, scan: &NewScan) -> StoreResult<Option<ScanId>>;

    /// Updates a scan's counters and state (`finished_at` once it ended).
    async fn update_scan(
        &self,
        id: ScanId,
        status: ScanStatus,
        counts: &ScanCounts,
        finished_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()>;

    /// One scan.
    async fn scan(&self, id: ScanId) -> StoreResult<Option<ScanRecord>>;

    /// Records a failure; the same (URL, stage) updates the reason, the
    /// latest time and the attempt count.
    async fn record_failure(&self, failure: &NewFailure) -> StoreResult<()>;

    /// The latest failures, newest first.
    async fn failures(&self, limit: u32) -> StoreResult<Vec<FailureRecord>>;

    /// The latest scans, newest first.
    async fn scans(&self, limit: u32) -> StoreResult<Vec<ScanRecord>>;

    /// The batches of each of `scans` run by workers, by state (scans run
    /// in one process have none, and the embedded store never queues).
    async fn batch_progress(&self, scans: &[ScanId]) -> StoreResult<Vec<(ScanId, BatchProgress)>> {
        let _ = scans;
        Ok(Vec::new())
    }

    /// Stored pictures, newest first, with ids below `before` (all when
    /// `None`), at most `limit`; with `containing`, only those seen at an
    /// image URL, page URL, page title or site containing it (any case).
    async fn library(
        &self,
        containing: Option<&str>,
        before: Option<ImageId>,
        limit: u32,
    ) -> StoreResult<Vec<ImageRecord>>;

    /// Records a person's decision about a match, replacing the pair's
    /// earlier one (its first decision time kept); `None` when the image
    /// is not stored.
    async fn put_review(&self, review: &NewReview) -> StoreResult<Option<ReviewRecord>>;

    /// The decisions recorded about matches of the query with this SHA-256.
    async fn reviews(&self, query_sha256: &[u8; 32]) -> StoreResult<Vec<ReviewRecord>>;

    /// The web archive's kept answer about `url`, if it was asked.
    async fn archive_lookup(&self, url: &str) -> StoreResult<Option<ArchiveLookup>>;

    /// Keeps the web archive's answer about a URL (replacing an older one).
    async fn put_archive_lookup(&self, lookup: &ArchiveLookup) -> StoreResult<()>;

    /// Records a watch; its id.
    async fn add_watch(&self, watch: &NewWatch) -> StoreResult<WatchId>;

    /// Every watch, oldest first, with how many postings each follows.
    async fn watches(&self) -> StoreResult<Vec<WatchRecord>>;

    /// The picture kept with a watch of a local picture.
    async fn watch_image(&self, id: WatchId) -> StoreResult<Option<Vec<u8>>>;

    /// Removes a watch (its changes stay, without it); false when there
    /// was none.
    async fn remove_watch(&self, id: WatchId) -> StoreResult<bool>;

    /// After a watch's scan, in one transaction: each posting the scan
    /// saw that the watch did not follow is recorded as a change `new` and
    /// becomes the watch's. How many were new.
    async fn take_postings(
        &self,
        watch: WatchId,
        scan: ScanId,
        at: DateTime<Utc>,
    ) -> StoreResult<u64>;

    /// Every posting the watch follows (gone ones too: one may come back):
    /// what a run re-checks.
    async fn postings_to_check(&self, watch: WatchId) -> StoreResult<Vec<PostingToCheck>>;

    /// Records a re-check of a posting and, in the same transaction, the
    /// change it makes: gone or changed (once), or new again when a gone
    /// posting is there again; a failed check makes it gone when it is the
    /// `gone_after`-th in a row.
    async fn record_check(
        &self,
        watch: WatchId,
        sighting: i64,
        outcome: &CheckOutcome,
        at: DateTime<Utc>,
        gone_after: u32,
    ) -> StoreResult<Option<ChangeKind>>;

    /// A watch's run ended at `at` (with its scan): the next is due at `next`.
    async fn finish_watch_run(
        &self,
        watch: WatchId,
        at: DateTime<Utc>,
        scan: Option<ScanId>,
        next: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// The changes no webhook was told of yet, oldest first, at most
    /// `limit`.
    async fn undelivered_changes(&self, limit: u32) -> StoreResult<Vec<ChangeRecord>>;

    /// Marks changes as told of at `at`.
    async fn mark_delivered(&self, ids: &[i64], at: DateTime<Utc>) -> StoreResult<()>;

    /// Changes found at or after `since`, of one watch or of all, oldest
    /// first.
    async fn changes(
        &self,
        since: Option<DateTime<Utc>>,
        watch: Option<WatchId>,
    ) -> StoreResult<Vec<ChangeRecord>>;
}

/// Opens (creating if needed) the store at `location` and applies pending
/// migrations.
pub async fn open(location: &StoreLocation) -> StoreResult<Box<dyn Store>> {
    Ok(match location {
        StoreLocation::Sqlite(path) => Box::new(SqliteStore::open(path).await?),
        StoreLocation::Postgres(url) => Box::new(PostgresStore::open(url).await?),
    })
}
