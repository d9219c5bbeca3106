//! Serper.dev images answers: `{"images": [{"imageUrl"…}]}`.

use serde::Deserialize;
use serde_json::Value;

use super::{each_result, lenient_string, lenient_u32, results_array, Found};
use crate::search::candidate::{clean_text, parse_web_url, site_of, Candidate};
use crate::search::error::SearchError;

/// Provider name.
pub(crate) const NAME: &str = "serper";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawImage {
    image_url: String,
    link: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    title: Option<String>,
    source: Option<String>,
    domain: Option<String>,
    thumbnail_url: Option<String>,
    #[serde(default, deserialize_with = "lenient_u32")]
    image_width: Option<u32>,
    #[serde(default, deserialize_with = "lenient_u32")]
    image_height: Option<u32>,
}

/// The candidates in one Serper images answer.
pub(crate) fn parse_images(value: &Value) -> Result<Found, SearchError> {
    let items = results_array(NAME, value, "images")?;
    Ok(each_result(NAME, items, |raw: RawImage| {
        let page_url = raw.link.as_deref().and_then(|l| parse_web_url(l, None));
        let site = clean_text(raw.domain.as_deref())
            .or_else(|| clean_text(raw.source.as_deref()))
            .or_else(|| page_url.as_ref().and_then(site_of));
        Some(Candidate {
            image_url: parse_web_url(&raw.image_url, None)?,
            page_url,
            page_title: clean_text(raw.title.as_deref()),
            site,
            thumbnail_url: raw
                .thumbnail_url
                .as_deref()
                .and_then(|t| parse_web_url(t, None)),
            width: raw.image_width,
            height: raw.image_height,
            rank: 0,
            provider: NAME,
            facts: Default::default(),
            words: Default::default(),
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE_1: &str = include_str!("../../../tests/fixtures/search/serper_images_page1.json");

    #[test]
    fn parses_images() {
        let got = parse_images(&serde_json::from_str(PAGE_1).unwrap())
            .unwrap()
            .candidates;
        assert_eq!(got.len(), 4, "{got:#?}");
        let first = &got[0];
        assert_eq!(
            first.image_url.as_str(),
            "https://i.natgeofe.com/n/5a3a6f2d-0c9e-4f6f-8f0c-2b6a6f0e1b2c/red-fox_4x3.jpg"
        );
        assert_eq!(first.site.as_deref(), Some("nationalgeographic.com"));
        assert_eq!(
            first.page_title.as_deref(),
            Some("Red Fox | National Geographic")
        );
        assert_eq!((first.width, first.height), (Some(3072), Some(2304)));
        assert!(first
            .thumbnail_url
            .as_ref()
            .unwrap()
            .as_str()
            .starts_with("https://encrypted-tbn0.gstatic.com/"));
    }
}
