//! What the source that reported a posting says about it — a search
//! provider, or the page itself: who made the picture, under which
//! licence, its credit line and copyright, and a date with what that date
//! means (uploaded there, indexed by it, first crawled by it, published on
//! it). Kept per sighting and shown as the source's claim, never as
//! verified fact.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest text kept from a source (a creator's name, a licence).
pub const MAX_FACT_CHARS: usize = 300;

/// A source's facts about one posting; every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFacts {
    /// Who made the picture, as the source names them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    /// A page about the creator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_url: Option<String>,
    /// The licence, in words (`CC BY-SA 4.0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// The licence's deed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_url: Option<String>,
    /// The credit line to print with the picture (`Photo: Ann Lee`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit: Option<String>,
    /// The copyright notice (`© 2019 Ann Lee`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copyright: Option<String>,
    /// A date the source gives, with its meaning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<SourceDate>,
}

impl SourceFacts {
    /// True when the source said nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `self`, with each field it lacks taken from `other`.
    pub fn or(self, other: Self) -> Self {
        Self {
            creator: self.creator.or(other.creator),
            creator_url: self.creator_url.or(other.creator_url),
            license: self.license.or(other.license),
            license_url: self.license_url.or(other.license_url),
            credit: self.credit.or(other.credit),
            copyright: self.copyright.or(other.copyright),
            date: self.date.or(other.date),
        }
    }

    /// `Some(self)` unless empty.
    pub fn non_empty(self) -> Option<Self> {
        (!self.is_empty()).then_some(self)
    }
}

/// A date a source gives about a posting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceDate {
    /// When.
    pub at: DateTime<Utc>,
    /// What happened then.
    pub meaning: DateMeaning,
}

/// What a [`SourceDate`] means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateMeaning {
    /// The file was uploaded to the source (Wikimedia Commons).
    Uploaded,
    /// The source first indexed the posting (Openverse).
    Indexed,
    /// The source's crawler first saw the posting (TinEye).
    Crawled,
    /// The page says it was published then (its metadata, JSON-LD or a
    /// `<time>` beside the picture).
    Published,
}

impl DateMeaning {
    /// Past-tense words for a sentence: "uploaded", "indexed", "first crawled".
    pub fn words(self) -> &'static str {
        match self {
            Self::Uploaded => "uploaded",
            Self::Indexed => "indexed",
            Self::Crawled => "first crawled",
            Self::Published => "published",
        }
    }
}

/// A source's text made fit to keep: trimmed, white space collapsed,
/// at most [`MAX_FACT_CHARS`]; empty is `None`.
pub fn fact_text(text: Option<&str>) -> Option<String> {
    let collapsed = text?.split_whitespace().collect::<Vec<_>>().join(" ");
    let kept: String = collapsed.chars().take(MAX_FACT_CHARS).collect();
    (!kept.is_empty()).then_some(kept)
}

/// A date as sources write it: RFC 3339 (`2019-03-01T10:00:00Z`), the
/// same without a zone, taken as UTC (`2019-03-01T10:00:00.123456`), or a
/// bare day (`2019-03-01`, its start in UTC).
/// Dates after `now` are refused: a source cannot have seen the future.
pub fn parse_source_date(text: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let text = text.trim();
    let at = DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            [
                "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%d %H:%M:%S%.f",
                "%Y-%m-%dT%H:%M:%S",
            ]
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
            .or_else(|| {
                NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .ok()
                    .and_then(|day| day.and_hms_opt(0, 0, 0))
            })
            .map(|naive| naive.and_utc())
        })?;
    (at <= now).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_each_form_and_never_in_the_future() {
        let now = "2026-12-01T00:00:00Z".parse().unwrap();
        let expect = |text: &str, iso: &str| {
            let got = parse_source_date(text, now).unwrap();
            assert_eq!(got.to_rfc3339(), iso, "{text}");
        };
        expect("2019-03-01T10:00:00Z", "2019-03-01T10:00:00+00:00");
        expect("2019-03-01T12:00:00+02:00", "2019-03-01T10:00:00+00:00");
        expect(
            "2020-04-20T21:22:12.604512",
            "2020-04-20T21:22:12.604512+00:00",
        );
        expect("2015-01-20", "2015-01-20T00:00:00+00:00");
        assert_eq!(parse_source_date("2030-01-01T00:00:00Z", now), None);
        assert_eq!(parse_source_date("yesterday", now), None);
    }

    #[test]
    fn texts_are_collapsed_and_capped() {
        assert_eq!(fact_text(Some("  a \n b ")).as_deref(), Some("a b"));
        assert_eq!(fact_text(Some(" \t ")), None);
        let long = "x".repeat(10_000);
        assert_eq!(
            fact_text(Some(&long)).unwrap().chars().count(),
            MAX_FACT_CHARS
        );
    }

    #[test]
    fn facts_fill_gaps_from_another_source() {
        let commons = SourceFacts {
            creator: Some("Ann".into()),
            ..Default::default()
        };
        let openverse = SourceFacts {
            creator: Some("ann_photos".into()),
            license: Some("CC BY 4.0".into()),
            ..Default::default()
        };
        let merged = commons.or(openverse);
        assert_eq!(merged.creator.as_deref(), Some("Ann"));
        assert_eq!(merged.license.as_deref(), Some("CC BY 4.0"));
        assert!(SourceFacts::default().non_empty().is_none());
    }
}
