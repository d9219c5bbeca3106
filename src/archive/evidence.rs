//! Adding the web archive's evidence to a report: for every posting of an
//! exact copy or near-duplicate (best matches first, up to a budget), the
//! earliest captures of its image URL and of its page, and the earliest
//! capture holding exactly the bytes we hold. Answers are kept in the
//! store, so each URL is asked once; whatever fails becomes a note and the
//! report goes on without it.

use std::collections::HashMap;

use chrono::{Duration, Utc};

use super::client::{ArchiveError, Wayback};
use crate::hash::archive_digest;
use crate::model::{ArchiveEvidence, ArchiveLookup, ArchivedCopy, Capture};
use crate::report::Report;
use crate::store::Store;

/// How the archive is asked.
#[derive(Debug, Clone, Copy)]
pub struct ArchiveOptions {
    /// Most postings looked up per report (two URLs each).
    pub max_postings: usize,
    /// An answer of "never archived" is asked again after this long; any
    /// other answer is kept for good (earliest captures do not change).
    pub recheck_empty_after: Duration,
}

impl Default for ArchiveOptions {
    fn default() -> Self {
        Self {
            max_postings: 20,
            recheck_empty_after: Duration::days(7),
        }
    }
}

/// What became of the URLs, for the notes.
#[derive(Default)]
struct Tally {
    failed: usize,
    first_failure: Option<String>,
    rate_limited: bool,
    not_asked_offline: usize,
    left_out: usize,
}

/// Adds [`ArchiveEvidence`] to every posting of the report's exact copies
/// and near-duplicates. `archive` is `None` when requests are not allowed
/// (`--offline`): answers kept from earlier runs are still used.
pub async fn add_archive_evidence(
    report: &mut Report,
    store: &dyn Store,
    archive: Option<&Wayback>,
    options: &ArchiveOptions,
) {
    let mut known: HashMap<String, Option<Vec<Capture>>> = HashMap::new();
    let mut tally = Tally::default();
    let mut postings = 0;
    for m in report
        .matches
        .iter_mut()
        .filter(|m| m.kind.is_same_picture())
    {
        let digest = m
            .image
            .sha1
            .as_deref()
            .and_then(|h| <[u8; 20]>::try_from(hex::decode(h).ok()?).ok())
            .map(|sha1| archive_digest(&sha1));
        for s in &mut m.sightings {
            if postings == options.max_postings {
                tally.left_out += 1;
                continue;
            }
            postings += 1;
            let image = captures(
                &s.image_url,
                store,
                archive,
                options,
                &mut known,
                &mut tally,
            )
            .await;
            let page = match &s.page_url {
                Some(url) => captures(url, store, archive, options, &mut known, &mut tally).await,
                None => None,
            };
            if image.is_none() && page.is_none() {
                continue;
            }
            let image = image.unwrap_or_default();
            s.archive = Some(ArchiveEvidence {
                identical_bytes: digest
                    .as_deref()
                    .and_then(|d| image.iter().find(|c| c.digest.as_deref() == Some(d)))
                    .map(ArchivedCopy::from),
                image: image.first().map(ArchivedCopy::from),
                page: page
                    .as_ref()
                    .and_then(|p| p.first())
                    .map(ArchivedCopy::from),
            });
        }
    }
    report.notes.extend(notes(&tally, options));
    crate::report::settle(report);
}

/// The captures of `url`: kept, or asked now; `None` when unknown (not an
/// http(s) URL, not allowed to ask, or the archive failed).
async fn captures(
    url: &str,
    store: &dyn Store,
    archive: Option<&Wayback>,
    options: &ArchiveOptions,
    known: &mut HashMap<String, Option<Vec<Capture>>>,
    tally: &mut Tally,
) -> Option<Vec<Capture>> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return None;
    }
    if let Some(found) = known.get(url) {
        return found.clone();
    }
    let found = look_up(url, store, archive, options, tally).await;
    known.insert(url.to_string(), found.clone());
    found
}

async fn look_up(
    url: &str,
    store: &dyn Store,
    archive: Option<&Wayback>,
    options: &ArchiveOptions,
    tally: &mut Tally,
) -> Option<Vec<Capture>> {
    let now = Utc::now();
    match store.archive_lookup(url).await {
        Ok(Some(kept))
            if !kept.captures.is_empty() || now - kept.checked_at < options.recheck_empty_after =>
        {
            return Some(kept.captures)
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot read the kept archive answers"),
    }
    let Some(archive) = archive else {
        tally.not_asked_offline += 1;
        return None;
    };
    if tally.rate_limited {
        return None;
    }
    match archive.captures(url).await {
        Ok(captures) => {
            let lookup = ArchiveLookup {
                url: url.to_string(),
                checked_at: now,
                captures,
            };
            if let Err(e) = store.put_archive_lookup(&lookup).await {
                tracing::warn!(error = %e, "cannot keep the archive's answer; it is asked again next time");
            }
            Some(lookup.captures)
        }
        Err(ArchiveError::RateLimited) => {
            tally.rate_limited = true;
            None
        }
        Err(e) => {
            tally.failed += 1;
            tally.first_failure.get_or_insert_with(|| e.to_string());
            None
        }
    }
}

fn notes(tally: &Tally, options: &ArchiveOptions) -> Vec<String> {
    let mut notes = Vec::new();
    if tally.rate_limited {
        notes.push(ArchiveError::RateLimited.to_string());
    }
    if let Some(first) = &tally.first_failure {
        notes.push(format!(
            "web archive dates are missing for {} URL(s): {first}",
            tally.failed
        ));
    }
    if tally.not_asked_offline > 0 {
        notes.push(format!(
            "offline: the web archive was not asked about {} URL(s); answers kept from earlier runs were used",
            tally.not_asked_offline
        ));
    }
    if tally.left_out > 0 {
        notes.push(format!(
            "the web archive was asked about the first {} postings of exact copies and near-duplicates; {} more were left out (raise --archive-max)",
            options.max_postings, tally.left_out
        ));
    }
    notes
}
