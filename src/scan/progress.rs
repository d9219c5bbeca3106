//! Live counters of a scan, shared between the pipeline's stages and whoever
//! draws progress (the CLI polls [`Progress::snapshot`]; the library never
//! prints).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::model::ScanCounts;

/// Counters updated by the stages as items move through them.
#[derive(Debug, Default)]
pub struct Progress {
    candidates: AtomicU64,
    fetched: AtomicU64,
    skipped: AtomicU64,
    failed: AtomicU64,
    embedded: AtomicU64,
    new_images: AtomicU64,
    new_sightings: AtomicU64,
    known_bytes: AtomicU64,
    bytes: AtomicU64,
    already_known: AtomicU64,
    refused_private: AtomicU64,
    dropped_results: AtomicU64,
    /// Candidates the scan will have in all, once known (0 until then).
    total: AtomicU64,
}

/// Which counter to bump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// Distinct candidate images found.
    Candidates,
    /// Images downloaded (or read from disk).
    Fetched,
    /// Candidates not fetched: known URL, robots.txt, `noai`.
    Skipped,
    /// Candidates that failed at some stage.
    Failed,
    /// Images embedded.
    Embedded,
    /// New distinct images stored.
    NewImages,
    /// New sightings stored.
    NewSightings,
    /// Fetched images whose bytes were already stored (not decoded again).
    KnownBytes,
    /// Bytes downloaded.
    Bytes,
    /// Candidates skipped because their URL is already stored (also
    /// counted as skipped; nothing is recorded as a failure for them).
    AlreadyKnown,
    /// Candidates refused for a private or internal address (also counted
    /// as failed).
    RefusedPrivate,
    /// Results a search API gave that were unusable (malformed, or without
    /// an http(s) image URL): never candidates, so counted apart.
    DroppedResults,
}

/// A point-in-time copy of the counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ProgressSnapshot {
    /// The counters the store keeps per scan.
    #[serde(flatten)]
    pub counts: ScanCounts,
    /// Fetched images whose bytes were already stored.
    pub known_bytes: u64,
    /// Bytes downloaded.
    pub bytes: u64,
    /// Skipped candidates whose URL (or file) was already stored.
    pub already_known: u64,
    /// Candidates refused for a private or internal address.
    #[serde(skip)]
    pub refused_private: u64,
    /// Results a search API gave that were unusable (not candidates).
    pub dropped_results: u64,
}

impl ProgressSnapshot {
    /// Whether anything was recorded in the failures table: a failure, or
    /// a polite skip (robots.txt, `noai`, a throttling host); a URL that
    /// was already stored is not one.
    pub fn recorded_setbacks(&self) -> bool {
        self.counts.failed > 0 || self.counts.skipped > self.already_known
    }

    /// True when there were candidates and every one was refused for a
    /// private address: the one case worth pointing at
    /// `--allow-private-addresses` (a public scan that meets a few hostile
    /// internal URLs must not advertise it).
    pub fn all_refused_private(&self) -> bool {
        let c = &self.counts;
        c.candidates > 0
            && c.fetched == 0
            && c.skipped == 0
            && self.refused_private > 0
            && self.refused_private == c.failed
    }
}

impl Progress {
    fn cell(&self, counter: Counter) -> &AtomicU64 {
        match counter {
            Counter::Candidates => &self.candidates,
            Counter::Fetched => &self.fetched,
            Counter::Skipped => &self.skipped,
            Counter::Failed => &self.failed,
            Counter::Embedded => &self.embedded,
            Counter::NewImages => &self.new_images,
            Counter::NewSightings => &self.new_sightings,
            Counter::KnownBytes => &self.known_bytes,
            Counter::Bytes => &self.bytes,
            Counter::AlreadyKnown => &self.already_known,
            Counter::RefusedPrivate => &self.refused_private,
            Counter::DroppedResults => &self.dropped_results,
        }
    }

    /// Adds `n` to a counter.
    pub fn add(&self, counter: Counter, n: u64) {
        self.cell(counter).fetch_add(n, Ordering::Relaxed);
    }

    /// Adds one to a counter.
    pub fn bump(&self, counter: Counter) {
        self.add(counter, 1);
    }

    /// Reads one counter.
    pub fn get(&self, counter: Counter) -> u64 {
        self.cell(counter).load(Ordering::Relaxed)
    }

    /// Reads every counter.
    pub fn snapshot(&self) -> ProgressSnapshot {
        ProgressSnapshot {
            counts: ScanCounts {
                candidates: self.get(Counter::Candidates),
                fetched: self.get(Counter::Fetched),
                skipped: self.get(Counter::Skipped),
                failed: self.get(Counter::Failed),
                embedded: self.get(Counter::Embedded),
                new_images: self.get(Counter::NewImages),
                new_sightings: self.get(Counter::NewSightings),
            },
            known_bytes: self.get(Counter::KnownBytes),
            bytes: self.get(Counter::Bytes),
            already_known: self.get(Counter::AlreadyKnown),
            refused_private: self.get(Counter::RefusedPrivate),
            dropped_results: self.get(Counter::DroppedResults),
        }
    }

    /// Says how many candidates the scan has in all, once they are gathered
    /// (a progress bar can then show a total, a rate and an ETA).
    pub fn set_total(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
    }

    /// The number of candidates in all, once known.
    pub fn total(&self) -> Option<u64> {
        Some(self.total.load(Ordering::Relaxed)).filter(|t| *t > 0)
    }

    /// Candidates that have reached an end (stored, skipped or failed).
    pub fn settled(&self) -> u64 {
        self.get(Counter::Skipped) + self.get(Counter::Failed) + self.get(Counter::Fetched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_reads_every_counter() {
        let p = Progress::default();
        p.add(Counter::Candidates, 10);
        p.bump(Counter::Fetched);
        p.bump(Counter::Skipped);
        p.add(Counter::Bytes, 512);
        let s = p.snapshot();
        assert_eq!(
            (
                s.counts.candidates,
                s.counts.fetched,
                s.counts.skipped,
                s.bytes
            ),
            (10, 1, 1, 512)
        );
        assert_eq!(p.settled(), 2);
        let json = serde_json::to_value(s).unwrap();
        assert_eq!(json["candidates"], 10);
        assert_eq!(json["bytes"], 512);
    }

    #[test]
    fn the_private_address_hint_is_only_for_a_scan_where_all_were_refused() {
        let p = Progress::default();
        assert!(!p.snapshot().all_refused_private(), "nothing found");
        p.add(Counter::Candidates, 3);
        p.add(Counter::Failed, 3);
        p.add(Counter::RefusedPrivate, 3);
        assert!(p.snapshot().all_refused_private());
        p.bump(Counter::Fetched);
        assert!(
            !p.snapshot().all_refused_private(),
            "a public scan that met a few internal URLs says nothing"
        );
        let q = Progress::default();
        q.add(Counter::Candidates, 3);
        q.add(Counter::Failed, 3);
        q.add(Counter::RefusedPrivate, 2);
        assert!(!q.snapshot().all_refused_private(), "another failure");
    }
}
