//! Brave Search image API answers: `{"results": [{"properties": {"url"…}}]}`.

use serde::Deserialize;
use serde_json::Value;

use super::{each_result, lenient_string, lenient_u32, rank_of, results_array, Found};
use crate::search::candidate::{clean_text, parse_web_url, site_of, Candidate};
use crate::search::error::SearchError;

/// Provider name.
pub(crate) const NAME: &str = "brave";

#[derive(Deserialize)]
struct RawResult {
    url: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    title: Option<String>,
    source: Option<String>,
    thumbnail: Option<RawThumbnail>,
    properties: RawProperties,
}

#[derive(Deserialize)]
struct RawThumbnail {
    src: Option<String>,
}

#[derive(Deserialize)]
struct RawProperties {
    url: String,
    #[serde(default, deserialize_with = "lenient_u32")]
    width: Option<u32>,
    #[serde(default, deserialize_with = "lenient_u32")]
    height: Option<u32>,
}

/// The candidates in a Brave image search answer, ranked 1, 2, ….
pub(crate) fn parse_results(value: &Value) -> Result<Found, SearchError> {
    let items = results_array(NAME, value, "results")?;
    let mut found = each_result(NAME, items, |raw: RawResult| {
        let page_url = raw.url.as_deref().and_then(|l| parse_web_url(l, None));
        Some(Candidate {
            image_url: parse_web_url(&raw.properties.url, None)?,
            site: clean_text(raw.source.as_deref()).or_else(|| page_url.as_ref().and_then(site_of)),
            page_url,
            page_title: clean_text(raw.title.as_deref()),
            thumbnail_url: raw
                .thumbnail
                .and_then(|t| parse_web_url(t.src.as_deref()?, None)),
            width: raw.properties.width,
            height: raw.properties.height,
            rank: 0,
            provider: NAME,
            facts: Default::default(),
            words: Default::default(),
        })
    });
    for (index, candidate) in found.candidates.iter_mut().enumerate() {
        candidate.rank = rank_of(index);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESULTS: &str = include_str!("../../../tests/fixtures/search/brave_images.json");

    #[test]
    fn parses_results_skipping_broken_ones() {
        let got = parse_results(&serde_json::from_str(RESULTS).unwrap())
            .unwrap()
            .candidates;
        let urls: Vec<&str> = got.iter().map(|c| c.image_url.as_str()).collect();
        assert_eq!(
            urls,
            vec![
                "https://upload.wikimedia.org/wikipedia/commons/1/16/Vulpes_vulpes_laying_in_snow.jpg",
                "https://cdn.outdoorlife.example/uploads/2025/01/red-fox-snow.jpg",
                "https://images.unsplash.com/photo-1516934024742-b461fba47600?fm=jpg&q=80&w=3000",
            ]
        );
        assert_eq!(
            got.iter().map(|c| c.rank).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert_eq!(got[0].site.as_deref(), Some("en.wikipedia.org"));
        assert_eq!(got[0].page_title.as_deref(), Some("Red fox - Wikipedia"));
        assert!(got[0]
            .thumbnail_url
            .as_ref()
            .unwrap()
            .as_str()
            .starts_with("https://imgs.search.brave.com/"));
        assert_eq!((got[1].width, got[1].height), (Some(1920), Some(1280)));
    }
}
