//! Scans: what was searched, how, and how far it got.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Row id of a scan.
pub type ScanId = i64;

/// The state of a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanStatus {
    /// Waiting in the work queue for a worker (`scan --enqueue`).
    Queued,
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
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Interrupted => "interrupted",
            Self::Failed => "failed",
        }
    }
    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => Self::Queued,
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

/// A queued scan's batches by state (`scan --enqueue`; PostgreSQL store).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BatchProgress {
    /// All of them.
    pub total: i64,
    /// Done.
    pub done: i64,
    /// Being run by a worker.
    pub running: i64,
    /// Waiting for a worker.
    pub queued: i64,
    /// Failed for good.
    pub failed: i64,
}

impl BatchProgress {
    /// The batches of each of `scans`, in their order (`None` for a scan
    /// without any), from a store's answer for them.
    pub fn of_each(
        scans: &[ScanRecord],
        mut progress: Vec<(ScanId, BatchProgress)>,
    ) -> Vec<Option<BatchProgress>> {
        scans
            .iter()
            .map(|scan| {
                let at = progress.iter().position(|(id, _)| *id == scan.id)?;
                Some(progress.swap_remove(at).1)
            })
            .collect()
    }
}
