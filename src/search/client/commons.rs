//! Wikimedia Commons (no key): the MediaWiki API's full-text search over
//! the File namespace, with each file's image information —
//! `GET /w/api.php?action=query&generator=search&gsrnamespace=6
//! &gsrsearch=…&gsrlimit=50&gsroffset=N&prop=imageinfo
//! &iiprop=url|timestamp|user|size|mime|extmetadata&iiurlwidth=320`.
//! The upload time is kept as evidence of origin. Requests go one at a
//! time, as Wikimedia's API etiquette asks, with our User-Agent.

use url::Url;

use super::http::{endpoint_url, Endpoint};
use super::paging::collect_pages;
use super::serpapi::pages_for;
use super::ImageSearch;
use crate::http::RetryPolicy;
use crate::search::answer::commons::{parse_page, NAME};
use crate::search::answer::{parse_body, Found, Page};
use crate::search::candidate::SearchQuery;
use crate::search::error::SearchError;

/// Files per request (the most an anonymous client may ask with
/// `extmetadata`).
const PAGE_SIZE: usize = 50;
const UNAUTHORIZED_HINT: &str = "Wikimedia Commons refused the request; check PROVENANCE_COMMONS_URL, and set --contact so Wikimedia can reach you";

/// Wikimedia Commons file search.
pub(crate) struct Commons {
    base_url: Url,
    client: reqwest::Client,
    retry: RetryPolicy,
}

impl Commons {
    pub fn new(base_url: Url, client: reqwest::Client, retry: RetryPolicy) -> Self {
        Self {
            base_url,
            client,
            retry,
        }
    }

    async fn fetch_page(&self, keyphrase: &str, page: u32) -> Result<Page, SearchError> {
        let offset = (page as usize * PAGE_SIZE).to_string();
        let mut url = endpoint_url(&self.base_url, "w/api.php")?;
        url.query_pairs_mut()
            .append_pair("action", "query")
            .append_pair("format", "json")
            .append_pair("formatversion", "2")
            .append_pair("generator", "search")
            .append_pair("gsrsearch", keyphrase)
            .append_pair("gsrnamespace", "6")
            .append_pair("gsrlimit", &PAGE_SIZE.to_string())
            .append_pair("gsroffset", &offset)
            .append_pair("prop", "imageinfo")
            .append_pair("iiprop", "url|timestamp|user|size|mime|extmetadata")
            .append_pair("iiurlwidth", "320");
        let endpoint = Endpoint::keyless(NAME, &self.retry, UNAUTHORIZED_HINT);
        let body = endpoint.get_json(&self.client, &url).await?;
        parse_page(&parse_body(NAME, &body)?, chrono::Utc::now())
    }
}

#[async_trait::async_trait]
impl ImageSearch for Commons {
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
