//! Openverse (openly licensed images from Flickr, Wikimedia, museums; no
//! key): `GET /v1/images/?q=…&page=N&page_size=20` (N from 1). Anonymous
//! clients get at most 20 results a page, 20 pages deep, and about one
//! request a second: pages are asked one at a time, a second apart, and a
//! 429 backs off like every search API's.

use std::time::Duration;

use url::Url;

use super::http::{endpoint_url, Endpoint};
use super::paging::{collect_pages, Pacer};
use super::serpapi::pages_for;
use super::ImageSearch;
use crate::http::RetryPolicy;
use crate::search::answer::openverse::{parse_page, NAME};
use crate::search::answer::{parse_body, Found, Page};
use crate::search::candidate::SearchQuery;
use crate::search::error::SearchError;

/// Results per page for anonymous clients.
const PAGE_SIZE: usize = 20;
/// Deepest page Openverse serves.
const MAX_PAGES: u32 = 20;
/// Anonymous clients are throttled to about one request a second.
const REQUEST_INTERVAL: Duration = Duration::from_secs(1);
const UNAUTHORIZED_HINT: &str = "Openverse refused an anonymous request; anonymous use allows 20 results a page and about one request a second (check PROVENANCE_OPENVERSE_URL if it points elsewhere)";

/// The Openverse image API.
pub(crate) struct Openverse {
    base_url: Url,
    client: reqwest::Client,
    retry: RetryPolicy,
    pacer: Pacer,
}

impl Openverse {
    pub fn new(base_url: Url, client: reqwest::Client, retry: RetryPolicy) -> Self {
        Self {
            base_url,
            client,
            retry,
            pacer: Pacer::new(REQUEST_INTERVAL),
        }
    }

    async fn fetch_page(&self, keyphrase: &str, page: u32) -> Result<Page, SearchError> {
        let mut url = endpoint_url(&self.base_url, "v1/images/")?;
        url.query_pairs_mut()
            .append_pair("q", keyphrase)
            .append_pair("page", &(page + 1).to_string())
            .append_pair("page_size", &PAGE_SIZE.to_string());
        let endpoint = Endpoint::keyless(NAME, &self.retry, UNAUTHORIZED_HINT);
        self.pacer.wait().await;
        let body = endpoint.get_json(&self.client, &url).await?;
        parse_page(&parse_body(NAME, &body)?, chrono::Utc::now())
    }
}

#[async_trait::async_trait]
impl ImageSearch for Openverse {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn search(&self, query: &SearchQuery) -> Result<Found, SearchError> {
        let max_pages = pages_for(query.max_results, PAGE_SIZE).min(MAX_PAGES);
        collect_pages(NAME, query.max_results, max_pages, |page| {
            self.fetch_page(&query.keyphrase, page)
        })
        .await
    }
}
