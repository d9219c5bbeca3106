//! Image search providers: where candidate images come from.
//!
//! A keyphrase goes to one [`ImageSearch`] provider (SerpApi Google Images,
//! Brave, Serper, or a self-hosted SearXNG) and comes back as ranked
//! [`Candidate`]s; [`Lens`] does the same for a public image URL (reverse
//! search). [`dedupe`] merges candidates from several pages and providers
//! into one [`ImageCandidate`] per image, keeping every page it was seen on.
//!
//! Nothing here reads the environment: keys and base URLs arrive in
//! [`ProviderSettings`], built by the CLI with [`ProviderSettings::resolve`].
//! Keys are [`Secret`](crate::config::Secret)s; URLs are logged only through [`redact_url`].

mod brave;
mod candidate;
mod dedupe;
mod error;
mod gather;
mod http;
mod paging;
mod searxng;
mod serpapi;
mod serpapi_lens;
mod serper;
mod settings;

pub(crate) use candidate::{parse_web_url, site_of};
pub use candidate::{Candidate, ImageCandidate, PageRef, SearchQuery};
pub use dedupe::{dedupe, normalize_url};
pub use error::SearchError;
pub use gather::{gather, Gathered, ProviderFailure};
pub use http::{redact_url, RetryPolicy};
pub use serpapi_lens::{Lens, LensMatches};
pub use settings::{
    ProviderKind, ProviderSettings, BRAVE_DEFAULT_URL, SERPAPI_DEFAULT_URL, SERPER_DEFAULT_URL,
};

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
    async fn search(&self, query: &SearchQuery) -> Result<Vec<Candidate>, SearchError>;
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
    }
}

/// Parses one answer body of `kind` into its candidates, exactly as a search
/// does but without I/O (the entry point of the `search_parse` fuzz target).
/// SearXNG's relative URLs resolve against `https://searxng.invalid/`.
pub fn parse_answer(kind: ProviderKind, body: &str) -> Result<Vec<Candidate>, SearchError> {
    let value = paging::parse_body(kind.name(), body)?;
    match kind {
        ProviderKind::SerpApi => Ok(serpapi::parse_images_page(&value)?.candidates),
        ProviderKind::Brave => brave::parse_results(&value),
        ProviderKind::Serper => serper::parse_images(&value),
        ProviderKind::SearXng => {
            let instance = url::Url::parse("https://searxng.invalid/")
                .map_err(|e| SearchError::InvalidSetting(e.to_string()))?;
            searxng::parse_results(&value, &instance)
        }
    }
}

/// Parses one SerpApi Google Lens answer's `field` (`visual_matches` or
/// `exact_matches`) without I/O (for the fuzz target).
pub fn parse_lens_answer(body: &str, field: &str) -> Result<LensMatches, SearchError> {
    serpapi_lens::parse_lens(&paging::parse_body("serpapi_lens", body)?, field)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/search")
            .join(name);
        std::fs::read_to_string(path).expect("fixture")
    }

    #[test]
    fn parse_answer_reads_each_provider() {
        let cases = [
            (ProviderKind::SerpApi, "serpapi_images_ijn0.json"),
            (ProviderKind::Brave, "brave_images.json"),
            (ProviderKind::Serper, "serper_images_page1.json"),
            (ProviderKind::SearXng, "searxng_page1.json"),
        ];
        for (kind, file) in cases {
            let found = parse_answer(kind, &fixture(file)).expect(file);
            assert!(!found.is_empty(), "{file}");
        }
        let lens = parse_lens_answer(&fixture("serpapi_lens_visual.json"), "visual_matches");
        assert!(!lens.expect("lens").candidates.is_empty());
    }

    #[test]
    fn parse_answer_refuses_what_is_not_an_object() {
        for body in ["", "[]", "null", "{", "\"x\""] {
            assert!(
                parse_answer(ProviderKind::SearXng, body).is_err(),
                "{body:?}"
            );
        }
    }
}
