//! SerpApi `google_images`: `GET /search.json?engine=google_images&q=…&ijn=N`
//! (about 100 results per `ijn` page), key in the `api_key` query parameter —
//! which is why every URL here is logged only through `redact_url`.
//! Also the shared request code for [`Lens`](super::Lens).

use serde_json::Value;
use url::Url;

use super::http::{endpoint_url, Endpoint, Verdict};
use super::paging::collect_pages;
use super::ImageSearch;
use crate::config::Secret;
use crate::http::RetryPolicy;
use crate::search::answer::serpapi::{parse_images_page, NAME};
use crate::search::answer::{parse_body, Found, Page};
use crate::search::candidate::SearchQuery;
use crate::search::error::SearchError;

/// Results per `ijn` page.
const PAGE_SIZE: usize = 100;
const UNAUTHORIZED_HINT: &str =
    "check SERPAPI_API_KEY (your key is at https://serpapi.com/manage-api-key)";

/// The connection to SerpApi shared by images and lens search.
#[derive(Debug, Clone)]
pub(crate) struct SerpApiClient {
    pub base_url: Url,
    pub api_key: Secret,
    pub client: reqwest::Client,
    pub retry: RetryPolicy,
}

impl SerpApiClient {
    /// `GET /search.json` with `params` plus the key; the JSON answer, with
    /// SerpApi's `{"error": …}` mapped: "no results" is an empty answer,
    /// anything else an error.
    pub async fn get(
        &self,
        provider: &'static str,
        params: &[(&str, &str)],
    ) -> Result<Value, SearchError> {
        let mut url = endpoint_url(&self.base_url, "search.json")?;
        url.query_pairs_mut()
            .extend_pairs(params)
            .append_pair("api_key", self.api_key.expose());
        let endpoint = Endpoint {
            provider,
            retry: &self.retry,
            secret: Some(&self.api_key),
            unauthorized_hint: UNAUTHORIZED_HINT,
            classify: classify_answer,
        };
        let body = endpoint.send(&url, || self.client.get(url.clone())).await?;
        let value = parse_body(provider, &body)?;
        match value.get("error").and_then(Value::as_str) {
            Some(message) if is_no_results(message) => Ok(Value::Null),
            Some(message) => Err(SearchError::Provider {
                provider,
                message: endpoint.scrub(message),
            }),
            None => Ok(value),
        }
    }
}

/// SerpApi's "Google hasn't returned any results for this query." (and kin).
fn is_no_results(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("hasn't returned any results") || lower.contains("no results")
}

/// SerpApi answers (any status) saying the account is out of searches or
/// the key is wrong.
fn classify_answer(_status: u16, body: &str) -> Option<Verdict> {
    let value: Value = serde_json::from_str(body).ok()?;
    let message = value.get("error")?.as_str()?;
    let lower = message.to_ascii_lowercase();
    if lower.contains("invalid api key") {
        return Some(Verdict::Unauthorized);
    }
    let used_up = ["run out of searches", "no searches left", "out of searches"]
        .iter()
        .any(|needle| lower.contains(needle));
    used_up.then(|| Verdict::QuotaExhausted(message.to_string()))
}

/// SerpApi Google Images keyphrase search.
pub(crate) struct SerpApiImages {
    inner: SerpApiClient,
}

impl SerpApiImages {
    pub fn new(
        base_url: Url,
        api_key: Secret,
        client: reqwest::Client,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            inner: SerpApiClient {
                base_url,
                api_key,
                client,
                retry,
            },
        }
    }

    async fn fetch_page(&self, keyphrase: &str, ijn: u32) -> Result<Page, SearchError> {
        let ijn = ijn.to_string();
        let params = [
            ("engine", "google_images"),
            ("q", keyphrase),
            ("ijn", ijn.as_str()),
        ];
        let value = self.inner.get(NAME, &params).await?;
        parse_images_page(&value)
    }
}

#[async_trait::async_trait]
impl ImageSearch for SerpApiImages {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn search(&self, query: &SearchQuery) -> Result<Found, SearchError> {
        let max_pages = pages_for(query.max_results, PAGE_SIZE);
        collect_pages(NAME, query.max_results, max_pages, |ijn| {
            self.fetch_page(&query.keyphrase, ijn)
        })
        .await
    }
}

/// How many pages to allow for `max_results` at `page_size` a page (two
/// spare, for providers whose pages come up short).
pub(crate) fn pages_for(max_results: usize, page_size: usize) -> u32 {
    u32::try_from(max_results.div_ceil(page_size.max(1)) + 2).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_and_no_results_are_told_apart() {
        let quota = include_str!("../../../tests/fixtures/search/serpapi_quota.json");
        let invalid = include_str!("../../../tests/fixtures/search/serpapi_invalid_key.json");
        let empty = include_str!("../../../tests/fixtures/search/serpapi_no_results.json");
        assert_eq!(
            classify_answer(429, quota),
            Some(Verdict::QuotaExhausted(
                "Your account has run out of searches.".into()
            ))
        );
        assert_eq!(classify_answer(401, invalid), Some(Verdict::Unauthorized));
        assert_eq!(classify_answer(200, empty), None);
        assert_eq!(classify_answer(500, "<html>oops</html>"), None);
        assert!(is_no_results(
            "Google hasn't returned any results for this query."
        ));
    }

    #[test]
    fn page_budget() {
        assert_eq!(pages_for(250, 100), 5);
        assert_eq!(pages_for(0, 100), 2);
    }
}
