//! Watching pictures over time: a watch is a scan run again on a
//! schedule; each run finds new postings and re-checks the ones seen
//! before, and what changed is kept as [`ChangeRecord`]s.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ImageId, ScanId};

/// A watch's row id.
pub type WatchId = i64;

/// What a watch scans, as `scan` would be asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchedScan {
    /// What is searched for.
    pub input: WatchedInput,
    /// Provider names (`serpapi`, `openverse`, …); empty: as `scan` chooses.
    #[serde(default)]
    pub providers: Vec<String>,
    /// Most candidates per provider.
    pub max_results: usize,
    /// Follow the pages candidates were found on.
    #[serde(default)]
    pub follow_pages: bool,
    /// Most pages followed.
    pub max_pages: usize,
    /// With an image URL, also ask Lens for exact matches.
    #[serde(default)]
    pub exact_matches: bool,
}

/// The input of a watched scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WatchedInput {
    /// Words sent to image search.
    Keyphrase(String),
    /// A public picture URL for reverse search.
    ImageUrl(String),
    /// A local picture for reverse search by upload; its bytes are kept
    /// with the watch.
    Image {
        /// The file's name when the watch was made.
        name: String,
    },
    /// A list of `IMAGE_URL [PAGE_URL]` lines, kept with the watch.
    Urls {
        /// The file's name when the watch was made.
        name: String,
        /// The lines.
        text: String,
    },
}

impl WatchedInput {
    /// A line for people: `"red fox"`, `image https://…`, `file a.jpg`.
    pub fn label(&self) -> String {
        match self {
            Self::Keyphrase(k) => format!("“{k}”"),
            Self::ImageUrl(u) => format!("image {u}"),
            Self::Image { name } => format!("file {name}"),
            Self::Urls { name, .. } => format!("URL list {name}"),
        }
    }
}

/// A watch to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWatch {
    /// What it scans.
    pub scan: WatchedScan,
    /// The picture's bytes of an [`WatchedInput::Image`] watch.
    pub image: Option<Vec<u8>>,
    /// Seconds between runs (at least 60).
    pub every_secs: i64,
    /// When it was made (its first run is due then).
    pub created_at: DateTime<Utc>,
}

/// A stored watch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WatchRecord {
    /// Row id.
    pub id: WatchId,
    /// What it scans.
    pub scan: WatchedScan,
    /// Seconds between runs.
    pub every_secs: i64,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When its next run is due.
    pub next_run_at: DateTime<Utc>,
    /// When it last ran to its end.
    pub last_run_at: Option<DateTime<Utc>>,
    /// The scan of its last run.
    pub last_scan_id: Option<ScanId>,
    /// Postings it follows (gone ones included).
    pub postings: i64,
}

/// What changed about a posting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A posting the watch had not seen (or seen again after it was gone).
    New,
    /// The page no longer shows the picture, or its URL answers 404/410,
    /// or it failed to answer on too many runs in a row.
    Gone,
    /// The picture's URL now serves other bytes.
    Changed,
}

impl ChangeKind {
    /// The stored and JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Gone => "gone",
            Self::Changed => "changed",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::New, Self::Gone, Self::Changed]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// One change found by a watch run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeRecord {
    /// Row id.
    pub id: i64,
    /// The watch that found it (none once the watch is removed).
    pub watch_id: Option<WatchId>,
    /// What changed.
    pub kind: ChangeKind,
    /// When it was found.
    pub at: DateTime<Utc>,
    /// Why, in words (`the page answers 404`, `other bytes: <sha256>`).
    pub detail: Option<String>,
    /// The posting.
    pub sighting_id: i64,
    /// Its picture.
    pub image_id: ImageId,
    /// Where the picture is.
    pub image_url: String,
    /// The page it was posted on.
    pub page_url: Option<String>,
    /// That page's title.
    pub page_title: Option<String>,
    /// Site or domain.
    pub site: Option<String>,
    /// When an alert about it was sent.
    pub delivered_at: Option<DateTime<Utc>>,
}

/// A posting a watch re-checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostingToCheck {
    /// The sighting's row id.
    pub sighting_id: i64,
    /// The picture's SHA-256, hex.
    pub sha256: String,
    /// Where the picture is.
    pub image_url: String,
    /// The page it was posted on.
    pub page_url: Option<String>,
    /// The last `ETag` of the picture's URL.
    pub etag: Option<String>,
    /// Its last `Last-Modified`.
    pub last_modified: Option<DateTime<Utc>>,
    /// Checks that failed in a row before this one.
    pub failed_checks: u32,
}

/// What re-checking a posting found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    /// Still there; the validators to keep for the next check.
    There {
        /// `ETag` now.
        etag: Option<String>,
        /// `Last-Modified` now.
        last_modified: Option<DateTime<Utc>>,
    },
    /// Gone, and why.
    Gone(String),
    /// Other bytes, and which.
    Changed(String),
    /// No answer this time (a timeout, a 5xx); gone after too many.
    Failed(String),
    /// Not checked (robots.txt forbids it, a private address).
    Skipped(String),
}
