//! TinEye API answers (`/rest/search/`): `{"code": 200, "messages": [],
//! "results": {"matches": [{"image_url", "domain", "score", "width",
//! "height", "backlinks": [{"url", "backlink", "crawl_date"}]}]}}`. Every
//! backlink is a posting: the image as that page shows it, the page, and
//! the day TinEye's crawler first saw it.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::{lenient_u32, Page};
use crate::model::source_facts::{fact_text, parse_source_date};
use crate::model::{DateMeaning, SourceDate, SourceFacts};
use crate::search::candidate::{parse_web_url, site_of, Candidate};
use crate::search::error::SearchError;

/// Provider name.
pub(crate) const NAME: &str = "tineye";

#[derive(Deserialize)]
struct RawMatch {
    image_url: Option<String>,
    #[serde(default, deserialize_with = "lenient_u32")]
    width: Option<u32>,
    #[serde(default, deserialize_with = "lenient_u32")]
    height: Option<u32>,
    #[serde(default)]
    backlinks: Vec<Value>,
}

#[derive(Deserialize)]
struct RawBacklink {
    url: Option<String>,
    backlink: Option<String>,
    crawl_date: Option<String>,
}

/// TinEye's own words when its answer says it failed (`code` other than
/// 200, with `messages`), else `None`.
pub(crate) fn failure_message(value: &Value) -> Option<String> {
    let code = value.get("code").and_then(Value::as_u64)?;
    if code == 200 {
        return None;
    }
    let messages: Vec<&str> = value
        .get("messages")
        .and_then(Value::as_array)
        .map(|m| m.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    Some(fact_text(Some(&messages.join("; "))).unwrap_or_else(|| format!("code {code}")))
}

/// One page of matches (`page_size` asked), each backlink a candidate;
/// crawl dates after `now` are dropped.
pub(crate) fn parse_page(
    value: &Value,
    page_size: usize,
    now: DateTime<Utc>,
) -> Result<Page, SearchError> {
    if let Some(message) = failure_message(value) {
        return Err(SearchError::Provider {
            provider: NAME,
            message,
        });
    }
    let matches = match value.get("results").and_then(|r| r.get("matches")) {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(items)) => items.as_slice(),
        Some(_) => {
            return Err(SearchError::Malformed {
                provider: NAME,
                reason: "`results.matches` is not an array".into(),
            })
        }
    };
    let mut candidates = Vec::new();
    let mut dropped = 0;
    for item in matches {
        let Ok(raw) = RawMatch::deserialize(item) else {
            tracing::debug!(provider = NAME, "skipping a malformed match");
            dropped += 1;
            continue;
        };
        for link in &raw.backlinks {
            match RawBacklink::deserialize(link)
                .ok()
                .and_then(|link| backlink(&raw, link, now))
            {
                Some(candidate) => candidates.push(candidate),
                None => dropped += 1,
            }
        }
    }
    Ok(Page {
        candidates,
        dropped,
        has_more: matches.len() >= page_size.max(1),
    })
}

fn backlink(m: &RawMatch, link: RawBacklink, now: DateTime<Utc>) -> Option<Candidate> {
    let image = link.url.as_deref().or(m.image_url.as_deref())?;
    let page_url = link
        .backlink
        .as_deref()
        .and_then(|u| parse_web_url(u, None));
    let date = link
        .crawl_date
        .as_deref()
        .and_then(|d| parse_source_date(d, now))
        .map(|at| SourceDate {
            at,
            meaning: DateMeaning::Crawled,
        });
    Some(Candidate {
        image_url: parse_web_url(image, None)?,
        site: page_url.as_ref().and_then(site_of),
        page_url,
        page_title: None,
        thumbnail_url: None,
        width: m.width,
        height: m.height,
        rank: 0,
        provider: NAME,
        facts: SourceFacts {
            date,
            ..SourceFacts::default()
        },
        words: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = include_str!("../../../tests/fixtures/search/tineye_matches.json");

    fn now() -> DateTime<Utc> {
        "2026-12-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn every_backlink_is_a_posting_with_its_crawl_date() {
        let page = parse_page(&serde_json::from_str(ANSWER).unwrap(), 100, now()).unwrap();
        assert!(!page.has_more, "2 matches of 100 asked");
        let postings: Vec<_> = page
            .candidates
            .iter()
            .map(|c| {
                (
                    c.image_url.as_str(),
                    c.page_url.as_ref().map(|u| u.as_str()),
                    c.facts.date.map(|d| d.at.date_naive().to_string()),
                )
            })
            .collect();
        assert_eq!(
            postings,
            [
                (
                    "https://news.example.com/img/poster.jpg",
                    Some("https://news.example.com/2014/festival"),
                    Some("2014-06-02".to_string())
                ),
                (
                    "https://blog.example.org/wp-content/poster-1024.jpg",
                    Some("https://blog.example.org/repost"),
                    Some("2019-05-28".to_string())
                ),
                (
                    "https://cdn.example.net/poster.png",
                    Some("https://shop.example.net/item/9"),
                    None
                ),
            ]
        );
        assert_eq!(page.candidates[0].site.as_deref(), Some("news.example.com"));
        assert_eq!(
            page.candidates[0].facts.date.unwrap().meaning,
            DateMeaning::Crawled
        );
    }

    #[test]
    fn failures_carry_tineye_words() {
        let value = serde_json::json!({"code": 400, "messages": ["Your search bundle is exhausted."], "results": {}});
        let err = parse_page(&value, 100, now()).unwrap_err();
        assert!(
            err.to_string().contains("search bundle is exhausted"),
            "{err}"
        );
        let bad = serde_json::json!({"code": 200, "results": {"matches": 3}});
        assert!(parse_page(&bad, 100, now()).is_err());
    }
}
