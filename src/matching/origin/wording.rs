//! Plain-word reasons for origin evidence. Each sentence says what the
//! evidence is, how many candidates it was compared among, and how strong
//! that kind of evidence is — and nothing more.

use super::{DateKind, OriginEvidence};

/// The reason a piece of evidence gives, in words.
pub(super) fn reason(e: &OriginEvidence) -> String {
    match e {
        OriginEvidence::EarliestDate {
            date_kind,
            date,
            among,
            tied_with,
        } => date_reason(*date_kind, date, *among, *tied_with),
        OriginEvidence::LargestVersion {
            width,
            height,
            among,
            tied_with,
        } => format!(
            "largest version, {width}×{height}, among {among} versions{} (copies are rarely larger than their source)",
            tie(*tied_with, "version")
        ),
    }
}

fn date_reason(kind: DateKind, date: &str, among: usize, tied_with: usize) -> String {
    let (only, earliest, caveat) = match kind {
        DateKind::ExifDateTimeOriginal => (
            "the only version carrying an EXIF DateTimeOriginal".to_string(),
            format!("earliest EXIF DateTimeOriginal among {among} versions that carry one"),
            "the camera's clock, no time zone; metadata can be copied or edited",
        ),
        DateKind::HttpLastModified => (
            "the only posting with an HTTP Last-Modified date".to_string(),
            format!("earliest HTTP Last-Modified among {among} postings that send one"),
            "the server's file date; a re-upload resets it",
        ),
        DateKind::FirstSeenByUs => (
            "first seen by us, the only posting".to_string(),
            format!("first seen by us among {among} postings"),
            "when we looked, not when it was published",
        ),
    };
    let what = if among == 1 { only } else { earliest };
    let noun = if kind == DateKind::ExifDateTimeOriginal {
        "version"
    } else {
        "posting"
    };
    format!("{what}: {date}{} ({caveat})", tie(tied_with, noun))
}

fn tie(tied_with: usize, noun: &str) -> String {
    match tied_with {
        0 => String::new(),
        1 => format!(", tied with 1 other {noun}"),
        n => format!(", tied with {n} other {noun}s"),
    }
}
