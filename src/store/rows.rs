//! Reading rows into the domain model, once for both backends. The tables
//! have the same columns on both; only how a column is typed differs
//! (SQLite keeps times as microseconds and every integer as 64 bits,
//! PostgreSQL has `timestamptz`, `int4` and `jsonb`), and [`Columns`] hides
//! that.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::{Backend, StoreError, StoreResult, StoreStatus};
use crate::model::{
    ArchiveLookup, ChangeKind, ChangeRecord, Decision, ExifSummary, FailureRecord, FailureStage,
    ImageId, ImageRecord, ModelInfo, PerceptualHash, PostingHit, PostingToCheck, PostingWords,
    ReviewRecord, ScanRecord, ScanStatus, SightingRecord, Snippet, SourceFacts, WatchRecord,
};

/// A row's columns as the domain model wants them. Reading a column the
/// schema does not have, or of another type, is a bug in this crate's SQL
/// and panics, as `sqlx::Row::get` does.
pub(super) trait Columns {
    /// A text column.
    fn text(&self, column: &str) -> String;
    /// A nullable text column.
    fn opt_text(&self, column: &str) -> Option<String>;
    /// An integer column of any width.
    fn int(&self, column: &str) -> i64;
    /// A nullable integer column of any width.
    fn opt_int(&self, column: &str) -> Option<i64>;
    /// A time column.
    fn time(&self, column: &str) -> DateTime<Utc>;
    /// A nullable time column.
    fn opt_time(&self, column: &str) -> Option<DateTime<Utc>>;
    /// A bytes column.
    fn bytes(&self, column: &str) -> Vec<u8>;
    /// A nullable bytes column.
    fn opt_bytes(&self, column: &str) -> Option<Vec<u8>>;
    /// A boolean column.
    fn flag(&self, column: &str) -> bool;
    /// A JSON column.
    fn json(&self, column: &str) -> Result<serde_json::Value, serde_json::Error>;
    /// A nullable JSON column.
    fn opt_json(&self, column: &str) -> Result<Option<serde_json::Value>, serde_json::Error>;
    /// A floating-point column.
    fn float(&self, column: &str) -> f64;
}

impl Columns for SqliteRow {
    fn text(&self, column: &str) -> String {
        self.get(column)
    }
    fn opt_text(&self, column: &str) -> Option<String> {
        self.get(column)
    }
    fn int(&self, column: &str) -> i64 {
        self.get(column)
    }
    fn opt_int(&self, column: &str) -> Option<i64> {
        self.get(column)
    }
    fn time(&self, column: &str) -> DateTime<Utc> {
        from_micros(self.get(column))
    }
    fn opt_time(&self, column: &str) -> Option<DateTime<Utc>> {
        self.get::<Option<i64>, _>(column).map(from_micros)
    }
    fn bytes(&self, column: &str) -> Vec<u8> {
        self.get(column)
    }
    fn opt_bytes(&self, column: &str) -> Option<Vec<u8>> {
        self.get(column)
    }
    fn flag(&self, column: &str) -> bool {
        self.get(column)
    }
    fn json(&self, column: &str) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(self.get(column))
    }
    fn opt_json(&self, column: &str) -> Result<Option<serde_json::Value>, serde_json::Error> {
        self.get::<Option<&str>, _>(column)
            .map(serde_json::from_str)
            .transpose()
    }
    fn float(&self, column: &str) -> f64 {
        self.get(column)
    }
}

impl Columns for PgRow {
    fn text(&self, column: &str) -> String {
        self.get(column)
    }
    fn opt_text(&self, column: &str) -> Option<String> {
        self.get(column)
    }
    fn int(&self, column: &str) -> i64 {
        self.opt_int(column)
            .unwrap_or_else(|| panic!("column {column} is NULL"))
    }
    fn opt_int(&self, column: &str) -> Option<i64> {
        match self.try_get::<Option<i64>, _>(column) {
            Ok(value) => value,
            Err(_) => self.get::<Option<i32>, _>(column).map(i64::from),
        }
    }
    fn time(&self, column: &str) -> DateTime<Utc> {
        self.get(column)
    }
    fn opt_time(&self, column: &str) -> Option<DateTime<Utc>> {
        self.get(column)
    }
    fn bytes(&self, column: &str) -> Vec<u8> {
        self.get(column)
    }
    fn opt_bytes(&self, column: &str) -> Option<Vec<u8>> {
        self.get(column)
    }
    fn flag(&self, column: &str) -> bool {
        self.get(column)
    }
    fn json(&self, column: &str) -> Result<serde_json::Value, serde_json::Error> {
        Ok(self.get(column))
    }
    fn opt_json(&self, column: &str) -> Result<Option<serde_json::Value>, serde_json::Error> {
        Ok(self.get(column))
    }
    fn float(&self, column: &str) -> f64 {
        match self.try_get::<f64, _>(column) {
            Ok(value) => value,
            Err(_) => f64::from(self.get::<f32, _>(column)),
        }
    }
}

