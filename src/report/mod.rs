//! The match report: one plain value ([`Report`]) holding the query, its
//! matches with every sighting, the origin evidence and notes, rendered by
//! pure functions to self-contained HTML, Markdown, and JSON with a stable,
//! documented schema (docs/report-schema.md).
//!
//! Everything scraped (titles, URLs, sites, EXIF text) is hostile input: the
//! renderers escape it for their format and only link http(s) URLs.

mod assemble;
pub(crate) mod cards;
pub(crate) mod escape;
mod files;
mod html;
mod json;
mod markdown;
mod postings;
mod queue;
mod terminal;
pub mod timeline;
pub mod view;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::matching::{Decider, MatchKind, OriginClaim, RankedMatch, Thresholds};
use crate::model::{
    ArchiveEvidence, Decision, EmbeddedCredits, ExifSummary, ImageId, ImageRecord, ModelInfo,
    PostingWords, ReviewRecord, SightingRecord, Snippet, SourceFacts,
};

pub use assemble::{assemble, MatchRecords, ReportContext};
pub use files::{report_file_name, write_reports, ReportFormat};
pub use html::render_html;
pub use json::{parse_json, render_json, render_json_line};
pub use markdown::render_markdown;
pub use postings::{postings_overview, render_postings_json, PostingsAnswer};
pub use queue::{failed_batches, recent_scans, ScanLine};
pub use terminal::{
    failures as render_failures, match_overview, progress_line, scan_summary, store_status,
    SummaryOf,
};
pub use timeline::{settle, EvidenceKind, LikelyOriginal, Strength, TimelineEvent};

/// Version of the JSON schema; raised on any change that is not a pure
/// addition of an optional field. 2: the timeline of origin and the likely
/// original.
pub const SCHEMA_VERSION: u32 = 2;

/// A report could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A report format name was not recognised.
    #[error("unknown report format `{0}`; choose from html, json, md")]
    UnknownFormat(String),
    /// The reports directory could not be created or a file written.
    #[error("could not write the report {path}")]
    Write {
        /// The directory or file.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON report could not be read.
    #[error("not a provenance JSON report")]
    Json(#[source] serde_json::Error),
}

/// Everything `provenance match` found for one query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`] at the time of writing.
    pub schema_version: u32,
    /// When the report was made.
    pub generated_at: DateTime<Utc>,
    /// What was looked for.
    pub query: QueryInfo,
    /// Which evidence was available.
    pub mode: Mode,
    /// The embedding model, when one was used.
    pub model: Option<ModelInfo>,
    /// The thresholds the kinds were decided with.
    pub thresholds: Thresholds,
    /// Matches, best first.
    pub matches: Vec<ReportMatch>,
    /// Evidence of origin, strongest first.
    pub origins: Vec<OriginClaim>,
    /// Every dated piece of evidence about the same picture, oldest first.
    #[serde(default)]
    pub timeline: Vec<TimelineEvent>,
    /// The posting with the oldest strong (else medium) evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub likely_original: Option<LikelyOriginal>,
    /// The words looked for in the postings' words (`search`, `match
    /// --text`), as they were understood.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words_query: Option<String>,
    /// Sentences for the reader: missing evidence, skipped images, ….
    pub notes: Vec<String>,
}

/// The query: an image file, or a text for `provenance search`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryInfo {
    /// The file path as given, or the search text.
    pub label: String,
    /// SHA-256 of the file, hex (none for a text query).
    pub sha256: Option<String>,
    /// Pixel width.
    pub width: Option<u32>,
    /// Pixel height.
    pub height: Option<u32>,
    /// Small JPEG of the query as a `data:` URI.
    pub thumbnail_data_uri: Option<String>,
}

/// Which evidence the matches were found with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// Embedding k-NN re-ranked with perceptual hashes and exact hashes.
    #[serde(rename = "clip+hash")]
    ClipHash,
    /// Perceptual and exact hashes only (`--embedder none`).
    #[serde(rename = "hash-only")]
    HashOnly,
    /// Text query through the text encoder (`provenance search`).
    #[serde(rename = "text")]
    Text,
}

