//! One timeline of origin: every dated piece of evidence about the query's
//! exact copies and near-duplicates, oldest first, each with its source,
//! its strength and its caveat; and the likely original — the posting with
//! the oldest strong evidence (medium when there is none), ties broken by
//! the larger version, then by the richer metadata. Pure: computed from
//! the report, again whenever evidence is added to it (the web archive).

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Report, ReportMatch, ReportSighting};
use crate::model::{DateMeaning, ImageId};

/// Most events kept (oldest first); the rest are counted in a note.
pub const MAX_EVENTS: usize = 500;

/// What kind of evidence a dated event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// The web archive holds these very bytes from then.
    ArchivedIdenticalBytes,
    /// A source recorded the upload then (Wikimedia Commons).
    SourceUploaded,
    /// A reverse-search engine's crawler first saw the posting then (TinEye).
    SourceCrawled,
    /// The file's EXIF `DateTimeOriginal`.
    ExifTaken,
    /// The file's XMP `photoshop:DateCreated` (IPTC Date Created).
    FileCreated,
    /// A time-stamp authority countersigned the file's Content Credentials.
    CredentialsTimeStamped,
    /// An action in the file's Content Credentials names this time.
    CredentialsAction,
    /// The web archive holds the image URL from then (bytes unknown).
    ImageUrlArchived,
    /// A catalogue took the posting in then (Openverse).
    SourceIndexed,
    /// The page says it was published then.
    PagePublished,
    /// The web archive holds the page from then.
    PageArchived,
    /// The server's `Last-Modified` for the image.
    HttpLastModified,
    /// When a scan of ours first saw the posting.
    FirstSeenByUs,
}

/// How far a kind of evidence can be trusted to date a picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strength {
    /// A third party recorded these bytes or this posting at that time.
    Strong,
    /// A date that is usually right but can be edited, or does not tie the
    /// date to these bytes.
    Medium,
    /// A server's claim, or only when we looked.
    Weak,
}

impl EvidenceKind {
    /// Its strength.
    pub fn strength(self) -> Strength {
        match self {
            Self::ArchivedIdenticalBytes | Self::SourceUploaded | Self::SourceCrawled => {
                Strength::Strong
            }
            Self::ExifTaken
            | Self::FileCreated
            | Self::CredentialsTimeStamped
            | Self::CredentialsAction
            | Self::ImageUrlArchived
            | Self::SourceIndexed
            | Self::PagePublished => Strength::Medium,
            Self::PageArchived | Self::HttpLastModified | Self::FirstSeenByUs => Strength::Weak,
        }
    }

    /// What happened, in words.
    pub fn what(self) -> &'static str {
        match self {
            Self::ArchivedIdenticalBytes => "archived by the Wayback Machine with these very bytes",
            Self::SourceUploaded => "uploaded to the source that reported it",
            Self::SourceCrawled => "first crawled by the source that reported it",
            Self::ExifTaken => "taken (EXIF DateTimeOriginal)",
            Self::FileCreated => "created (XMP/IPTC Date Created)",
            Self::CredentialsTimeStamped => "Content Credentials time-stamped",
            Self::CredentialsAction => "first action recorded in its Content Credentials",
            Self::ImageUrlArchived => "image URL archived by the Wayback Machine",
            Self::SourceIndexed => "indexed by the source that reported it",
            Self::PagePublished => "published, as the page says",
            Self::PageArchived => "page archived by the Wayback Machine",
            Self::HttpLastModified => "file last modified on the server (HTTP Last-Modified)",
            Self::FirstSeenByUs => "first seen here by provenance",
        }
    }

    /// How far to trust it, in words.
    pub fn caveat(self) -> &'static str {
        match self {
            Self::ArchivedIdenticalBytes => {
                "the archive held exactly these bytes then: the strongest date there is"
            }
            Self::SourceUploaded => "the source's record of the upload; the picture may be older",
            Self::SourceCrawled => {
                "when its crawler first saw the posting; the posting may be older"
            }
            Self::ExifTaken => "written by the camera or editor; can be edited, no time zone",
            Self::FileCreated => "written into the file by its maker or editor; can be edited",
            Self::CredentialsTimeStamped => {
                "a time-stamp authority's countersignature on credentials that validate; the authority is not checked against a trust list"
            }
            Self::CredentialsAction => {
                "signed into credentials that validate, so not edited since; the signer chose the time"
            }
            Self::ImageUrlArchived => "the URL existed then; it may have held other bytes",
            Self::SourceIndexed => "when its catalogue took the posting in; the posting is older",
            Self::PagePublished => {
                "the publisher's own date; pages can be backdated, and a picture added later"
            }
            Self::PageArchived => "the page existed then; it may not have shown the picture yet",
            Self::HttpLastModified => "the server's claim; a re-upload resets it",
            Self::FirstSeenByUs => "only when we looked; it may be older",
        }
    }
}