/// SQLite's time encoding: microseconds since the Unix epoch.
pub(super) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn from_micros(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

/// A count or size that is never negative in a sound store.
fn unsigned<T: TryFrom<i64> + Default>(value: i64) -> T {
    T::try_from(value).unwrap_or_default()
}

fn corrupt(what: &'static str, reason: impl ToString) -> StoreError {
    StoreError::Corrupt {
        what,
        reason: reason.to_string(),
    }
}

/// `db status` from a row of [`super::rules::STATUS_SQL`].
pub(super) fn status(
    r: &impl Columns,
    backend: Backend,
    location: String,
    model: Option<ModelInfo>,
) -> StoreStatus {
    let count = |c: &str| unsigned(r.int(c));
    StoreStatus {
        backend,
        location,
        schema_version: r.int("version"),
        model,
        images: count("images"),
        embedded: count("embedded"),
        sightings: count("sightings"),
        scans: count("scans"),
        failures: count("failures"),
    }
}

/// An `images` row (with `has_embedding`) and its hashes.
pub(super) fn image(r: &impl Columns, id: ImageId, hashes: Vec<PerceptualHash>) -> ImageRecord {
    ImageRecord {
        id,
        sha256: hex::encode(r.bytes("sha256")),
        sha1: r.opt_bytes("sha1").map(hex::encode),
        perceptual_hashes: hashes,
        width: unsigned(r.int("width")),
        height: unsigned(r.int("height")),
        format: r.text("format"),
        byte_size: unsigned(r.int("byte_size")),
        exif: ExifSummary {
            date_time_original: r.opt_text("exif_date_time_original"),
            artist: r.opt_text("exif_artist"),
            copyright: r.opt_text("exif_copyright"),
        },
        embedded: r
            .opt_json("embedded_credits")
            .ok()
            .flatten()
            .and_then(|v| serde_json::from_value(v).ok()),
        has_embedding: r.flag("has_embedding"),
        first_seen_at: r.time("first_seen_at"),
        last_seen_at: r.time("last_seen_at"),
    }
}

/// A `sightings` row joined with its scan's `keyphrase`.
pub(super) fn sighting(r: &impl Columns) -> SightingRecord {
    SightingRecord {
        id: r.int("id"),
        image_id: r.int("image_id"),
        image_url: r.text("image_url"),
        // No page is stored as '' so that it can be part of the unique key.
        page_url: Some(r.text("page_url")).filter(|p| !p.is_empty()),
        page_title: r.opt_text("page_title"),
        site: r.opt_text("site"),
        provider: r.opt_text("provider"),
        scan_id: r.opt_int("scan_id"),
        keyphrase: r.opt_text("keyphrase"),
        rank: r.opt_int("rank").map(unsigned),
        first_seen_at: r.time("first_seen_at"),
        last_seen_at: r.time("last_seen_at"),
        last_modified: r.opt_time("last_modified"),
        etag: r.opt_text("etag"),
        source_facts: source_facts(r),
        words: posting_words(r),
        checked_at: r.opt_time("checked_at"),
        gone_at: r.opt_time("gone_at"),
    }
}

/// A sighting's words; an unreadable value is dropped with a warning, as
/// source facts are.
pub(super) fn posting_words(r: &impl Columns) -> Option<PostingWords> {
    let read = r
        .opt_json("words")
        .and_then(|value| value.map(serde_json::from_value).transpose());
    read.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "ignoring unreadable words of a sighting");
        None
    })
}

/// A posting found by its words: the sighting's columns, `snippet` (hits
/// marked) and `score`.
pub(super) fn posting_hit(r: &impl Columns) -> PostingHit {
    PostingHit {
        sighting_id: r.int("id"),
        image_id: r.int("image_id"),
        image_url: r.text("image_url"),
        page_url: Some(r.text("page_url")).filter(|p| !p.is_empty()),
        page_title: r.opt_text("page_title"),
        site: r.opt_text("site"),
        provider: r.opt_text("provider"),
        words: posting_words(r),
        snippet: Snippet::from_marked(&r.opt_text("marked").unwrap_or_default()),
        score: r.float("score"),
    }
}