impl Mode {
    /// The name used in every format.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClipHash => "clip+hash",
            Self::HashOnly => "hash-only",
            Self::Text => "text",
        }
    }
}

/// One matching stored image with all its sightings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportMatch {
    /// Position in the ranking, from 1.
    pub rank: u32,
    /// Exact copy, near-duplicate or similar.
    pub kind: MatchKind,
    /// Cosine similarity of the embeddings, when known.
    pub similarity: Option<f32>,
    /// Hamming distance of the perceptual hashes in bits of 64, when known.
    pub hash_distance: Option<u32>,
    /// Keypoint matches agreeing on one transform, when verified.
    pub verified_inliers: Option<u32>,
    /// Which evidence decided the kind (absent in reports written before
    /// it was recorded).
    #[serde(default)]
    pub decided_by: Option<Decider>,
    /// The stored image.
    pub image: ReportImage,
    /// Small JPEG of the image as a `data:` URI.
    pub thumbnail_data_uri: Option<String>,
    /// Every place it was seen.
    pub sightings: Vec<ReportSighting>,
    /// A person's decision about this match of this query file, when one
    /// was recorded (`provenance serve`, `POST /api/v1/reviews`).
    #[serde(default)]
    pub review: Option<MatchReview>,
    /// Which signals of a text search found it, with its rank in each
    /// (absent for picture queries).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub found_by: Vec<FoundBy>,
}

/// A signal of a text search and the rank it gave a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundBy {
    /// Which signal.
    pub signal: Signal,
    /// Its rank there, from 1.
    pub rank: u32,
}

/// What a text search compares with the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// The picture itself, through CLIP's text encoder.
    Picture,
    /// The words of the pages it was posted on (full-text search).
    PageWords,
}

impl Signal {
    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Picture => "the picture (CLIP)",
            Self::PageWords => "the words of its pages",
        }
    }
}

/// A recorded decision about a match, as the report shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchReview {
    /// Confirmed copy, not a copy, or ignored.
    pub decision: Decision,
    /// The reviewer's note.
    pub note: Option<String>,
    /// When it was last decided.
    pub decided_at: DateTime<Utc>,
}

impl From<&ReviewRecord> for MatchReview {
    fn from(r: &ReviewRecord) -> Self {
        Self {
            decision: r.decision,
            note: r.note.clone(),
            decided_at: r.updated_at,
        }
    }
}

impl Report {
    /// Puts each recorded decision on its match (decisions about pictures
    /// not among the matches are left out).
    pub fn attach_reviews(&mut self, reviews: &[ReviewRecord]) {
        for m in &mut self.matches {
            m.review = reviews
                .iter()
                .find(|r| r.image_id == m.image.id)
                .map(MatchReview::from);
        }
    }
}

impl ReportMatch {
    /// Assembles a match from the ranking and the store's records.
    pub fn new(
        rank: u32,
        ranked: &RankedMatch,
        image: &ImageRecord,
        sightings: &[SightingRecord],
        thumbnail_data_uri: Option<String>,
    ) -> Self {
        Self {
            rank,
            kind: ranked.kind,
            similarity: ranked.evidence.similarity,
            hash_distance: ranked.evidence.hash_distance,
            verified_inliers: ranked.evidence.verified_inliers,
            decided_by: Some(ranked.decided_by),
            image: ReportImage::from(image),
            thumbnail_data_uri,
            sightings: sightings.iter().map(ReportSighting::from).collect(),
            review: None,
            found_by: Vec::new(),
        }
    }
}

/// A stored image as the report shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportImage {
    /// Store row id.
    pub id: ImageId,
    /// SHA-256, hex.
    pub sha256: String,
    /// SHA-1, hex, when stored: compare it with a web-archive digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    /// Pixel width.
    pub width: u32,
    /// Pixel height.
    pub height: u32,
    /// Format, e.g. `jpeg`.
    pub format: String,
    /// File size in bytes.
    pub byte_size: u64,
    /// EXIF DateTimeOriginal, Artist, Copyright.
    pub exif: ExifSummary,
    /// The credits the file carries: XMP/IPTC (creator, rights, credit,
    /// date created, IPTC digital source type) and its C2PA Content
    /// Credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedded: Option<EmbeddedCredits>,
    /// First time these bytes were seen.
    pub first_seen_at: DateTime<Utc>,
    /// Last time these bytes were seen.
    pub last_seen_at: DateTime<Utc>,
}