/// One dated piece of evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEvent {
    /// When (EXIF dates, which have no zone, are read as UTC).
    pub at: DateTime<Utc>,
    /// What kind of evidence.
    pub kind: EvidenceKind,
    /// How far it can be trusted.
    pub strength: Strength,
    /// The match it belongs to (its rank in the report).
    pub match_rank: u32,
    /// The stored picture.
    pub image_id: ImageId,
    /// The posting, when the date is one posting's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sighting_id: Option<i64>,
}

/// The posting most likely to be the original, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LikelyOriginal {
    /// The match (its rank).
    pub match_rank: u32,
    /// The stored picture.
    pub image_id: ImageId,
    /// The posting, when the evidence is one posting's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sighting_id: Option<i64>,
    /// The evidence that decided.
    pub evidence: TimelineEvent,
    /// Why, in one sentence.
    pub why: String,
}

/// Recomputes the report's timeline and likely original from its matches.
pub fn settle(report: &mut Report) {
    let mut events = events(report);
    if events.len() > MAX_EVENTS {
        let left_out = events.len() - MAX_EVENTS;
        events.truncate(MAX_EVENTS);
        let note = format!("{left_out} later dated events are not on the timeline.");
        if !report.notes.contains(&note) {
            report.notes.push(note);
        }
    }
    report.likely_original = likely_original(report, &events);
    report.timeline = events;
}

fn events(report: &Report) -> Vec<TimelineEvent> {
    let mut events = Vec::new();
    for m in report.matches.iter().filter(|m| m.kind.is_same_picture()) {
        let mut push = |at, kind: EvidenceKind, sighting: Option<&ReportSighting>| {
            events.push(TimelineEvent {
                at,
                kind,
                strength: kind.strength(),
                match_rank: m.rank,
                image_id: m.image.id,
                sighting_id: sighting.map(|s| s.id),
            });
        };
        if let Some(at) = exif_time(m) {
            push(at, EvidenceKind::ExifTaken, None);
        }
        if let Some(at) = created_time(m) {
            push(at, EvidenceKind::FileCreated, None);
        }
        if let Some(c) = credentials_that_hold(m) {
            if let Some(at) = c.signed_at.filter(|t| *t <= latest_plausible(m)) {
                push(at, EvidenceKind::CredentialsTimeStamped, None);
            }
            if let Some(at) = c.earliest_action().filter(|t| *t <= latest_plausible(m)) {
                push(at, EvidenceKind::CredentialsAction, None);
            }
        }
        for s in &m.sightings {
            if let Some(at) = s.last_modified {
                push(at, EvidenceKind::HttpLastModified, Some(s));
            }
            if let Some(date) = s.source_facts.as_ref().and_then(|f| f.date) {
                let kind = match date.meaning {
                    DateMeaning::Uploaded => EvidenceKind::SourceUploaded,
                    DateMeaning::Indexed => EvidenceKind::SourceIndexed,
                    DateMeaning::Crawled => EvidenceKind::SourceCrawled,
                    DateMeaning::Published => EvidenceKind::PagePublished,
                };
                push(date.at, kind, Some(s));
            }
            if let Some(archive) = &s.archive {
                let identical = archive.identical_bytes.as_ref();
                if let Some(copy) = identical {
                    push(copy.at, EvidenceKind::ArchivedIdenticalBytes, Some(s));
                }
                if let Some(copy) = archive.image.as_ref().filter(|c| Some(*c) != identical) {
                    push(copy.at, EvidenceKind::ImageUrlArchived, Some(s));
                }
                if let Some(copy) = &archive.page {
                    push(copy.at, EvidenceKind::PageArchived, Some(s));
                }
            }
            push(s.first_seen_at, EvidenceKind::FirstSeenByUs, Some(s));
        }
    }
    events.sort_by_key(|e| (e.at, e.strength, e.match_rank, e.sighting_id));
    events
}

