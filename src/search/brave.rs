//! Brave Search image API: `GET /res/v1/images/search?q=…&count=N`
//! (N ≤ 200, no paging), key in the `X-Subscription-Token` header.

use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::candidate::{clean_text, parse_web_url, site_of, Candidate, SearchQuery};
use super::error::SearchError;
use super::http::{endpoint_url, Endpoint, RetryPolicy, Verdict};
use super::paging::{each_result, lenient_u32, parse_body, rank_of, results_array};
use super::ImageSearch;
use crate::config::Secret;

/// Provider name.
pub(crate) const NAME: &str = "brave";
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

    async fn search(&self, query: &SearchQuery) -> Result<Vec<Candidate>, SearchError> {
        if query.max_results == 0 {
            return Ok(Vec::new());
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
        let mut candidates = parse_results(&parse_body(NAME, &body)?)?;
        candidates.truncate(query.max_results);
        Ok(candidates)
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

#[derive(Deserialize)]
struct RawResult {
    url: Option<String>,
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
pub(crate) fn parse_results(value: &Value) -> Result<Vec<Candidate>, SearchError> {
    let items = results_array(NAME, value, "results")?;
    let mut candidates = each_result(NAME, items, |raw: RawResult| {
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
        })
    });
    for (index, candidate) in candidates.iter_mut().enumerate() {
        candidate.rank = rank_of(index);
    }
    Ok(candidates)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESULTS: &str = include_str!("../../tests/fixtures/search/brave_images.json");
    const QUOTA: &str = include_str!("../../tests/fixtures/search/brave_quota.json");
    const BAD_TOKEN: &str = include_str!("../../tests/fixtures/search/brave_unauthorized.json");
    const RATE_LIMITED: &str = include_str!("../../tests/fixtures/search/brave_rate_limited.json");

    #[test]
    fn parses_results_skipping_broken_ones() {
        let got = parse_results(&serde_json::from_str(RESULTS).unwrap()).unwrap();
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