impl From<&ImageRecord> for ReportImage {
    fn from(r: &ImageRecord) -> Self {
        Self {
            id: r.id,
            sha256: r.sha256.clone(),
            sha1: r.sha1.clone(),
            width: r.width,
            height: r.height,
            format: r.format.clone(),
            byte_size: r.byte_size,
            exif: r.exif.clone(),
            embedded: r.embedded.clone(),
            first_seen_at: r.first_seen_at,
            last_seen_at: r.last_seen_at,
        }
    }
}

/// One place an image was seen, as the report shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportSighting {
    /// Store row id.
    pub id: i64,
    /// URL of the image.
    pub image_url: String,
    /// Page it was found on.
    pub page_url: Option<String>,
    /// Title of that page, as scraped.
    pub page_title: Option<String>,
    /// Site or domain.
    pub site: Option<String>,
    /// Search provider that reported it.
    pub provider: Option<String>,
    /// Keyphrase of the scan that last saw it.
    pub keyphrase: Option<String>,
    /// Best rank in the provider's results.
    pub rank: Option<u32>,
    /// First time seen here.
    pub first_seen_at: DateTime<Utc>,
    /// Last time seen here.
    pub last_seen_at: DateTime<Utc>,
    /// HTTP `Last-Modified` of the image.
    pub last_modified: Option<DateTime<Utc>>,
    /// HTTP `ETag` of the image.
    pub etag: Option<String>,
    /// What the source that reported it says: creator, licence, and a
    /// date with its meaning (uploaded, indexed, first crawled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_facts: Option<SourceFacts>,
    /// What the web archive holds of this posting (exact copies and
    /// near-duplicates only, when the archive was asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<ArchiveEvidence>,
    /// The words it was posted with: alt text, caption, heading, the text
    /// around it, the page's description, a provider's snippet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words: Option<PostingWords>,
    /// When the report looked for words (`words_query`) and this
    /// posting's words hold them: the best excerpt, the words marked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words_hit: Option<Snippet>,
    /// When a watch last re-checked the posting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<DateTime<Utc>>,
    /// When a watch found it gone or its picture replaced (`provenance
    /// changes` says which and why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gone_at: Option<DateTime<Utc>>,
}

impl From<&SightingRecord> for ReportSighting {
    fn from(s: &SightingRecord) -> Self {
        Self {
            id: s.id,
            image_url: s.image_url.clone(),
            page_url: s.page_url.clone(),
            page_title: s.page_title.clone(),
            site: s.site.clone(),
            provider: s.provider.clone(),
            keyphrase: s.keyphrase.clone(),
            rank: s.rank,
            first_seen_at: s.first_seen_at,
            last_seen_at: s.last_seen_at,
            last_modified: s.last_modified,
            etag: s.etag.clone(),
            source_facts: s.source_facts.clone(),
            archive: None,
            words: s.words.clone(),
            words_hit: None,
            checked_at: s.checked_at,
            gone_at: s.gone_at,
        }
    }
}

/// Shared wording of the renderers.
pub(crate) mod words {
    use chrono::{DateTime, Utc};

    use crate::matching::{Thresholds, HASH_BITS};

    /// `2026-11-22 09:55 UTC`.
    pub(crate) fn when(t: &DateTime<Utc>) -> String {
        t.format("%Y-%m-%d %H:%M UTC").to_string()
    }

