//! SerpApi `google_images` answers: `images_results` and
//! `serpapi_pagination.next`.

use serde::Deserialize;
use serde_json::Value;

use super::{each_result, lenient_string, lenient_u32, results_array, Page};
use crate::search::candidate::{clean_text, parse_web_url, site_of, Candidate};
use crate::search::error::SearchError;

/// Provider name of keyphrase search.
pub(crate) const NAME: &str = "serpapi";

#[derive(Deserialize)]
struct RawImage {
    original: String,
    link: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    title: Option<String>,
    source: Option<String>,
    thumbnail: Option<String>,
    #[serde(default, deserialize_with = "lenient_u32")]
    original_width: Option<u32>,
    #[serde(default, deserialize_with = "lenient_u32")]
    original_height: Option<u32>,
}

/// One `google_images` answer: its `images_results`, and whether
/// `serpapi_pagination.next` promises another page.
pub(crate) fn parse_images_page(value: &Value) -> Result<Page, SearchError> {
    let items = results_array(NAME, value, "images_results")?;
    let found = each_result(NAME, items, |raw: RawImage| {
        let page_url = raw.link.as_deref().and_then(|l| parse_web_url(l, None));
        Some(Candidate {
            image_url: parse_web_url(&raw.original, None)?,
            site: clean_text(raw.source.as_deref()).or_else(|| page_url.as_ref().and_then(site_of)),
            page_url,
            page_title: clean_text(raw.title.as_deref()),
            thumbnail_url: raw
                .thumbnail
                .as_deref()
                .and_then(|t| parse_web_url(t, None)),
            width: raw.original_width,
            height: raw.original_height,
            rank: 0,
            provider: NAME,
            facts: Default::default(),
            words: Default::default(),
        })
    });
    let has_more = value
        .pointer("/serpapi_pagination/next")
        .and_then(Value::as_str)
        .is_some_and(|next| !next.is_empty());
    Ok(Page {
        candidates: found.candidates,
        dropped: found.dropped,
        has_more,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE_0: &str = include_str!("../../../tests/fixtures/search/serpapi_images_ijn0.json");
    const PAGE_1: &str = include_str!("../../../tests/fixtures/search/serpapi_images_ijn1.json");
    const PARTIAL: &str =
        include_str!("../../../tests/fixtures/search/serpapi_images_partial.json");

    #[test]
    fn parses_a_full_page() {
        let page = parse_images_page(&serde_json::from_str(PAGE_0).unwrap()).unwrap();
        assert!(page.has_more);
        assert_eq!(page.candidates.len(), 6);
        let first = &page.candidates[0];
        assert_eq!(
            first.image_url.as_str(),
            "https://upload.wikimedia.org/wikipedia/commons/1/16/Vulpes_vulpes_laying_in_snow.jpg"
        );
        assert_eq!(
            first.page_url.as_ref().unwrap().as_str(),
            "https://en.wikipedia.org/wiki/Red_fox"
        );
        assert_eq!(first.page_title.as_deref(), Some("Red fox - Wikipedia"));
        assert_eq!(first.site.as_deref(), Some("Wikipedia"));
        assert_eq!((first.width, first.height), (Some(2560), Some(1707)));
        assert!(first
            .thumbnail_url
            .as_ref()
            .unwrap()
            .as_str()
            .starts_with("https://serpapi.com/searches/"));
        assert_eq!(first.provider, "serpapi");
    }

    #[test]
    fn last_page_has_no_next() {
        let page = parse_images_page(&serde_json::from_str(PAGE_1).unwrap()).unwrap();
        assert!(!page.has_more);
        assert_eq!(page.candidates.len(), 4);
    }

    #[test]
    fn partial_results_skip_only_the_broken_ones() {
        let page = parse_images_page(&serde_json::from_str(PARTIAL).unwrap()).unwrap();
        let urls: Vec<&str> = page
            .candidates
            .iter()
            .map(|c| c.image_url.as_str())
            .collect();
        assert_eq!(
            urls,
            vec![
                "https://images.example.net/fox-den.jpg",
                "https://weird.example.com/title-is-a-number.jpg",
                "https://cdn.example.org/fox2.png"
            ]
        );
        assert_eq!(
            page.candidates[1].page_title, None,
            "a mistyped title is dropped, not the result"
        );
        assert_eq!(page.candidates[2].width, Some(1200));
        assert_eq!(page.candidates[2].height, None);
        assert_eq!(page.dropped, 2, "no original, a data: URI");
    }
}