/// The oldest strong evidence (medium when there is none); among events
/// of the same day, the larger version, then the richer metadata.
fn likely_original(report: &Report, events: &[TimelineEvent]) -> Option<LikelyOriginal> {
    let strength = [Strength::Strong, Strength::Medium]
        .into_iter()
        .find(|s| events.iter().any(|e| e.strength == *s))?;
    let candidates: Vec<&TimelineEvent> =
        events.iter().filter(|e| e.strength == strength).collect();
    let oldest_day = candidates.first()?.at.date_naive();
    let best = candidates
        .iter()
        .take_while(|e| e.at.date_naive() == oldest_day)
        .max_by_key(|e| {
            let m = match_of(report, e.match_rank);
            let pixels = m.map_or(0, |m| u64::from(m.image.width) * u64::from(m.image.height));
            let richness = m.map_or(0, |m| metadata_richness(m, e.sighting_id));
            (
                pixels,
                richness,
                std::cmp::Reverse(e.at),
                std::cmp::Reverse(e.match_rank),
            )
        })?;
    let strength_words = match strength {
        Strength::Strong => "the oldest strong evidence",
        _ => "no strong evidence; the oldest medium evidence",
    };
    Some(LikelyOriginal {
        match_rank: best.match_rank,
        image_id: best.image_id,
        sighting_id: best.sighting_id,
        evidence: (*best).clone(),
        why: format!(
            "{strength_words}: {} on {} ({}).",
            best.kind.what(),
            best.at.format("%Y-%m-%d"),
            best.kind.caveat()
        ),
    })
}

/// The match ranked `rank`.
pub fn match_of(report: &Report, rank: u32) -> Option<&ReportMatch> {
    report.matches.iter().find(|m| m.rank == rank)
}

/// The posting of an event, when it is one posting's.
pub fn sighting_of<'r>(report: &'r Report, e: &TimelineEvent) -> Option<&'r ReportSighting> {
    let id = e.sighting_id?;
    match_of(report, e.match_rank)?
        .sightings
        .iter()
        .find(|s| s.id == id)
}

/// How many facts about a version and its posting are known: EXIF artist,
/// copyright and date, XMP creator, rights and credit, Content Credentials
/// that validate, the source's creator and licence.
fn metadata_richness(m: &ReportMatch, sighting: Option<i64>) -> usize {
    let exif = &m.image.exif;
    let embedded = m.image.embedded.as_ref();
    let facts = sighting
        .and_then(|id| m.sightings.iter().find(|s| s.id == id))
        .and_then(|s| s.source_facts.as_ref());
    [
        exif.artist.is_some(),
        exif.copyright.is_some(),
        exif.date_time_original.is_some(),
        embedded.is_some_and(|e| e.creator.is_some()),
        embedded.is_some_and(|e| e.rights.is_some()),
        embedded.is_some_and(|e| e.credit.is_some()),
        credentials_that_hold(m).is_some(),
        facts.is_some_and(|f| f.creator.is_some()),
        facts.is_some_and(|f| f.license.is_some()),
    ]
    .iter()
    .filter(|known| **known)
    .count()
}

/// A version's Content Credentials, when they validate (dates in ones
/// that do not are no evidence).
fn credentials_that_hold(m: &ReportMatch) -> Option<&crate::model::ContentCredentials> {
    m.image
        .embedded
        .as_ref()?
        .content_credentials
        .as_ref()
        .filter(|c| c.validation.holds())
}

/// The latest date a file's own claims can plausibly carry: a day after
/// we first saw it.
fn latest_plausible(m: &ReportMatch) -> DateTime<Utc> {
    m.image.first_seen_at + chrono::Duration::days(1)
}

/// A version's XMP Date Created as a time (a bare day: its start, UTC);
/// none when after the file was first seen.
fn created_time(m: &ReportMatch) -> Option<DateTime<Utc>> {
    let raw = m.image.embedded.as_ref()?.date_created.as_deref()?;
    crate::model::source_facts::parse_source_date(raw, latest_plausible(m))
}

/// A version's EXIF date (`2024:05:01 10:00:00`) as a time, read as UTC;
/// none when it is after the file was first seen (a camera clock set in
/// the future is no evidence).
fn exif_time(m: &ReportMatch) -> Option<DateTime<Utc>> {
    let raw = m.image.exif.date_time_original.as_deref()?;
    NaiveDateTime::parse_from_str(raw.trim(), "%Y:%m:%d %H:%M:%S")
        .ok()
        .map(|t| t.and_utc())
        .filter(|t| *t <= latest_plausible(m))
}
