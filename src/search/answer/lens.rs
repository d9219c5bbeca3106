//! SerpApi `google_lens` answers: `visual_matches` / `exact_matches`.

use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::{each_result, lenient_string, lenient_u32, results_array};
use crate::search::candidate::{clean_text, parse_web_url, site_of, Candidate};
use crate::search::error::SearchError;

/// Provider name of lens candidates.
pub(crate) const NAME: &str = "serpapi_lens";

/// What a lens search found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LensMatches {
    /// Images (exact matches first, then visual matches), ranks 1-based in
    /// that order.
    pub candidates: Vec<Candidate>,
    /// Pages Google says show the exact image but for which it gave no
    /// image URL: scrape them (`scrape::extract_images`) to find it.
    pub exact_pages: Vec<Url>,
}

#[derive(Deserialize)]
struct RawMatch {
    image: Option<String>,
    link: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    title: Option<String>,
    source: Option<String>,
    thumbnail: Option<String>,
    #[serde(default, deserialize_with = "lenient_u32")]
    image_width: Option<u32>,
    #[serde(default, deserialize_with = "lenient_u32")]
    image_height: Option<u32>,
    #[serde(default, deserialize_with = "lenient_u32")]
    actual_image_width: Option<u32>,
    #[serde(default, deserialize_with = "lenient_u32")]
    actual_image_height: Option<u32>,
}

/// The matches in `field` (`visual_matches` or `exact_matches`) of a lens
/// answer: results with an image URL become candidates, results with only
/// a page become `exact_pages` (exact matches only: a visual match's page
/// shows a similar image, not necessarily this one).
pub(crate) fn parse_lens(value: &Value, field: &str) -> Result<LensMatches, SearchError> {
    let items = results_array(NAME, value, field)?;
    let mut exact_pages = Vec::new();
    for item in items.iter().filter(|_| field == "exact_matches") {
        let Ok(raw) = RawMatch::deserialize(item) else {
            continue;
        };
        if raw.image.is_none() {
            exact_pages.extend(raw.link.as_deref().and_then(|l| parse_web_url(l, None)));
        }
    }
    let candidates = each_result(NAME, items, |raw: RawMatch| {
        let page_url = raw.link.as_deref().and_then(|l| parse_web_url(l, None));
        Some(Candidate {
            image_url: parse_web_url(raw.image.as_deref()?, None)?,
            site: clean_text(raw.source.as_deref()).or_else(|| page_url.as_ref().and_then(site_of)),
            page_url,
            page_title: clean_text(raw.title.as_deref()),
            thumbnail_url: raw
                .thumbnail
                .as_deref()
                .and_then(|t| parse_web_url(t, None)),
            width: raw.image_width.or(raw.actual_image_width),
            height: raw.image_height.or(raw.actual_image_height),
            rank: 0,
            provider: NAME,
            facts: Default::default(),
            words: Default::default(),
        })
    })
    .candidates;
    Ok(LensMatches {
        candidates,
        exact_pages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VISUAL: &str = include_str!("../../../tests/fixtures/search/serpapi_lens_visual.json");
    const EXACT: &str = include_str!("../../../tests/fixtures/search/serpapi_lens_exact.json");

    #[test]
    fn visual_matches_are_candidates() {
        let found = parse_lens(&serde_json::from_str(VISUAL).unwrap(), "visual_matches").unwrap();
        assert_eq!(found.candidates.len(), 4);
        assert!(found.exact_pages.is_empty());
        let first = &found.candidates[0];
        assert_eq!(
            first.image_url.as_str(),
            "https://upload.wikimedia.org/wikipedia/commons/1/16/Vulpes_vulpes_laying_in_snow.jpg"
        );
        assert_eq!(
            first.page_url.as_ref().unwrap().as_str(),
            "https://commons.wikimedia.org/wiki/File:Vulpes_vulpes_laying_in_snow.jpg"
        );
        assert_eq!((first.width, first.height), (Some(2560), Some(1707)));
        assert_eq!(first.provider, "serpapi_lens");
    }

    #[test]
    fn exact_matches_without_image_are_pages() {
        let found = parse_lens(&serde_json::from_str(EXACT).unwrap(), "exact_matches").unwrap();
        let pages: Vec<&str> = found.exact_pages.iter().map(Url::as_str).collect();
        assert_eq!(
            pages,
            vec![
                "https://foxblog.example.org/2025/12/winter-fox/",
                "https://www.reddit.com/r/foxes/comments/1a2b3c/"
            ]
        );
        assert_eq!(found.candidates.len(), 1);
        assert_eq!(found.candidates[0].width, Some(2560));
    }
}
