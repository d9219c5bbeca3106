//! Wikimedia Commons answers (MediaWiki `action=query`, `generator=search`
//! in the File namespace, `prop=imageinfo`): `{"query": {"pages": …},
//! "continue": {"gsroffset": N}}`, the pages an object keyed by page id
//! (or, with `formatversion=2`, an array), ordered by their `index`.
//! `imageinfo[0]` holds the file's URL, its description page, its upload
//! time, and `extmetadata` (Artist as HTML, LicenseShortName, LicenseUrl).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::{lenient_u32, Page};
use crate::model::source_facts::{fact_text, parse_source_date};
use crate::model::{DateMeaning, PostingWords, SourceDate, SourceFacts};
use crate::search::candidate::{clean_text, parse_web_url, site_of, Candidate};
use crate::search::error::SearchError;

/// Provider name.
pub(crate) const NAME: &str = "commons";

#[derive(Deserialize)]
struct RawPage {
    title: Option<String>,
    #[serde(default)]
    index: i64,
    #[serde(default)]
    imageinfo: Vec<RawInfo>,
}

#[derive(Deserialize)]
struct RawInfo {
    url: String,
    descriptionurl: Option<String>,
    thumburl: Option<String>,
    timestamp: Option<String>,
    user: Option<String>,
    mime: Option<String>,
    #[serde(default, deserialize_with = "lenient_u32")]
    width: Option<u32>,
    #[serde(default, deserialize_with = "lenient_u32")]
    height: Option<u32>,
    #[serde(default)]
    extmetadata: Value,
}

/// One page of a Commons answer; files that are not images (PDF, audio,
/// video share the namespace) are left out; upload times after `now` are
/// dropped.
pub(crate) fn parse_page(value: &Value, now: DateTime<Utc>) -> Result<Page, SearchError> {
    if let Some(error) = value.get("error") {
        let message = ["code", "info"]
            .iter()
            .filter_map(|field| error.get(field).and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(": ");
        return Err(SearchError::Provider {
            provider: NAME,
            message: fact_text(Some(&message)).unwrap_or_else(|| "an unnamed error".into()),
        });
    }
    let pages: Vec<&Value> = match value.get("query").and_then(|q| q.get("pages")) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(map)) => map.values().collect(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(_) => {
            return Err(SearchError::Malformed {
                provider: NAME,
                reason: "`query.pages` is neither an object nor an array".into(),
            })
        }
    };
    let given = pages.len();
    let mut read: Vec<(i64, Candidate)> = pages
        .into_iter()
        .filter_map(|page| match RawPage::deserialize(page) {
            Ok(raw) => candidate(raw, now),
            Err(err) => {
                tracing::debug!(provider = NAME, error = %err, "skipping a malformed result");
                None
            }
        })
        .collect();
    let dropped = given - read.len();
    read.sort_by_key(|(index, _)| *index);
    let has_more = value
        .get("continue")
        .and_then(|c| c.get("gsroffset"))
        .is_some();
    Ok(Page {
        candidates: read.into_iter().map(|(_, c)| c).collect(),
        dropped,
        has_more,
    })
}

fn candidate(raw: RawPage, now: DateTime<Utc>) -> Option<(i64, Candidate)> {
    let info = raw.imageinfo.into_iter().next()?;
    if !info.mime.as_deref().is_none_or(|m| m.starts_with("image/")) {
        return None;
    }
    let page_url = info
        .descriptionurl
        .as_deref()
        .and_then(|u| parse_web_url(u, None));
    let meta = |field: &str| {
        info.extmetadata
            .get(field)
            .and_then(|f| f.get("value"))
            .and_then(Value::as_str)
    };
    let facts = SourceFacts {
        credit: meta("Credit").and_then(text_of_html),
        copyright: None,
        creator: meta("Artist")
            .and_then(text_of_html)
            .or_else(|| fact_text(info.user.as_deref())),
        creator_url: None,
        license: meta("LicenseShortName").and_then(text_of_html),
        license_url: meta("LicenseUrl")
            .and_then(|u| parse_web_url(u, None))
            .map(String::from),
        date: info
            .timestamp
            .as_deref()
            .and_then(|t| parse_source_date(t, now))
            .map(|at| SourceDate {
                at,
                meaning: DateMeaning::Uploaded,
            }),
    };
    let title = raw
        .title
        .as_deref()
        .map(|t| t.strip_prefix("File:").unwrap_or(t));
    let candidate = Candidate {
        image_url: parse_web_url(&info.url, None)?,
        site: page_url.as_ref().and_then(site_of),
        page_url,
        page_title: clean_text(title),
        thumbnail_url: info
            .thumburl
            .as_deref()
            .and_then(|t| parse_web_url(t, None)),
        width: info.width,
        height: info.height,
        rank: 0,
        provider: NAME,
        facts,
        words: PostingWords {
            snippet: meta("ImageDescription").and_then(text_of_html),
            ..PostingWords::default()
        },
    };
    Some((raw.index, candidate))
}

