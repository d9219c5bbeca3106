//! The data model every backend stores: images (one per distinct content),
//! their sightings on the web, scans, and failures. Plain values, no I/O.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Read while decoding; stored with each image.
pub use crate::decode::ExifSummary;

/// Row id of a stored image.
pub type ImageId = i64;
/// Row id of a scan.
pub type ScanId = i64;

/// The embedding model a store's vectors come from. A store holds vectors of
/// one model only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Model id, e.g. `openai/clip-vit-base-patch32@<revision>`.
    pub id: String,
    /// Vector dimension, e.g. 512.
    pub dim: usize,
}

impl std::fmt::Display for ModelInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}-d)", self.id, self.dim)
    }
}

/// One perceptual hash of an image, named by algorithm (e.g. `phash64`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerceptualHash {
    /// Algorithm and size, e.g. `phash64`, `dhash64`.
    pub kind: String,
    /// The hash bits.
    pub bits: Vec<u8>,
}

/// Keypoint features of an image, as `(kind, bytes)` (see [`crate::verify`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFeatures {
    /// Format and size, e.g. `orb256-v1`.
    pub kind: String,
    /// The encoded features.
    pub bytes: Vec<u8>,
}

/// A distinct image content to record. Keyed by `sha256`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewImage {
    /// SHA-256 of the exact bytes.
    pub sha256: [u8; 32],
    /// Perceptual hashes of the decoded picture.
    pub perceptual_hashes: Vec<PerceptualHash>,
    /// Pixel width.
    pub width: u32,
    /// Pixel height.
    pub height: u32,
    /// Format sniffed from the bytes, e.g. `jpeg`.
    pub format: String,
    /// Size of the file in bytes.
    pub byte_size: u64,
    /// EXIF fields (same bytes, same EXIF: kept on the image, not the sighting).
    pub exif: ExifSummary,
    /// A small JPEG preview for reports (a few KB).
    pub thumbnail: Option<Vec<u8>>,
    /// Keypoint features for verification at match time.
    pub features: Option<ImageFeatures>,
    /// When this content was seen.
    pub seen_at: DateTime<Utc>,
}

/// A stored image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageRecord {
    /// Row id.
    pub id: ImageId,
    /// SHA-256, hex.
    pub sha256: String,
    /// Perceptual hashes.
    pub perceptual_hashes: Vec<PerceptualHash>,
    /// Pixel width.
    pub width: u32,
    /// Pixel height.
    pub height: u32,
    /// Format, e.g. `jpeg`.
    pub format: String,
    /// File size in bytes.
    pub byte_size: u64,
    /// EXIF fields.
    pub exif: ExifSummary,
    /// Whether a vector is stored for it.
    pub has_embedding: bool,
    /// First time any copy of these bytes was seen.
    pub first_seen_at: DateTime<Utc>,
    /// Last time any copy of these bytes was seen.
    pub last_seen_at: DateTime<Utc>,
}

/// One place an image was seen. Keyed by (image, image URL, page URL).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewSighting {
    /// The image seen.
    pub image_id: ImageId,
    /// URL the bytes were fetched from (or `file://` path for local files).
    pub image_url: String,
    /// Page the image was found on.
    pub page_url: Option<String>,
    /// Title of that page.
    pub page_title: Option<String>,
    /// Site or domain name.
    pub site: Option<String>,
    /// Search provider that reported it (`serpapi`, `searxng`, `page`, `local`, …).
    pub provider: Option<String>,
    /// Scan that found it.
    pub scan_id: Option<ScanId>,
    /// Rank in the provider's results (1 = first).
    pub rank: Option<u32>,
    /// When it was seen.
    pub seen_at: DateTime<Utc>,
    /// HTTP `Last-Modified` of the image response.
    pub last_modified: Option<DateTime<Utc>>,
    /// HTTP `ETag` of the image response.
    pub etag: Option<String>,
}

