//! SearXNG JSON answers: `{"results": [{"img_src"…, "resolution"…}]}`.

use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::{each_result, lenient_string, results_array, Found};
use crate::model::posting_words::{words_text, MAX_WORDS_CHARS};
use crate::model::PostingWords;
use crate::search::candidate::{clean_text, parse_web_url, site_of, Candidate};
use crate::search::error::SearchError;

/// Provider name.
pub(crate) const NAME: &str = "searxng";

#[derive(Deserialize)]
struct RawResult {
    img_src: String,
    url: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    title: Option<String>,
    thumbnail_src: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    content: Option<String>,
    resolution: Option<String>,
    parsed_url: Option<Vec<Value>>,
}

/// The image results of one SearXNG JSON answer; relative thumbnail URLs
/// (the instance's image proxy) are resolved against `instance`.
pub(crate) fn parse_results(value: &Value, instance: &Url) -> Result<Found, SearchError> {
    let items = results_array(NAME, value, "results")?;
    Ok(each_result(NAME, items, |raw: RawResult| {
        let page_url = raw.url.as_deref().and_then(|l| parse_web_url(l, None));
        let (width, height) = raw.resolution.as_deref().and_then(parse_resolution).unzip();
        let site = raw
            .parsed_url
            .as_ref()
            .and_then(|parts| parts.get(1)?.as_str().map(str::to_string))
            .and_then(|host| clean_text(Some(&host)))
            .or_else(|| page_url.as_ref().and_then(site_of));
        Some(Candidate {
            image_url: parse_web_url(&raw.img_src, Some(instance))?,
            page_url,
            page_title: clean_text(raw.title.as_deref()),
            site,
            thumbnail_url: raw
                .thumbnail_src
                .as_deref()
                .and_then(|t| parse_web_url(t, Some(instance))),
            width,
            height,
            rank: 0,
            provider: NAME,
            facts: Default::default(),
            words: PostingWords {
                snippet: raw
                    .content
                    .as_deref()
                    .and_then(|c| words_text(c, MAX_WORDS_CHARS)),
                ..PostingWords::default()
            },
        })
    }))
}

/// "1920 x 1080", "1920x1080", "1920 × 1080" → (1920, 1080).
fn parse_resolution(text: &str) -> Option<(u32, u32)> {
    let (w, h) = text.split_once(['x', 'X', '×'])?;
    Some((w.trim().parse().ok()?, h.trim().parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE_1: &str = include_str!("../../../tests/fixtures/search/searxng_page1.json");

    #[test]
    fn parses_results_and_resolutions() {
        let instance = Url::parse("https://searx.example.org/").unwrap();
        let got = parse_results(&serde_json::from_str(PAGE_1).unwrap(), &instance)
            .unwrap()
            .candidates;
        assert_eq!(got.len(), 4, "{got:#?}");
        let first = &got[0];
        assert_eq!(
            first.image_url.as_str(),
            "https://upload.wikimedia.org/wikipedia/commons/1/16/Vulpes_vulpes_laying_in_snow.jpg"
        );
        assert_eq!((first.width, first.height), (Some(2560), Some(1707)));
        assert_eq!(first.site.as_deref(), Some("commons.wikimedia.org"));
        let proxied = got[1].thumbnail_url.as_ref().unwrap().as_str();
        assert!(
            proxied.starts_with("https://searx.example.org/image_proxy?url="),
            "{proxied}"
        );
        assert_eq!(
            got[2].image_url.as_str(),
            "https://pics.example.com/fox-protocol-relative.jpg"
        );
        assert_eq!((got[3].width, got[3].height), (None, None));
    }

    #[test]
    fn resolutions() {
        assert_eq!(parse_resolution("1920 x 1080"), Some((1920, 1080)));
        assert_eq!(parse_resolution("800×600"), Some((800, 600)));
        assert_eq!(parse_resolution("big"), None);
    }
}