/// The text of an HTML fragment (Commons writes the artist as a link),
/// collapsed and capped; markup and scripts are dropped, never kept.
fn text_of_html(html: &str) -> Option<String> {
    crate::scrape::fragment_text(html, crate::model::source_facts::MAX_FACT_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE_1: &str = include_str!("../../../tests/fixtures/search/commons_page1.json");

    fn now() -> DateTime<Utc> {
        "2026-12-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn reads_files_in_order_with_upload_date_and_credit() {
        let page = parse_page(&serde_json::from_str(PAGE_1).unwrap(), now()).unwrap();
        assert!(page.has_more);
        let titles: Vec<_> = page
            .candidates
            .iter()
            .map(|c| c.page_title.as_deref().unwrap_or("?"))
            .collect();
        assert_eq!(
            titles,
            ["Red fox in snow.jpg", "Fox cub.png"],
            "by index, PDF left out"
        );
        let first = &page.candidates[0];
        assert_eq!(
            first.image_url.as_str(),
            "https://upload.wikimedia.org/wikipedia/commons/1/16/Red_fox_in_snow.jpg"
        );
        assert_eq!(first.site.as_deref(), Some("commons.wikimedia.org"));
        assert_eq!((first.width, first.height), (Some(2560), Some(1707)));
        assert!(first.thumbnail_url.is_some());
        let facts = &first.facts;
        assert_eq!(facts.creator.as_deref(), Some("Ann Lee"), "the link's text");
        assert_eq!(facts.license.as_deref(), Some("CC BY-SA 4.0"));
        assert_eq!(
            first.words.snippet.as_deref(),
            Some("A red fox hunting in the snow near Tromsø"),
            "the description as text, its script dropped"
        );
        let date = facts.date.unwrap();
        assert_eq!(
            (date.meaning, date.at.to_rfc3339().as_str()),
            (DateMeaning::Uploaded, "2019-03-01T10:00:00+00:00")
        );
        let second = &page.candidates[1].facts;
        assert_eq!(
            second.creator.as_deref(),
            Some("Uploader"),
            "the uploader when no artist"
        );
        assert_eq!(second.date, None, "an upload in the future is not kept");
    }

    #[test]
    fn errors_and_shapes() {
        let error = serde_json::json!({"error": {"code": "maxlag", "info": "Waiting for a database server"}});
        let err = parse_page(&error, now()).unwrap_err();
        assert!(err.to_string().contains("maxlag: Waiting"), "{err}");
        let empty = serde_json::json!({"batchcomplete": true});
        let page = parse_page(&empty, now()).unwrap();
        assert!(page.candidates.is_empty() && !page.has_more);
        let v2 = serde_json::json!({"query": {"pages": [
            {"title": "File:A.jpg", "index": 2, "imageinfo": [{"url": "https://upload.wikimedia.org/a.jpg", "mime": "image/jpeg"}]},
            {"title": "File:B.jpg", "index": 1, "imageinfo": [{"url": "https://upload.wikimedia.org/b.jpg"}]}
        ]}});
        let page = parse_page(&v2, now()).unwrap();
        let urls: Vec<_> = page.candidates.iter().map(|c| c.image_url.path()).collect();
        assert_eq!(urls, ["/b.jpg", "/a.jpg"]);
        let bad = serde_json::json!({"query": {"pages": "x"}});
        assert!(parse_page(&bad, now()).is_err());
    }

    #[test]
    fn artist_markup_is_dropped() {
        assert_eq!(
            text_of_html("<a href=\"//x\">Ann</a> <script>alert(1)</script><b>Lee</b>").as_deref(),
            Some("Ann Lee"),
            "script text is not text"
        );
    }
}
