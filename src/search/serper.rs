//! Serper.dev images: `POST /images` with `{"q": …, "num": N, "page": P}`
//! (pages from 1), key in the `X-API-KEY` header.

use serde::Deserialize;
use serde_json::{json, Value};
use url::Url;

use super::candidate::{clean_text, parse_web_url, site_of, Candidate, SearchQuery};
use super::error::SearchError;
use super::http::{endpoint_url, Endpoint, RetryPolicy, Verdict};
use super::paging::{collect_pages, each_result, lenient_u32, parse_body, results_array, Page};
use super::serpapi::pages_for;
use super::ImageSearch;
use crate::config::Secret;

/// Provider name.
pub(crate) const NAME: &str = "serper";
/// Results asked for per page.
const PAGE_SIZE: usize = 100;
const UNAUTHORIZED_HINT: &str = "check SERPER_API_KEY (your key is at https://serper.dev/api-key)";

/// Serper.dev Google Images.
pub(crate) struct Serper {
    base_url: Url,
    api_key: Secret,
    client: reqwest::Client,
    retry: RetryPolicy,
}

impl Serper {
    pub fn new(
        base_url: Url,
        api_key: Secret,
        client: reqwest::Client,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            base_url,
            api_key,
            client,
            retry,
        }
    }

    async fn fetch_page(
        &self,
        keyphrase: &str,
        page_size: usize,
        page: u32,
    ) -> Result<Page, SearchError> {
        let url = endpoint_url(&self.base_url, "images")?;
        let body = json!({ "q": keyphrase, "num": page_size, "page": page + 1 });
        let endpoint = Endpoint {
            provider: NAME,
            retry: &self.retry,
            secret: Some(&self.api_key),
            unauthorized_hint: UNAUTHORIZED_HINT,
            classify: classify_answer,
        };
        let text = endpoint
            .send(&url, || {
                self.client
                    .post(url.clone())
                    .header("X-API-KEY", self.api_key.expose())
                    .json(&body)
            })
            .await?;
        let value = parse_body(NAME, &text)?;
        let returned = results_array(NAME, &value, "images")?.len();
        Ok(Page {
            candidates: parse_images(&value)?,
            has_more: returned >= page_size,
        })
    }
}

#[async_trait::async_trait]
impl ImageSearch for Serper {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<Candidate>, SearchError> {
        let page_size = query.max_results.clamp(1, PAGE_SIZE);
        let max_pages = pages_for(query.max_results, page_size);
        collect_pages(NAME, query.max_results, max_pages, |page| {
            self.fetch_page(&query.keyphrase, page_size, page)
        })
        .await
    }
}

/// Serper's `{"message": "Not enough credits", "statusCode": 400}`.
fn classify_answer(_status: u16, body: &str) -> Option<Verdict> {
    let value: Value = serde_json::from_str(body).ok()?;
    let message = value.get("message")?.as_str()?;
    let lower = message.to_ascii_lowercase();
    if lower.contains("credits") {
        Some(Verdict::QuotaExhausted(message.to_string()))
    } else if lower.starts_with("unauthorized") {
        Some(Verdict::Unauthorized)
    } else {
        None
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawImage {
    image_url: String,
    link: Option<String>,
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
pub(crate) fn parse_images(value: &Value) -> Result<Vec<Candidate>, SearchError> {
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
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE_1: &str = include_str!("../../tests/fixtures/search/serper_images_page1.json");

    #[test]
    fn parses_images() {
        let got = parse_images(&serde_json::from_str(PAGE_1).unwrap()).unwrap();
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

    #[test]
    fn error_answers() {
        let credits = include_str!("../../tests/fixtures/search/serper_no_credits.json");
        assert_eq!(
            classify_answer(400, credits),
            Some(Verdict::QuotaExhausted("Not enough credits".into()))
        );
        assert_eq!(
            classify_answer(403, r#"{"message":"Unauthorized.","statusCode":403}"#),
            Some(Verdict::Unauthorized)
        );
        assert_eq!(classify_answer(200, PAGE_1), None);
    }
}
