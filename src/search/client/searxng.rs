//! SearXNG (self-hosted, open source, no key):
//! `GET /search?q=…&categories=images&format=json&pageno=N` (N from 1,
//! about 20 results a page). The instance must allow the `json` format in
//! its `settings.yml` (`search.formats`), or it answers 403.

use url::Url;

use super::http::{endpoint_url, Endpoint};
use super::paging::collect_pages;
use super::serpapi::pages_for;
use super::ImageSearch;
use crate::http::RetryPolicy;
use crate::search::answer::searxng::{parse_results, NAME};
use crate::search::answer::{parse_body, Found, Page};
use crate::search::candidate::SearchQuery;
use crate::search::error::SearchError;

/// Typical results per page.
const PAGE_SIZE: usize = 20;
const UNAUTHORIZED_HINT: &str = "the SearXNG instance refused format=json; add `json` to `search.formats` in its settings.yml, or point SEARXNG_URL at an instance that allows it";

/// A SearXNG instance.
pub(crate) struct SearXng {
    base_url: Url,
    client: reqwest::Client,
    retry: RetryPolicy,
}

impl SearXng {
    pub fn new(base_url: Url, client: reqwest::Client, retry: RetryPolicy) -> Self {
        Self {
            base_url,
            client,
            retry,
        }
    }

    async fn fetch_page(&self, keyphrase: &str, page: u32) -> Result<Page, SearchError> {
        let mut url = endpoint_url(&self.base_url, "search")?;
        url.query_pairs_mut()
            .append_pair("q", keyphrase)
            .append_pair("categories", "images")
            .append_pair("format", "json")
            .append_pair("pageno", &(page + 1).to_string());
        let endpoint = Endpoint::keyless(NAME, &self.retry, UNAUTHORIZED_HINT);
        let body = endpoint.get_json(&self.client, &url).await?;
        let value = parse_body(NAME, &body)?;
        let found = parse_results(&value, &self.base_url)?;
        Ok(Page {
            has_more: !found.candidates.is_empty(),
            candidates: found.candidates,
            dropped: found.dropped,
        })
    }
}

#[async_trait::async_trait]
impl ImageSearch for SearXng {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn search(&self, query: &SearchQuery) -> Result<Found, SearchError> {
        let max_pages = pages_for(query.max_results, PAGE_SIZE);
        collect_pages(NAME, query.max_results, max_pages, |page| {
            self.fetch_page(&query.keyphrase, page)
        })
        .await
    }
}