/// A sighting's source facts; an unreadable value is dropped with a warning
/// (they are the source's claims, worth less than the sighting itself).
fn source_facts(r: &impl Columns) -> Option<SourceFacts> {
    let read = r
        .opt_json("source_facts")
        .and_then(|value| value.map(serde_json::from_value).transpose());
    read.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "ignoring unreadable source facts of a sighting");
        None
    })
}

/// A `watches` row with its `postings` count.
pub(super) fn watch(r: &impl Columns) -> StoreResult<WatchRecord> {
    Ok(WatchRecord {
        id: r.int("id"),
        scan: r
            .json("scan")
            .and_then(serde_json::from_value)
            .map_err(|e| corrupt("watches.scan", e))?,
        every_secs: r.int("every_secs"),
        created_at: r.time("created_at"),
        next_run_at: r.time("next_run_at"),
        last_run_at: r.opt_time("last_run_at"),
        last_scan_id: r.opt_int("last_scan_id"),
        postings: r.int("postings"),
    })
}

/// A posting to re-check: its sighting's columns with the picture's
/// `sha256`.
pub(super) fn posting_to_check(r: &impl Columns) -> PostingToCheck {
    PostingToCheck {
        sighting_id: r.int("id"),
        sha256: hex::encode(r.bytes("sha256")),
        image_url: r.text("image_url"),
        page_url: Some(r.text("page_url")).filter(|p| !p.is_empty()),
        etag: r.opt_text("etag"),
        last_modified: r.opt_time("last_modified"),
        failed_checks: unsigned(r.int("failed_checks")),
    }
}

/// A `changes` row joined with its sighting.
pub(super) fn change(r: &impl Columns) -> StoreResult<ChangeRecord> {
    let kind = r.text("kind");
    Ok(ChangeRecord {
        id: r.int("id"),
        watch_id: r.opt_int("watch_id"),
        kind: ChangeKind::parse(&kind).ok_or_else(|| corrupt("changes.kind", &kind))?,
        at: r.time("at"),
        detail: r.opt_text("detail"),
        sighting_id: r.int("sighting_id"),
        image_id: r.int("image_id"),
        image_url: r.text("image_url"),
        page_url: Some(r.text("page_url")).filter(|p| !p.is_empty()),
        page_title: r.opt_text("page_title"),
        site: r.opt_text("site"),
        delivered_at: r.opt_time("delivered_at"),
    })
}

/// An `archive_lookups` row.
pub(super) fn archive_lookup(r: &impl Columns) -> StoreResult<ArchiveLookup> {
    let captures = r
        .json("captures")
        .and_then(serde_json::from_value)
        .map_err(|e| corrupt("archive_lookups.captures", e))?;
    Ok(ArchiveLookup {
        url: r.text("url"),
        checked_at: r.time("checked_at"),
        captures,
    })
}

/// A `scans` row.
pub(super) fn scan(r: &impl Columns) -> StoreResult<ScanRecord> {
    let status = r.text("status");
    Ok(ScanRecord {
        id: r.int("id"),
        keyphrase: r.text("keyphrase"),
        provider: r.text("provider"),
        options: r.json("options").map_err(|e| corrupt("scans.options", e))?,
        status: ScanStatus::parse(&status).ok_or_else(|| corrupt("scans.status", &status))?,
        counts: r
            .json("counts")
            .and_then(serde_json::from_value)
            .map_err(|e| corrupt("scans.counts", e))?,
        started_at: r.time("started_at"),
        finished_at: r.opt_time("finished_at"),
    })
}

/// A `failures` row.
pub(super) fn review(r: &impl Columns) -> StoreResult<ReviewRecord> {
    let decision = r.text("decision");
    Ok(ReviewRecord {
        query_sha256: hex::encode(r.bytes("query_sha256")),
        image_id: r.int("image_id"),
        decision: Decision::parse(&decision)
            .ok_or_else(|| corrupt("reviews.decision", &decision))?,
        note: r.opt_text("note"),
        decided_at: r.time("decided_at"),
        updated_at: r.time("updated_at"),
    })
}

pub(super) fn failure(r: &impl Columns) -> StoreResult<FailureRecord> {
    let stage = r.text("stage");
    Ok(FailureRecord {
        url: r.text("url"),
        stage: FailureStage::parse(&stage).ok_or_else(|| corrupt("failures.stage", &stage))?,
        reason: r.text("reason"),
        scan_id: r.opt_int("scan_id"),
        attempts: unsigned(r.int("attempts")),
        first_at: r.time("first_at"),
        last_at: r.time("last_at"),
    })
}
