//! Brave Search image API: `GET /res/v1/images/search?q=…&count=N`
//! (N ≤ 200, no paging), key in the `X-Subscription-Token` header.

use serde_json::Value;
use url::Url;

use super::http::{endpoint_url, Endpoint, Verdict};
use super::ImageSearch;
use crate::config::Secret;
use crate::http::RetryPolicy;
use crate::search::answer::brave::{parse_results, NAME};
use crate::search::answer::{parse_body, Found};
use crate::search::candidate::SearchQuery;
use crate::search::error::SearchError;

/// The most results one request may ask for.
pub(crate) const MAX_COUNT: usize = 200;
const UNAUTHORIZED_HINT: &str =
    "check BRAVE_API_KEY (a Search API subscription token from https://api-dashboard.search.brave.com)";

/// Brave Search images.
pub(crate) struct Brave {
    base_url: Url,
    api_key: Secret,
    client: reqwest::Client,
    retry: RetryPolicy,
}

impl Brave {
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
}

#[async_trait::async_trait]
impl ImageSearch for Brave {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn search(&self, query: &SearchQuery) -> Result<Found, SearchError> {
        if query.max_results == 0 {
            return Ok(Found::default());
        }
        if query.max_results > MAX_COUNT {
            tracing::info!(
                provider = NAME,
                asked = query.max_results,
                "Brave returns at most 200 images per keyphrase"
            );
        }
        let count = query.max_results.min(MAX_COUNT).to_string();
        let mut url = endpoint_url(&self.base_url, "res/v1/images/search")?;
        url.query_pairs_mut()
            .append_pair("q", &query.keyphrase)
            .append_pair("count", &count);
        let endpoint = Endpoint {
            provider: NAME,
            retry: &self.retry,
            secret: Some(&self.api_key),
            unauthorized_hint: UNAUTHORIZED_HINT,
            classify: classify_answer,
        };
        let body = endpoint
            .send(&url, || {
                self.client
                    .get(url.clone())
                    .header("Accept", "application/json")
                    .header("X-Subscription-Token", self.api_key.expose())
            })
            .await?;
        let mut found = parse_results(&parse_body(NAME, &body)?)?;
        found.candidates.truncate(query.max_results);
        Ok(found)
    }
}

/// Brave's `{"type":"ErrorResponse","error":{"code":…}}` answers: a used-up
/// plan (`QUOTA_LIMITED`) and a bad token (`SUBSCRIPTION_TOKEN_INVALID`,
/// sent with HTTP 422).
fn classify_answer(_status: u16, body: &str) -> Option<Verdict> {
    let value: Value = serde_json::from_str(body).ok()?;
    let error = value.get("error")?;
    match error.get("code")?.as_str()? {
        "QUOTA_LIMITED" => Some(Verdict::QuotaExhausted(
            error
                .get("detail")
                .and_then(Value::as_str)
                .unwrap_or("quota limited")
                .to_string(),
        )),
        "SUBSCRIPTION_TOKEN_INVALID" => Some(Verdict::Unauthorized),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESULTS: &str = include_str!("../../../tests/fixtures/search/brave_images.json");
    const QUOTA: &str = include_str!("../../../tests/fixtures/search/brave_quota.json");
    const BAD_TOKEN: &str = include_str!("../../../tests/fixtures/search/brave_unauthorized.json");
    const RATE_LIMITED: &str =
        include_str!("../../../tests/fixtures/search/brave_rate_limited.json");

    #[test]
    fn error_answers_are_recognised() {
        assert_eq!(
            classify_answer(429, QUOTA),
            Some(Verdict::QuotaExhausted(
                "The monthly quota of the subscription has been used up.".into()
            ))
        );
        assert_eq!(classify_answer(422, BAD_TOKEN), Some(Verdict::Unauthorized));
        assert_eq!(classify_answer(429, RATE_LIMITED), None);
        assert_eq!(classify_answer(200, RESULTS), None);
    }
}
