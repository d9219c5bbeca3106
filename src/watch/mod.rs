//! Watching pictures over time. A watch is a scan run again on a
//! schedule (`watch run`, for cron or a systemd timer). After each run's
//! scan, [`finish_run`] takes the postings it saw — those the watch did
//! not follow are *new* — and re-checks every posting the watch follows
//! ([`recheck`]), the new ones too (a search index can be stale): *gone*
//! when its page no longer shows the picture or answers 404/410, or when
//! it failed to answer on `gone_after` runs in a row; *changed* when its
//! address serves other bytes; *new* again when a gone one is back. Each posting's outcome and its change are written in one
//! transaction, so a run killed half-way leaves nothing half-recorded and
//! the next run re-checks what was left.

pub mod recheck;
pub mod scan;
pub mod webhook;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures::StreamExt;
use serde::Serialize;

use crate::fetch::Fetcher;
use crate::model::{ChangeKind, ChangeRecord, CheckOutcome, ScanId, WatchId, WatchRecord};
use crate::store::{Store, StoreError};

pub use recheck::{check_posting, outcome_of_error};
pub use webhook::{Webhook, WebhookError};

/// Failed checks in a row after which a posting is gone.
pub const DEFAULT_GONE_AFTER: u32 = 3;
/// Shortest time between two runs of a watch.
pub const MIN_EVERY_SECS: i64 = 60;
/// Postings re-checked at once (the fetcher's per-host limits still hold).
const CHECKS_AT_ONCE: usize = 8;

/// What one run of a watch found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    /// The watch.
    pub watch_id: WatchId,
    /// Its scan this run.
    pub scan_id: Option<ScanId>,
    /// Postings it had not followed.
    pub new: u64,
    /// Postings gone before and there again.
    pub back: u64,
    /// Postings re-checked.
    pub checked: u64,
    /// Of those, still there.
    pub there: u64,
    /// Found gone this run.
    pub gone: u64,
    /// Found serving other bytes this run.
    pub changed: u64,
    /// That did not answer this time (not gone yet).
    pub failed: u64,
    /// Not asked (robots.txt, a local file, a blocked address).
    pub skipped: u64,
}

/// A watch's period: [`parse_duration`], at least [`MIN_EVERY_SECS`].
pub fn parse_every(text: &str) -> Result<i64, String> {
    let secs = parse_duration(text)?;
    if secs < MIN_EVERY_SECS {
        return Err(format!(
            "`{}` is too often: a watch runs at most once a minute",
            text.trim()
        ));
    }
    Ok(secs)
}

/// `90s`, `30m`, `6h`, `1d`, `2w` (or a number of seconds) as seconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: i64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 30m, 6h, 1d or 1w"))?;
    let unit = match unit.trim() {
        "" | "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}`: use s, m, h, d or w"
            ))
        }
    };
    number
        .checked_mul(unit)
        .ok_or_else(|| format!("`{text}` is too long"))
}

/// `{"new": [...], "gone": [...], "changed": [...]}`, each oldest first:
/// what `changes --format json` prints and the webhook receives.
pub fn changes_json(changes: &[ChangeRecord]) -> serde_json::Value {
    let of = |kind: ChangeKind| -> Vec<&ChangeRecord> {
        changes.iter().filter(|c| c.kind == kind).collect()
    };
    serde_json::json!({
        "new": of(ChangeKind::New),
        "gone": of(ChangeKind::Gone),
        "changed": of(ChangeKind::Changed),
    })
}

/// A time (`2026-12-01`, RFC 3339) or a duration ago (`7d`, `12h`).
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text.trim()) {
        return Ok(at.with_timezone(&Utc));
    }
    if let Ok(day) = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        return Ok(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    let ago = parse_duration(text).map_err(|_| {
        format!(
            "`{text}` is neither a time (2026-12-01, 2026-12-01T08:00:00Z) nor a duration (7d, 12h)"
        )
    })?;
    Ok(now - chrono::Duration::seconds(ago))
}

