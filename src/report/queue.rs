//! `db status`'s recent scans (with the batches of queued ones) and `db
//! failures`' batches that failed for good, as terminal text.

use serde::Serialize;

use super::escape::terminal;
use crate::model::{BatchProgress, ScanRecord};
use crate::queue::FailedBatch;

/// A scan as `db status` lists it: with its batches when workers run it.
#[derive(Debug, Clone, Serialize)]
pub struct ScanLine {
    /// The scan.
    #[serde(flatten)]
    pub scan: ScanRecord,
    /// Its batches by state (queued scans only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batches: Option<BatchProgress>,
}

impl ScanLine {
    /// Each scan with its batches, if it has any.
    pub fn join(scans: Vec<ScanRecord>, progress: Vec<(i64, BatchProgress)>) -> Vec<Self> {
        let batches = BatchProgress::of_each(&scans, progress);
        scans
            .into_iter()
            .zip(batches)
            .map(|(scan, batches)| Self { scan, batches })
            .collect()
    }
}

/// The recent scans, newest first.
pub fn recent_scans(lines: &[ScanLine]) -> String {
    if lines.is_empty() {
        return "recent scans: none yet\n".into();
    }
    let mut out = String::from("recent scans:\n");
    for line in lines {
        let s = &line.scan;
        let batches = line.batches.as_ref().map_or_else(String::new, |b| {
            format!(
                "  batches {}/{} done, {} running, {} queued, {} failed;",
                b.done, b.total, b.running, b.queued, b.failed
            )
        });
        out.push_str(&format!(
            "  #{:<5} {:<11} {}  {:?}\n        {} {} candidates, {} fetched, {} new pictures, {} failed\n",
            s.id,
            s.status.as_str(),
            s.started_at.format("%Y-%m-%d %H:%M"),
            terminal(&s.keyphrase),
            batches,
            s.counts.candidates,
            s.counts.fetched,
            s.counts.new_images,
            s.counts.failed,
        ));
    }
    out
}

/// Queued batches that failed for good, newest first.
pub fn failed_batches(batches: &[FailedBatch]) -> String {
    if batches.is_empty() {
        return "no queued batch has failed\n".into();
    }
    let mut out = String::from("queued batches that failed for good:\n");
    for b in batches {
        out.push_str(&format!(
            "{}  scan {} batch {} ({} pictures), {} attempts, last on {}\n    {}\n",
            b.failed_at.format("%Y-%m-%d %H:%M:%S"),
            b.scan_id,
            b.batch_no,
            b.size,
            b.attempts,
            terminal(b.worker.as_deref().unwrap_or("?")),
            terminal(b.last_error.as_deref().unwrap_or("no error recorded")),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::model::{ScanCounts, ScanStatus};

    #[test]
    fn a_queued_scan_shows_its_batches_and_hostile_words_are_cleaned() {
        let scan = ScanRecord {
            id: 7,
            keyphrase: "poster\u{1b}[2J".into(),
            provider: "list".into(),
            options: serde_json::json!({}),
            status: ScanStatus::Running,
            counts: ScanCounts {
                candidates: 40,
                fetched: 12,
                ..ScanCounts::default()
            },
            started_at: Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap(),
            finished_at: None,
        };
        let batches = BatchProgress {
            total: 3,
            done: 1,
            running: 1,
            queued: 1,
            failed: 0,
        };
        let text = recent_scans(&[ScanLine {
            scan,
            batches: Some(batches),
        }]);
        assert!(text.contains("#7"), "{text}");
        assert!(text.contains("running"), "{text}");
        assert!(
            text.contains("batches 1/3 done, 1 running, 1 queued, 0 failed"),
            "{text}"
        );
        assert!(text.contains("40 candidates, 12 fetched"), "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
    }

    #[test]
    fn a_failed_batch_says_why_and_how_often() {
        let text = failed_batches(&[FailedBatch {
            scan_id: 3,
            batch_no: 2,
            size: 16,
            attempts: 3,
            worker: Some("host-12".into()),
            last_error: Some("the batch's work cannot be read".into()),
            failed_at: Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap(),
        }]);
        assert!(
            text.contains("scan 3 batch 2 (16 pictures), 3 attempts, last on host-12"),
            "{text}"
        );
        assert!(text.contains("cannot be read"), "{text}");
        assert_eq!(failed_batches(&[]), "no queued batch has failed\n");
    }
}
