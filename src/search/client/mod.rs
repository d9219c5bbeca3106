//! The clients: each provider's requests over HTTP (retries, rate limits,
//! paging), the [`ImageSearch`] trait they share, and [`gather`] over
//! several. What the answers mean is read by [`super::answer`].

mod brave;
mod commons;
mod gather;
mod http;
mod lens;
mod openverse;
mod paging;
mod searxng;
mod serpapi;
mod serper;
mod tineye;

pub use gather::{gather, Gathered, ProviderFailure};
pub use http::{api_client, api_client_with_contact, redact_url, search_retry_policy};
pub(crate) use http::{endpoint_url, Endpoint};
pub use lens::Lens;
pub(crate) use paging::Pacer;
pub use tineye::{ReverseImage, TinEye};

use crate::http::RetryPolicy;
use crate::search::answer::Found;
use crate::search::candidate::SearchQuery;
use crate::search::error::SearchError;
use crate::search::settings::ProviderSettings;

/// A source of candidate images for a keyphrase.
#[async_trait::async_trait]
pub trait ImageSearch: Send + Sync {
    /// The provider's short name, as in [`Candidate::provider`].
    fn name(&self) -> &'static str;

    /// Up to `query.max_results` candidates, best first, ranks 1-based.
    ///
    /// Zero results is `Ok(vec![])`. A failure on the first request is an
    /// error; a failure on a later page ends paging early, is logged at
    /// `warn`, and the candidates gathered so far are returned.
    async fn search(&self, query: &SearchQuery) -> Result<Found, SearchError>;
}

/// Builds the provider the settings describe, sending through `client`.
pub fn provider(
    settings: ProviderSettings,
    client: reqwest::Client,
    retry: RetryPolicy,
) -> Box<dyn ImageSearch> {
    match settings {
        ProviderSettings::SerpApi { base_url, api_key } => Box::new(serpapi::SerpApiImages::new(
            base_url, api_key, client, retry,
        )),
        ProviderSettings::Brave { base_url, api_key } => {
            Box::new(brave::Brave::new(base_url, api_key, client, retry))
        }
        ProviderSettings::Serper { base_url, api_key } => {
            Box::new(serper::Serper::new(base_url, api_key, client, retry))
        }
        ProviderSettings::SearXng { base_url } => {
            Box::new(searxng::SearXng::new(base_url, client, retry))
        }
        ProviderSettings::Openverse { base_url } => {
            Box::new(openverse::Openverse::new(base_url, client, retry))
        }
        ProviderSettings::Commons { base_url } => {
            Box::new(commons::Commons::new(base_url, client, retry))
        }
    }
}