/// `1d`, `6h`, `90m`, `120s`.
pub fn every_words(secs: i64) -> String {
    for (unit, size) in [("w", 7 * 86_400), ("d", 86_400), ("h", 3600), ("m", 60)] {
        if secs % size == 0 {
            return format!("{}{unit}", secs / size);
        }
    }
    format!("{secs}s")
}

/// The watches due at `now` (all of them with `all`).
pub fn due(watches: Vec<WatchRecord>, now: DateTime<Utc>, all: bool) -> Vec<WatchRecord> {
    watches
        .into_iter()
        .filter(|w| all || w.next_run_at <= now)
        .collect()
}

/// Ends a watch's run after its scan `scan_id` (none when the scan could
/// not run): takes the postings the scan saw, re-checks the others, and
/// sets the next run `every_secs` from now.
pub async fn finish_run(
    store: &dyn Store,
    fetcher: &Fetcher,
    watch: &WatchRecord,
    scan_id: Option<ScanId>,
    gone_after: u32,
) -> Result<RunSummary, StoreError> {
    let mut summary = RunSummary {
        watch_id: watch.id,
        scan_id,
        ..RunSummary::default()
    };
    if let Some(scan_id) = scan_id {
        summary.new = store.take_postings(watch.id, scan_id, Utc::now()).await?;
    }
    let postings = store.postings_to_check(watch.id).await?;
    let mut checks = futures::stream::iter(postings)
        .map(|posting| async move {
            let outcome = check_posting(fetcher, &posting).await;
            (posting.sighting_id, outcome)
        })
        .buffer_unordered(CHECKS_AT_ONCE);
    while let Some((sighting, outcome)) = checks.next().await {
        summary.checked += 1;
        let change = store
            .record_check(watch.id, sighting, &outcome, Utc::now(), gone_after)
            .await?;
        match (&outcome, change) {
            (_, Some(ChangeKind::Gone)) => summary.gone += 1,
            (_, Some(ChangeKind::Changed)) => summary.changed += 1,
            (_, Some(ChangeKind::New)) => {
                summary.back += 1;
                summary.there += 1;
            }
            (CheckOutcome::There { .. }, _) => summary.there += 1,
            (CheckOutcome::Skipped(_), _) => summary.skipped += 1,
            _ => summary.failed += 1,
        }
    }
    let now = Utc::now();
    let next = now + Duration::seconds(watch.every_secs.max(MIN_EVERY_SECS));
    store.finish_watch_run(watch.id, now, scan_id, next).await?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_time_a_day_or_a_duration_ago() {
        let now: DateTime<Utc> = "2026-12-03T12:00:00Z".parse().unwrap();
        assert_eq!(
            parse_since("2026-12-01", now).unwrap().to_rfc3339(),
            "2026-12-01T00:00:00+00:00"
        );
        assert_eq!(
            parse_since("2026-12-02T08:00:00Z", now)
                .unwrap()
                .to_rfc3339(),
            "2026-12-02T08:00:00+00:00"
        );
        assert_eq!(
            parse_since("1d", now).unwrap().to_rfc3339(),
            "2026-12-02T12:00:00+00:00"
        );
        assert!(parse_since("yesterday", now).is_err());
    }

    #[test]
    fn periods_in_the_largest_whole_unit() {
        assert_eq!(every_words(86_400), "1d");
        assert_eq!(every_words(5400), "90m");
        assert_eq!(every_words(604_800), "1w");
        assert_eq!(every_words(61), "61s");
    }

    #[test]
    fn durations_in_units_and_never_too_often() {
        assert_eq!(parse_every("30m"), Ok(1800));
        assert_eq!(parse_every("6h"), Ok(21_600));
        assert_eq!(parse_every(" 1d "), Ok(86_400));
        assert_eq!(parse_every("2w"), Ok(1_209_600));
        assert_eq!(parse_every("120"), Ok(120));
        assert!(parse_every("30s").unwrap_err().contains("too often"));
        assert!(parse_every("5y").unwrap_err().contains("unknown unit"));
        assert!(parse_every("soon").is_err());
        assert!(parse_every("99999999999999999999d").is_err());
    }
}
