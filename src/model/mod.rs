//! The domain model: what provenance knows about pictures and the web,
//! as plain values with no I/O. Every part of the crate speaks these types —
//! the scan produces them, the stores keep them, matching and reports read
//! them — so none of those depends on another to name a picture.
//!
//! - [`archive`]: captures of a URL in the web archive, and what they
//!   prove about a posting.
//! - [`image`]: a distinct content (SHA-256) with its hashes, features, EXIF;
//!   the embedding model of its vector.
//! - [`sighting`]: every place a picture was seen.
//! - [`scan`]: what was searched, how, and the counters.
//! - [`failure`]: items a scan could not take, typed by stage and outcome.
//! - [`review`]: a person's decision about a match.
//! - [`source_facts`]: what a search source says about a posting (creator,
//!   licence, its date).
//! - [`watch`]: pictures watched over time, and what changed.
//! - [`posting_words`]: the words a picture was posted with (alt, caption,
//!   the text around it); [`page_text`]: searching them.

pub mod archive;
pub mod failure;
pub mod image;
pub mod page_text;
pub mod posting_words;
pub mod review;
pub mod scan;
pub mod sighting;
pub mod source_facts;
pub mod watch;

pub use archive::{ArchiveEvidence, ArchiveLookup, ArchivedCopy, Capture};
pub use failure::{FailureRecord, FailureStage, NewFailure, Outcome, Setback, Stage};
pub use image::{
    ContentCredentials, CredentialsAction, CredentialsValidation, EmbeddedCredits, ExifSummary,
    ImageFeatures, ImageId, ImageRecord, ModelInfo, NewImage, PerceptualHash,
};
pub use page_text::{PostingHit, Snippet, SnippetPart, TextQuery, TextQueryError};
pub use posting_words::{PostingWords, WordsField};
pub use review::{Decision, NewReview, ReviewRecord, MAX_NOTE_CHARS};
pub use scan::{BatchProgress, NewScan, ScanCounts, ScanId, ScanRecord, ScanStatus};
pub use sighting::{NewSighting, SightingRecord};
pub use source_facts::{DateMeaning, SourceDate, SourceFacts};
pub use watch::{
    ChangeKind, ChangeRecord, CheckOutcome, NewWatch, PostingToCheck, WatchId, WatchRecord,
    WatchedInput, WatchedScan,
};
