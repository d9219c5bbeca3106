//! Text for people on a terminal: the overview of a match report, a scan's
//! summary, `db status` and `db failures`. Pure functions returning the
//! text; the CLI decides where it goes.

use super::Report;
use crate::matching::MatchKind;
use crate::model::FailureRecord;
use crate::scan::ScanSummary;
use crate::store::StoreStatus;

/// `1 match`, `2 matches`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A few lines for people: how many matches of each kind, and the best
/// ones with their scores, decision and where they were seen.
pub fn match_overview(report: &Report) -> String {
    let of = |kind: MatchKind| report.matches.iter().filter(|m| m.kind == kind).count();
    let mut text = format!(
        "{} for {}: {}, {}, {} similar\n",
        count(report.matches.len(), "match", "matches"),
        report.query.label,
        count(of(MatchKind::ExactCopy), "exact copy", "exact copies"),
        count(
            of(MatchKind::NearDuplicate),
            "near-duplicate",
            "near-duplicates"
        ),
        of(MatchKind::Similar),
    );
    for m in report.matches.iter().take(10) {
        let first = m.sightings.first();
        let place = first
            .map(|s| s.page_url.clone().unwrap_or_else(|| s.image_url.clone()))
            .unwrap_or_default();
        let decision = m
            .review
            .as_ref()
            .map_or_else(String::new, |r| format!("  [{}]", r.decision.label()));
        text.push_str(&format!(
            "  {:>2}. {:<15} {}x{}  {}  {}  {}{}{decision}\n",
            m.rank,
            m.kind.label(),
            m.image.width,
            m.image.height,
            super::words::evidence(m.hash_distance, m.verified_inliers),
            count(m.sightings.len(), "sighting", "sightings"),
            place,
            found_by(m)
        ));
        if let Some(hit) = first.and_then(|s| s.words_hit.as_ref()) {
            text.push_str(&format!(
                "      “{}”\n",
                super::postings::shown(&super::postings::excerpt(hit))
            ));
        }
    }
    if let Some(o) = &report.likely_original {
        let place = super::timeline::sighting_of(report, &o.evidence)
            .map(|s| s.page_url.clone().unwrap_or_else(|| s.image_url.clone()))
            .unwrap_or_else(|| format!("match #{}", o.match_rank));
        text.push_str(&format!("  likely original: {place}: {}\n", o.why));
    }
    for claim in report.origins.iter().take(3) {
        let place = claim
            .page_url
            .as_deref()
            .or(claim.image_url.as_deref())
            .unwrap_or("?");
        text.push_str(&format!(
            "  origin candidate: {place}: {}\n",
            claim.reasons.join("; ")
        ));
    }
    text
}

/// `  (the embedding)`, or for a text search the signals that found the
/// match with its rank in each: `  (the picture (CLIP) #3, the words of
/// its pages #1)`.
fn found_by(m: &super::ReportMatch) -> String {
    if m.found_by.is_empty() {
        return m
            .decided_by
            .map_or_else(String::new, |d| format!("  ({})", d.label()));
    }
    let signals: Vec<String> = m
        .found_by
        .iter()
        .map(|f| format!("{} #{}", f.signal.label(), f.rank))
        .collect();
    format!("  (found by {})", signals.join(", "))
}

/// What a summary is of: a scan of the web, or `index` of a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryOf {
    /// Candidates found by search, a URL list or a reverse search.
    Web,
    /// Files under a folder.
    Folder,
}

/// The words a summary of `of` uses.
struct SummaryWords {
    run: &'static str,
    found: &'static str,
    got: &'static str,
    known: &'static str,
    copies: &'static str,
}

impl SummaryOf {
    fn words(self) -> SummaryWords {
        match self {
            Self::Web => SummaryWords {
                run: "scan",
                found: "candidates",
                got: "fetched",
                known: "already stored",
                copies: "sightings",
            },
            Self::Folder => SummaryWords {
                run: "index",
                found: "files",
                got: "read",
                known: "already indexed",
                copies: "file paths",
            },
        }
    }
}

/// The live line beside a scan's progress bar: its counters in the words
/// of what is scanned, and the rate.
pub fn progress_line(p: &crate::scan::ProgressSnapshot, of: SummaryOf, rate: f64) -> String {
    let c = &p.counts;
    let SummaryWords { found, got, .. } = of.words();
    format!(
        "{found} {} · {got} {} · skipped {} · failed {} · embedded {} · new pictures {} · {rate:.1}/s",
        c.candidates, c.fetched, c.skipped, c.failed, c.embedded, c.new_images
    )
}

