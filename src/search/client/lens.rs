//! SerpApi `google_lens`: reverse search by a **public image URL**
//! (`engine=google_lens&url=…&type=visual_matches|exact_matches`). Visual
//! and exact matches become candidates; exact matches that name only a page
//! (no image URL) are returned as pages to scrape.

use serde_json::Value;
use url::Url;

use super::serpapi::SerpApiClient;
use crate::config::Secret;
use crate::http::RetryPolicy;
use crate::search::answer::lens::{parse_lens, LensMatches, NAME};
use crate::search::answer::rank_of;
use crate::search::error::SearchError;
use crate::search::settings::{ProviderKind, ProviderSettings};

const LENS_ALTERNATIVES: &str = "searching by image URL (--image-url) uses SerpApi Google Lens: get a key at https://serpapi.com, or search by keyphrase instead (--provider searxng needs no key)";

/// Reverse image search through SerpApi Google Lens.
#[derive(Debug, Clone)]
pub struct Lens {
    inner: SerpApiClient,
    exact_matches: bool,
}

impl Lens {
    /// A lens client. With `exact_matches`, a second request
    /// (`type=exact_matches`, one more search credit) asks for pages with
    /// the very same image.
    pub fn new(
        base_url: Url,
        api_key: Secret,
        client: reqwest::Client,
        retry: RetryPolicy,
        exact_matches: bool,
    ) -> Self {
        Self {
            inner: SerpApiClient {
                base_url,
                api_key,
                client,
                retry,
            },
            exact_matches,
        }
    }

    /// A lens client from the values the CLI read: `api_key` from
    /// `SERPAPI_API_KEY`, `base_url` an optional override of the SerpApi
    /// root (`PROVENANCE_SERPAPI_URL`). A missing key names the variable.
    pub fn resolve(
        api_key: Option<&str>,
        base_url: Option<&str>,
        client: reqwest::Client,
        retry: RetryPolicy,
        exact_matches: bool,
    ) -> Result<Self, SearchError> {
        let api_key =
            api_key
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .ok_or(SearchError::MissingKey {
                    variable: "SERPAPI_API_KEY",
                    alternatives: LENS_ALTERNATIVES,
                })?;
        match ProviderSettings::resolve(ProviderKind::SerpApi, Some(api_key), base_url)? {
            ProviderSettings::SerpApi { base_url, api_key } => {
                Ok(Self::new(base_url, api_key, client, retry, exact_matches))
            }
            other => Err(SearchError::InvalidSetting(format!(
                "lens needs SerpApi settings, not {}",
                other.kind()
            ))),
        }
    }

    /// Matches for the image at `image_url`, at most `max_results`.
    pub async fn search(
        &self,
        image_url: &Url,
        max_results: usize,
    ) -> Result<LensMatches, SearchError> {
        let visual = self.request(image_url, "visual_matches").await?;
        let mut matches = LensMatches::default();
        if self.exact_matches {
            match self.request(image_url, "exact_matches").await {
                Ok(exact) => matches = parse_lens(&exact, "exact_matches")?,
                Err(err) => {
                    tracing::warn!(provider = NAME, error = %err, "exact matches unavailable; using visual matches only")
                }
            }
        }
        let visual = parse_lens(&visual, "visual_matches")?;
        matches.candidates.extend(visual.candidates);
        matches.exact_pages.extend(visual.exact_pages);
        matches.candidates.truncate(max_results);
        for (index, candidate) in matches.candidates.iter_mut().enumerate() {
            candidate.rank = rank_of(index);
        }
        Ok(matches)
    }

    async fn request(&self, image_url: &Url, kind: &str) -> Result<Value, SearchError> {
        let params = [
            ("engine", "google_lens"),
            ("url", image_url.as_str()),
            ("type", kind),
        ];
        self.inner.get(NAME, &params).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_key_says_lens_needs_serpapi() {
        let err = Lens::resolve(
            None,
            None,
            crate::search::api_client().unwrap(),
            RetryPolicy::default(),
            true,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("SERPAPI_API_KEY is not set; searching by image URL"),
            "{text}"
        );
        assert!(Lens::resolve(
            Some("k"),
            None,
            crate::search::api_client().unwrap(),
            RetryPolicy::default(),
            true
        )
        .is_ok());
    }
}
