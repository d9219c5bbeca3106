//! Openverse answers (`GET /v1/images/`): `{"page_count", "page",
//! "results": [{"url", "foreign_landing_url", "title", "creator",
//! "creator_url", "license", "license_version", "license_url",
//! "indexed_on", "width", "height", "thumbnail"}]}`.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::{each_result, lenient_string, lenient_u32, results_array, Page};
use crate::model::source_facts::{fact_text, parse_source_date};
use crate::model::{DateMeaning, SourceDate, SourceFacts};
use crate::search::candidate::{clean_text, parse_web_url, site_of, Candidate};
use crate::search::error::SearchError;

/// Provider name.
pub(crate) const NAME: &str = "openverse";

#[derive(Deserialize)]
struct RawResult {
    url: String,
    foreign_landing_url: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    title: Option<String>,
    creator: Option<String>,
    creator_url: Option<String>,
    license: Option<String>,
    license_version: Option<String>,
    license_url: Option<String>,
    indexed_on: Option<String>,
    thumbnail: Option<String>,
    #[serde(default, deserialize_with = "lenient_u32")]
    width: Option<u32>,
    #[serde(default, deserialize_with = "lenient_u32")]
    height: Option<u32>,
}

/// One page of an Openverse answer; dates after `now` are dropped.
pub(crate) fn parse_page(value: &Value, now: DateTime<Utc>) -> Result<Page, SearchError> {
    let items = results_array(NAME, value, "results")?;
    let found = each_result(NAME, items, |raw: RawResult| {
        let page_url = raw
            .foreign_landing_url
            .as_deref()
            .and_then(|l| parse_web_url(l, None));
        let facts = SourceFacts {
            credit: None,
            copyright: None,
            creator: fact_text(raw.creator.as_deref()),
            creator_url: raw
                .creator_url
                .as_deref()
                .and_then(|u| parse_web_url(u, None))
                .map(String::from),
            license: licence_words(raw.license.as_deref(), raw.license_version.as_deref()),
            license_url: raw
                .license_url
                .as_deref()
                .and_then(|u| parse_web_url(u, None))
                .map(String::from),
            date: raw
                .indexed_on
                .as_deref()
                .and_then(|d| parse_source_date(d, now))
                .map(|at| SourceDate {
                    at,
                    meaning: DateMeaning::Indexed,
                }),
        };
        Some(Candidate {
            image_url: parse_web_url(&raw.url, None)?,
            site: page_url.as_ref().and_then(site_of),
            page_url,
            page_title: clean_text(raw.title.as_deref()),
            thumbnail_url: raw
                .thumbnail
                .as_deref()
                .and_then(|t| parse_web_url(t, None)),
            width: raw.width,
            height: raw.height,
            rank: 0,
            provider: NAME,
            facts,
            words: Default::default(),
        })
    });
    let number = |field: &str| value.get(field).and_then(Value::as_u64);
    let has_more = match (number("page"), number("page_count")) {
        (Some(page), Some(count)) => page < count,
        _ => !found.candidates.is_empty(),
    };
    Ok(Page {
        candidates: found.candidates,
        dropped: found.dropped,
        has_more,
    })
}

/// Openverse's licence code and version in the words of its deed:
/// `by-sa` + `4.0` → `CC BY-SA 4.0`, `cc0` → `CC0 1.0`, `pdm` → `Public
/// Domain Mark 1.0`.
fn licence_words(code: Option<&str>, version: Option<&str>) -> Option<String> {
    let code = fact_text(code)?.to_ascii_lowercase();
    let name = match code.as_str() {
        "cc0" => "CC0".to_string(),
        "pdm" => "Public Domain Mark".to_string(),
        other => format!("CC {}", other.to_ascii_uppercase()),
    };
    let words = match fact_text(version) {
        Some(version) => format!("{name} {version}"),
        None => name,
    };
    fact_text(Some(&words))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE_1: &str = include_str!("../../../tests/fixtures/search/openverse_page1.json");

    fn now() -> DateTime<Utc> {
        "2026-12-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn reads_credit_licence_and_index_date() {
        let page = parse_page(&serde_json::from_str(PAGE_1).unwrap(), now()).unwrap();
        assert!(page.has_more, "page 1 of 3");
        assert_eq!(page.candidates.len(), 3, "{:#?}", page.candidates);
        let first = &page.candidates[0];
        assert_eq!(
            first.image_url.as_str(),
            "https://live.staticflickr.com/65535/52000000000_fox.jpg"
        );
        assert_eq!(
            first.page_url.as_ref().map(|u| u.as_str()),
            Some("https://www.flickr.com/photos/annlee/52000000000")
        );
        assert_eq!(first.site.as_deref(), Some("flickr.com"));
        assert_eq!((first.width, first.height), (Some(2048), Some(1365)));
        let facts = &first.facts;
        assert_eq!(facts.creator.as_deref(), Some("Ann Lee"));
        assert_eq!(facts.license.as_deref(), Some("CC BY-SA 2.0"));
        assert_eq!(
            facts.license_url.as_deref(),
            Some("https://creativecommons.org/licenses/by-sa/2.0/")
        );
        let date = facts.date.unwrap();
        assert_eq!(date.meaning, DateMeaning::Indexed);
        assert_eq!(date.at.to_rfc3339(), "2022-06-01T10:11:12.345678+00:00");
        assert_eq!(page.candidates[1].facts.license.as_deref(), Some("CC0 1.0"));
        assert_eq!(
            page.candidates[1].facts.date, None,
            "a date in the future is not kept"
        );
        assert_eq!(page.candidates[2].facts, SourceFacts::default());
    }

    #[test]
    fn the_last_page_says_so() {
        let value = serde_json::json!({"page": 3, "page_count": 3, "results": []});
        assert!(!parse_page(&value, now()).unwrap().has_more);
        let bad = serde_json::json!({"results": {"url": "x"}});
        assert!(parse_page(&bad, now()).is_err());
    }

    #[test]
    fn licence_words_follow_the_deeds() {
        assert_eq!(
            licence_words(Some("by-nc-nd"), Some("4.0")).as_deref(),
            Some("CC BY-NC-ND 4.0")
        );
        assert_eq!(
            licence_words(Some("pdm"), Some("1.0")).as_deref(),
            Some("Public Domain Mark 1.0")
        );
        assert_eq!(licence_words(Some(" "), Some("1.0")), None);
    }
}