/// A stored sighting, with the keyphrase of the scan that last saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SightingRecord {
    /// Row id.
    pub id: i64,
    /// The image seen.
    pub image_id: ImageId,
    /// URL of the image.
    pub image_url: String,
    /// Page it was found on.
    pub page_url: Option<String>,
    /// Title of that page.
    pub page_title: Option<String>,
    /// Site or domain.
    pub site: Option<String>,
    /// Provider that reported it.
    pub provider: Option<String>,
    /// Scan that last saw it.
    pub scan_id: Option<ScanId>,
    /// Keyphrase of that scan.
    pub keyphrase: Option<String>,
    /// Best rank seen.
    pub rank: Option<u32>,
    /// First time seen here.
    pub first_seen_at: DateTime<Utc>,
    /// Last time seen here.
    pub last_seen_at: DateTime<Utc>,
    /// HTTP `Last-Modified`.
    pub last_modified: Option<DateTime<Utc>>,
    /// HTTP `ETag`.
    pub etag: Option<String>,
}

/// The state of a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanStatus {
    /// Under way (or killed before it could say otherwise).
    Running,
    /// Finished.
    Completed,
    /// Stopped by the user.
    Interrupted,
    /// Stopped by an error.
    Failed,
}

impl ScanStatus {
    /// Name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Interrupted => "interrupted",
            Self::Failed => "failed",
        }
    }
    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "running" => Self::Running,
            "completed" => Self::Completed,
            "interrupted" => Self::Interrupted,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

/// A scan to start.
#[derive(Debug, Clone, PartialEq)]
pub struct NewScan {
    /// What was searched (a keyphrase, an image URL, a folder, a URL list).
    pub keyphrase: String,
    /// Where candidates came from (`serpapi`, `searxng`, `local`, …).
    pub provider: String,
    /// The options that shape the scan's results, as JSON (no secrets).
    pub options: serde_json::Value,
    /// When it started.
    pub started_at: DateTime<Utc>,
}

/// Counters a scan reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanCounts {
    /// Candidates found.
    pub candidates: u64,
    /// Images downloaded (or read).
    pub fetched: u64,
    /// Candidates skipped (known URL, robots.txt, …).
    pub skipped: u64,
    /// Candidates that failed.
    pub failed: u64,
    /// Images embedded.
    pub embedded: u64,
    /// New distinct images stored.
    pub new_images: u64,
    /// New sightings stored.
    pub new_sightings: u64,
}

/// A stored scan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanRecord {
    /// Row id.
    pub id: ScanId,
    /// Keyphrase (or other seed).
    pub keyphrase: String,
    /// Provider.
    pub provider: String,
    /// Options as given.
    pub options: serde_json::Value,
    /// State.
    pub status: ScanStatus,
    /// Counters at the last update.
    pub counts: ScanCounts,
    /// Start time.
    pub started_at: DateTime<Utc>,
    /// End time, once ended.
    pub finished_at: Option<DateTime<Utc>>,
}

/// A failure to record: one URL at one stage. Keyed by (URL, stage).
#[derive(Debug, Clone, PartialEq)]
pub struct NewFailure {
    /// The URL (or path) that failed.
    pub url: String,
    /// Stage: `search`, `page`, `fetch`, `decode`, `embed`, `store`, …
    pub stage: String,
    /// What went wrong, in words.
    pub reason: String,
    /// Scan during which it failed.
    pub scan_id: Option<ScanId>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A stored failure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailureRecord {
    /// The URL.
    pub url: String,
    /// Stage.
    pub stage: String,
    /// Latest reason.
    pub reason: String,
    /// Scan of the latest attempt.
    pub scan_id: Option<ScanId>,
    /// How many times it failed.
    pub attempts: u32,
    /// First failure.
    pub first_at: DateTime<Utc>,
    /// Latest failure.
    pub last_at: DateTime<Utc>,
}

/// What an idempotent write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upserted<Id> {
    /// Row id.
    pub id: Id,
    /// True when the row is new, false when an existing one was updated.
    pub created: bool,
}

/// A nearest-neighbour result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbor {
    /// The image.
    pub image_id: ImageId,
    /// Cosine similarity to the query, in [-1, 1].
    pub similarity: f32,
}

/// Which backend a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL with pgvector.
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        })
    }
}

/// What `db status` shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoreStatus {
    /// Backend.
    pub backend: Backend,
    /// Where it lives (passwords redacted).
    pub location: String,
    /// Latest applied migration version.
    pub schema_version: i64,
    /// Model whose vectors the store holds, if any.
    pub model: Option<ModelInfo>,
    /// Distinct images.
    pub images: u64,
    /// Images with a vector.
    pub embedded: u64,
    /// Sightings.
    pub sightings: u64,
    /// Scans.
    pub scans: u64,
    /// Failures (distinct URL and stage).
    pub failures: u64,
}
