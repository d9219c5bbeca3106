//! Failures and polite skips: one URL (or path) that a scan could not take,
//! at one stage, with the reason in words. Typed, so a skip (robots.txt,
//! `noai`) can never be counted as a failure or the other way round; stored
//! under the names `db failures` has always shown (`timeout`,
//! `skip:robots`, …).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use super::ScanId;

/// Where in the scan an item stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// A local file could not be read.
    Read,
    /// Following a page (`--follow-pages`) failed as a whole.
    Page,
    /// The URL cannot be fetched (scheme, host, redirect target).
    Url,
    /// The address is private and private addresses are refused.
    Ssrf,
    /// robots.txt disallows the URL.
    Robots,
    /// The response is marked `X-Robots-Tag: noai` / `noimageai`.
    NoAi,
    /// The server answered with a non-success status.
    HttpStatus,
    /// The server asked for a longer pause than we wait.
    RateLimit,
    /// The file is larger than the limit.
    TooLarge,
    /// A phase of the request ran out of time.
    Timeout,
    /// Too many redirects.
    Redirect,
    /// The connection could not be opened.
    Connect,
    /// The transfer broke off.
    Transfer,
    /// A page was not HTML.
    NotHtml,
    /// The HTTP client itself failed.
    Client,
    /// The bytes are no picture provenance can read.
    Decode,
    /// The model could not embed the picture.
    Embed,
}

impl Stage {
    /// Every stage, for exhaustive tests.
    pub const ALL: [Stage; 17] = [
        Self::Read,
        Self::Page,
        Self::Url,
        Self::Ssrf,
        Self::Robots,
        Self::NoAi,
        Self::HttpStatus,
        Self::RateLimit,
        Self::TooLarge,
        Self::Timeout,
        Self::Redirect,
        Self::Connect,
        Self::Transfer,
        Self::NotHtml,
        Self::Client,
        Self::Decode,
        Self::Embed,
    ];

    /// The stored name, e.g. `http-status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Page => "page",
            Self::Url => "url",
            Self::Ssrf => "ssrf",
            Self::Robots => "robots",
            Self::NoAi => "noai",
            Self::HttpStatus => "http-status",
            Self::RateLimit => "rate-limit",
            Self::TooLarge => "too-large",
            Self::Timeout => "timeout",
            Self::Redirect => "redirect",
            Self::Connect => "connect",
            Self::Transfer => "transfer",
            Self::NotHtml => "not-html",
            Self::Client => "client",
            Self::Decode => "decode",
            Self::Embed => "embed",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// Whether an item failed or was left out on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Something went wrong; a rescan tries again.
    Failed,
    /// Left out politely (robots.txt, `noai`): not a failure of the scan.
    Skipped,
}

/// A stage with its outcome: what the failures table is keyed by.
/// Displayed and stored as the stage's name, prefixed `skip:` for skips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FailureStage {
    /// Where it stopped.
    pub stage: Stage,
    /// Failed or skipped.
    pub outcome: Outcome,
}

impl FailureStage {
    /// A failure at `stage`.
    pub fn failed(stage: Stage) -> Self {
        Self {
            stage,
            outcome: Outcome::Failed,
        }
    }

    /// A polite skip at `stage`.
    pub fn skipped(stage: Stage) -> Self {
        Self {
            stage,
            outcome: Outcome::Skipped,
        }
    }

    /// True for polite skips.
    pub fn is_skip(self) -> bool {
        self.outcome == Outcome::Skipped
    }

    /// Parses a stored name (`timeout`, `skip:robots`).
    pub fn parse(name: &str) -> Option<Self> {
        match name.strip_prefix("skip:") {
            Some(stage) => Stage::parse(stage).map(Self::skipped),
            None => Stage::parse(name).map(Self::failed),
        }
    }
}

impl fmt::Display for FailureStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_skip() {
            f.write_str("skip:")?;
        }
        f.write_str(self.stage.as_str())
    }
}

impl Serialize for FailureStage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Why one item was not taken: where, failed or skipped, and the reason in
/// words. What the scan's stages hand to the failure recorder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setback {
    /// Where and how.
    pub stage: FailureStage,
    /// What happened, e.g. `gave up after 3 attempts: HTTP 503 from …`.
    pub reason: String,
    /// Requests made before giving up (1 unless retried), so that the
    /// stored count agrees with the reason.
    pub attempts: u32,
}

impl Setback {
    /// A failure at `stage`, after one attempt.
    pub fn failed(stage: Stage, reason: impl Into<String>) -> Self {
        Self {
            stage: FailureStage::failed(stage),
            reason: reason.into(),
            attempts: 1,
        }
    }

    /// A polite skip at `stage`.
    pub fn skipped(stage: Stage, reason: impl Into<String>) -> Self {
        Self {
            stage: FailureStage::skipped(stage),
            reason: reason.into(),
            attempts: 1,
        }
    }

    /// The same, after `attempts` requests.
    pub fn after(self, attempts: u32) -> Self {
        Self {
            attempts: attempts.max(1),
            ..self
        }
    }
}

/// A failure to record: one URL at one stage. Keyed by (URL, stage).
#[derive(Debug, Clone, PartialEq)]
pub struct NewFailure {
    /// The URL (or path) that failed.
    pub url: String,
    /// Where, and whether it was a skip.
    pub stage: FailureStage,
    /// What went wrong, in words.
    pub reason: String,
    /// Scan during which it failed.
    pub scan_id: Option<ScanId>,
    /// Requests made this time (retries included).
    pub attempts: u32,
    /// When.
    pub at: DateTime<Utc>,
}

/// A stored failure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailureRecord {
    /// The URL.
    pub url: String,
    /// Where, and whether it was a skip (`timeout`, `skip:robots`).
    pub stage: FailureStage,
    /// Latest reason.
    pub reason: String,
    /// Scan of the latest attempt.
    pub scan_id: Option<ScanId>,
    /// Requests made for it, retries included, summed over every scan that
    /// failed on it (a download given up after 3 attempts counts 3).
    pub attempts: u32,
    /// First failure.
    pub first_at: DateTime<Utc>,
    /// Latest failure.
    pub last_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stored_name_reads_back_as_itself() {
        for stage in Stage::ALL {
            for kind in [FailureStage::failed(stage), FailureStage::skipped(stage)] {
                assert_eq!(FailureStage::parse(&kind.to_string()), Some(kind));
            }
        }
    }

    #[test]
    fn names_are_those_stores_already_hold() {
        assert_eq!(
            FailureStage::skipped(Stage::Robots).to_string(),
            "skip:robots"
        );
        assert_eq!(
            FailureStage::failed(Stage::HttpStatus).to_string(),
            "http-status"
        );
        assert_eq!(FailureStage::parse("skip:page").unwrap().stage, Stage::Page);
        assert_eq!(FailureStage::parse("fetch"), None);
        assert_eq!(FailureStage::parse("skip:"), None);
        let json = serde_json::to_string(&FailureStage::skipped(Stage::NoAi)).unwrap();
        assert_eq!(json, "\"skip:noai\"");
    }
}
