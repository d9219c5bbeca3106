//! Serper.dev images: `POST /images` with `{"q": …, "num": N, "page": P}`
//! (pages from 1), key in the `X-API-KEY` header.

use serde_json::{json, Value};
use url::Url;

use super::http::{endpoint_url, Endpoint, Verdict};
use super::paging::collect_pages;
use super::serpapi::pages_for;
use super::ImageSearch;
use crate::config::Secret;
use crate::http::RetryPolicy;
use crate::search::answer::serper::{parse_images, NAME};
use crate::search::answer::{parse_body, results_array, Found, Page};
use crate::search::candidate::SearchQuery;
use crate::search::error::SearchError;

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
        let found = parse_images(&value)?;
        Ok(Page {
            candidates: found.candidates,
            dropped: found.dropped,
            has_more: returned >= page_size,
        })
    }
}

#[async_trait::async_trait]
impl ImageSearch for Serper {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn search(&self, query: &SearchQuery) -> Result<Found, SearchError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE_1: &str = include_str!("../../../tests/fixtures/search/serper_images_page1.json");

    #[test]
    fn error_answers() {
        let credits = include_str!("../../../tests/fixtures/search/serper_no_credits.json");
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