    /// What a file's XMP says, in words: `by …`, the rights, `credit: …`,
    /// `created …`, and first, when it says so, that a trained model made
    /// it. Empty when it says nothing.
    pub(crate) fn embedded(credits: Option<&crate::model::EmbeddedCredits>) -> Vec<String> {
        let Some(c) = credits else {
            return Vec::new();
        };
        [
            c.says_ai_generated().then(|| {
                "made by AI, the file says (IPTC digital source type: trained algorithmic media)"
                    .to_string()
            }),
            c.creator.as_ref().map(|v| format!("by {v}")),
            c.rights.clone(),
            c.credit.as_ref().map(|v| format!("credit: {v}")),
            c.date_created.as_ref().map(|v| format!("created {v}")),
            c.web_statement
                .as_ref()
                .map(|v| format!("rights statement {v}")),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// What a file's Content Credentials say, in words: whether they
    /// validate, the signer (as it names itself), the time-stamp, the tool,
    /// the actions, the ingredients and the failed checks. Empty when the
    /// file has none.
    pub(crate) fn content_credentials(
        credits: Option<&crate::model::EmbeddedCredits>,
    ) -> Vec<String> {
        let Some(c) = credits.and_then(|c| c.content_credentials.as_ref()) else {
            return Vec::new();
        };
        let signer = match (&c.signer, &c.signer_organisation) {
            (Some(name), Some(org)) => Some(format!("signed by {name} ({org})")),
            (Some(name), None) | (None, Some(name)) => Some(format!("signed by {name}")),
            (None, None) => None,
        };
        let actions = c.actions_in_words();
        [
            Some(c.validation.words().to_string()),
            signer,
            c.signed_at.map(|t| format!("time-stamped {}", when(&t))),
            c.generator.as_ref().map(|g| format!("made with {g}")),
            c.title.as_ref().map(|t| format!("title {t}")),
            (!actions.is_empty()).then(|| format!("actions: {}", actions.join("; "))),
            (!c.ingredients.is_empty())
                .then(|| format!("ingredients: {}", c.ingredients.join("; "))),
            (!c.problems.is_empty()).then(|| format!("failed checks: {}", c.problems.join("; "))),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The credits of the likely original, as text for the renderers to
    /// escape: what its source says (creator, licence, credit), what its
    /// file says (creator, rights, credit) and whether its Content
    /// Credentials hold, and whose they are. Empty when nothing names
    /// anyone.
    pub(crate) fn original_credits(
        report: &super::Report,
        original: &super::timeline::LikelyOriginal,
    ) -> Vec<String> {
        let Some(m) = super::timeline::match_of(report, original.match_rank) else {
            return Vec::new();
        };
        let mut out: Vec<String> = super::timeline::sighting_of(report, &original.evidence)
            .and_then(|s| s.source_facts.as_ref())
            .map(|f| {
                [
                    f.creator
                        .as_ref()
                        .map(|c| format!("by {c} (per its source)")),
                    f.license.clone(),
                    f.credit.as_ref().map(|c| format!("credit: {c}")),
                ]
                .into_iter()
                .flatten()
                .collect()
            })
            .unwrap_or_default();
        if let Some(e) = &m.image.embedded {
            out.extend(
                [
                    e.creator.as_ref().map(|c| format!("by {c} (per the file)")),
                    e.rights.clone(),
                    e.credit.as_ref().map(|c| format!("credit: {c}")),
                ]
                .into_iter()
                .flatten(),
            );
            if let Some(c) = &e.content_credentials {
                let signer = c
                    .signer
                    .as_ref()
                    .map_or_else(String::new, |name| format!(", signed by {name}"));
                out.push(format!(
                    "Content Credentials {}{signer}",
                    c.validation.words()
                ));
            }
        }
        out
    }

    /// What the web archive holds of a posting, as (text, link) pieces:
    /// `identical bytes archived DATE`, `image archived DATE`, `page
    /// archived DATE`, or `not archived`.
    pub(crate) fn archive(
        evidence: Option<&crate::model::ArchiveEvidence>,
    ) -> Vec<(String, Option<String>)> {
        let Some(e) = evidence else {
            return Vec::new();
        };
        if e.is_empty() {
            return vec![("not archived".into(), None)];
        }
        let piece = |words: &str, copy: &crate::model::ArchivedCopy| {
            (
                format!("{words} {}", when(&copy.at)),
                Some(copy.url.clone()),
            )
        };
        let mut pieces = Vec::new();
        if let Some(copy) = &e.identical_bytes {
            pieces.push(piece("identical bytes archived", copy));
        }
        if let Some(copy) = e
            .image
            .as_ref()
            .filter(|c| Some(*c) != e.identical_bytes.as_ref())
        {
            pieces.push(piece("image URL archived", copy));
        }
        if let Some(copy) = &e.page {
            pieces.push(piece("page archived", copy));
        }
        pieces
    }

    /// The words a posting was made with, as (label, text) for the
    /// renderers to escape, most telling first; `short` leaves out the
    /// long ones (the text around it, the page's description).
    pub(crate) fn posted_with(
        words: Option<&crate::model::PostingWords>,
        short: bool,
    ) -> Vec<(&'static str, String)> {
        use crate::model::WordsField;
        words
            .map(|w| w.fields())
            .unwrap_or_default()
            .into_iter()
            .filter(|(field, _)| {
                !short || !matches!(field, WordsField::Nearby | WordsField::Description)
            })
            .map(|(field, text)| (field.label(), text.to_string()))
            .collect()
    }

    /// Which signals of a text search found a match, in a sentence;
    /// `None` for a picture query.
    pub(crate) fn found_by(found: &[super::FoundBy]) -> Option<String> {
        let parts: Vec<String> = found
            .iter()
            .map(|f| format!("{} at rank {}", f.signal.label(), f.rank))
            .collect();
        (!parts.is_empty()).then(|| format!("Found by {}.", parts.join(" and by ")))
    }

    /// What a source says about a posting, as (text, link) pieces for the
    /// renderers to escape: `by NAME`, the licence, `uploaded DATE per
    /// PROVIDER`. Empty when it said nothing.
    pub(crate) fn source_facts(
        facts: Option<&crate::model::SourceFacts>,
        provider: Option<&str>,
    ) -> Vec<(String, Option<String>)> {
        let Some(f) = facts else {
            return Vec::new();
        };
        let per = provider.map(|p| format!(" per {p}")).unwrap_or_default();
        [
            f.creator
                .as_ref()
                .map(|c| (format!("by {c}"), f.creator_url.clone())),
            f.license
                .as_ref()
                .map(|l| (l.clone(), f.license_url.clone())),
            f.credit.as_ref().map(|c| (format!("credit: {c}"), None)),
            f.copyright.as_ref().map(|c| (c.clone(), None)),
            f.date
                .map(|d| (format!("{} {}{per}", d.meaning.words(), when(&d.at)), None)),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// Similarity to 3 decimals, or a dash.
    pub(super) fn similarity(s: Option<f32>) -> String {
        s.filter(|x| x.is_finite())
            .map_or_else(|| "—".to_string(), |x| format!("{x:.3}"))
    }

    /// Hash distance as `3/64`, or a dash.
    pub(super) fn distance(d: Option<u32>) -> String {
        d.map_or_else(|| "—".to_string(), |d| format!("{d}/{HASH_BITS}"))
    }

    /// Hash distance plus agreeing keypoints, e.g. `21/64, 37 keypoints agree`.
    pub(super) fn evidence(d: Option<u32>, inliers: Option<u32>) -> String {
        match inliers {
            Some(n) => format!("{}, {n} keypoints agree", distance(d)),
            None => distance(d),
        }
    }

    /// The thresholds in one sentence.
    pub(super) fn thresholds(t: &Thresholds) -> String {
        format!(
            "near-duplicate: at least {} agreeing keypoints, or hash distance ≤ {}/{HASH_BITS}, or ≤ {}/{HASH_BITS} confirmed by similarity ≥ {:.2}, or similarity ≥ {:.2}; similar: similarity ≥ {:.2}",
            t.min_verified_inliers,
            t.near_duplicate_max_hash_distance,
            t.probable_duplicate_max_hash_distance,
            t.similar_min_similarity,
            t.near_duplicate_min_similarity,
            t.similar_min_similarity
        )
    }
}