/// A scan's summary, in the words of what was scanned.
pub fn scan_summary(s: &ScanSummary, of: SummaryOf) -> String {
    let c = &s.progress.counts;
    let p = &s.progress;
    let resumed = if s.resumed { " (resumed)" } else { "" };
    let SummaryWords {
        run,
        found,
        got,
        known,
        copies,
    } = of.words();
    let mut text = format!(
        "{run} {} {}{resumed} in {:.1} s\n  {} {found}: {} {got} ({:.1} MB; {} identical to a stored picture), {} skipped ({} {known}), {} failed\n  stored {} new pictures ({} embedded) and {} new {copies}\n",
        s.scan_id,
        s.status.as_str(),
        s.elapsed_secs,
        c.candidates,
        c.fetched,
        p.bytes as f64 / 1e6,
        p.known_bytes,
        c.skipped,
        p.already_known,
        c.failed,
        c.new_images,
        c.embedded,
        c.new_sightings,
    );
    if p.dropped_results > 0 {
        text.push_str(&format!(
            "  {} left out of the search answers: malformed, or without an http(s) image URL\n",
            count(p.dropped_results as usize, "result", "results")
        ));
    }
    if p.recorded_setbacks() {
        text.push_str("  see `provenance db failures` for what failed or was skipped and why\n");
    }
    text
}

/// `db failures`, newest first.
pub fn failures(failures: &[FailureRecord]) -> String {
    if failures.is_empty() {
        return "no failures recorded\n".into();
    }
    failures
        .iter()
        .map(|f| {
            format!(
                "{}  {:<12} {}×  {}\n    {}\n",
                f.last_at.format("%Y-%m-%d %H:%M:%S"),
                f.stage.to_string(),
                f.attempts,
                f.url,
                f.reason
            )
        })
        .collect()
}

/// `db status`.
pub fn store_status(s: &StoreStatus) -> String {
    let model = s
        .model
        .as_ref()
        .map_or_else(|| "none yet".to_string(), ToString::to_string);
    format!(
        "backend:    {}\nlocation:   {}\nschema:     version {}\nmodel:      {}\nimages:     {} ({} embedded)\nsightings:  {}\nscans:      {}\nfailures:   {}\n",
        s.backend, s.location, s.schema_version, model, s.images, s.embedded, s.sightings, s.scans, s.failures
    )
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::model::{FailureStage, ModelInfo, ScanStatus, Stage};
    use crate::scan::ProgressSnapshot;
    use crate::store::Backend;

    #[test]
    fn status_renders_every_count() {
        let status = StoreStatus {
            backend: Backend::Sqlite,
            location: "/d/provenance.sqlite3".into(),
            schema_version: 1,
            model: Some(ModelInfo {
                id: "m".into(),
                dim: 512,
            }),
            images: 3,
            embedded: 2,
            sightings: 7,
            scans: 1,
            failures: 4,
        };
        assert_eq!(
            store_status(&status),
            "backend:    sqlite\nlocation:   /d/provenance.sqlite3\nschema:     version 1\nmodel:      m (512-d)\nimages:     3 (2 embedded)\nsightings:  7\nscans:      1\nfailures:   4\n"
        );
    }

    #[test]
    fn failures_show_stage_attempts_url_and_reason() {
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 9, 5, 0).unwrap();
        let failure = FailureRecord {
            url: "https://example.org/a.jpg".into(),
            stage: FailureStage::skipped(Stage::Robots),
            reason: "robots.txt of https://example.org disallows it".into(),
            scan_id: Some(1),
            attempts: 2,
            first_at: at,
            last_at: at,
        };
        assert_eq!(
            failures(&[failure]),
            "2026-11-30 09:05:00  skip:robots  2×  https://example.org/a.jpg\n    robots.txt of https://example.org disallows it\n"
        );
        assert_eq!(failures(&[]), "no failures recorded\n");
    }

    #[test]
    fn the_progress_line_speaks_of_what_is_scanned() {
        let mut p = ProgressSnapshot::default();
        p.counts.candidates = 4;
        p.counts.fetched = 2;
        assert_eq!(
            progress_line(&p, SummaryOf::Folder, 1.25),
            "files 4 · read 2 · skipped 0 · failed 0 · embedded 0 · new pictures 0 · 1.2/s"
        );
        assert!(progress_line(&p, SummaryOf::Web, 0.0).starts_with("candidates 4 · fetched 2"));
    }

    #[test]
    fn a_scan_summary_points_at_failures_only_when_there_are_some() {
        let mut summary = ScanSummary {
            scan_id: 3,
            resumed: false,
            status: ScanStatus::Completed,
            progress: ProgressSnapshot::default(),
            elapsed_secs: 1.5,
        };
        let text = scan_summary(&summary, SummaryOf::Web);
        assert!(text.starts_with("scan 3 completed in 1.5 s\n"), "{text}");
        assert!(!text.contains("db failures"), "{text}");
        // A rerun where every URL was already stored: nothing to see there.
        summary.progress.counts.skipped = 4;
        summary.progress.already_known = 4;
        let text = scan_summary(&summary, SummaryOf::Folder);
        assert!(text.starts_with("index 3 completed"), "{text}");
        assert!(text.contains("4 skipped (4 already indexed)"), "{text}");
        assert!(!text.contains("db failures"), "{text}");
        assert!(
            !text.contains("candidates") && !text.contains("fetched"),
            "{text}"
        );
        summary.progress.counts.failed = 1;
        assert!(scan_summary(&summary, SummaryOf::Web).contains("db failures"));
    }
}
