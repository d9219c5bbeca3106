//! Asking the Wayback Machine's CDX API for a URL's earliest captures:
//! `GET /cdx/search/cdx?url=…&output=json&limit=N
//! &fl=timestamp,original,mimetype,statuscode,digest&filter=statuscode:200`.
//! One request at a time, at least an interval apart (1 s by default: the
//! archive allows about 60 a minute and firewalls clients that keep going
//! after a 429), backing off on 429 as its `Retry-After` says.

use std::time::Duration;

use url::Url;

use super::cdx::parse_captures;
use crate::http::RetryPolicy;
use crate::model::Capture;
use crate::search::{endpoint_url, Endpoint, Pacer, SearchError};

/// Default archive root.
pub const WAYBACK_DEFAULT_URL: &str = "https://web.archive.org/";
/// Captures asked per URL (oldest first; enough to find the identical
/// bytes among a URL's first versions).
const CAPTURES_PER_URL: usize = 25;
const NAME: &str = "wayback";
const REFUSED_HINT: &str =
    "the web archive refused the request; check PROVENANCE_WAYBACK_URL, or use --no-archive";

/// Why the archive could not answer.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// It keeps answering 429: stop asking it for now.
    #[error("the web archive asks us to slow down (HTTP 429); the URLs not asked are asked at the next match")]
    RateLimited,
    /// Any other failure: unreachable, an error status, a broken answer.
    #[error("the web archive could not be asked: {0}")]
    Unavailable(String),
}

/// The Wayback Machine's CDX API.
pub struct Wayback {
    base_url: Url,
    client: reqwest::Client,
    retry: RetryPolicy,
    pacer: Pacer,
}

impl Wayback {
    /// A client of the archive at `base_url` (`PROVENANCE_WAYBACK_URL`,
    /// default [`WAYBACK_DEFAULT_URL`]) sending at most one request per
    /// `interval`.
    pub fn new(base_url: Url, client: reqwest::Client, interval: Duration) -> Self {
        Self {
            base_url,
            client,
            retry: RetryPolicy {
                retries: 2,
                base: Duration::from_secs(2),
                max: Duration::from_secs(60),
            },
            pacer: Pacer::new(interval),
        }
    }

    /// The earliest captures of `url` that answered 200, oldest first.
    pub async fn captures(&self, url: &str) -> Result<Vec<Capture>, ArchiveError> {
        let mut request = endpoint_url(&self.base_url, "cdx/search/cdx")
            .map_err(|e| ArchiveError::Unavailable(e.to_string()))?;
        request
            .query_pairs_mut()
            .append_pair("url", url)
            .append_pair("output", "json")
            .append_pair("limit", &CAPTURES_PER_URL.to_string())
            .append_pair("fl", "timestamp,original,mimetype,statuscode,digest")
            .append_pair("filter", "statuscode:200");
        let endpoint = Endpoint::keyless(NAME, &self.retry, REFUSED_HINT);
        self.pacer.wait().await;
        let body = endpoint
            .get_json(&self.client, &request)
            .await
            .map_err(|e| match e {
                SearchError::RateLimited { .. } => ArchiveError::RateLimited,
                other => ArchiveError::Unavailable(other.to_string()),
            })?;
        parse_captures(&body, chrono::Utc::now()).map_err(|reason| {
            ArchiveError::Unavailable(format!("its answer is not CDX JSON ({reason})"))
        })
    }
}
