//! A scan as a person asks for it — a keyphrase, an image URL or a URL
//! list, a provider, limits — turned into the pipeline's [`Seed`] and the
//! scan's record. The CLI's `scan` flags and the server's form both come
//! here, so the same request records the same scan (and resumes it).

use chrono::Utc;
use url::Url;

use super::sources::{self, BadLine};
use super::Seed;
use crate::http::RetryPolicy;
use crate::model::NewScan;
use crate::search::{self, Lens, ProviderKind, ProviderSettings, SearchError, SearchQuery};

/// What to look for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanInput {
    /// Words sent to an image search provider.
    Keyphrase(String),
    /// A public image URL for reverse search (SerpApi Google Lens).
    ImageUrl(String),
    /// `IMAGE_URL [PAGE_URL]` lines, and what to call the list.
    UrlList {
        /// A file path, or a name for a pasted list.
        name: String,
        /// The lines.
        text: String,
    },
}

/// A scan to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRequest {
    /// What to look for.
    pub input: ScanInput,
    /// The provider for a keyphrase; `None`: the first whose key is set.
    pub provider: Option<ProviderKind>,
    /// Most candidates to take from the provider.
    pub max_results: usize,
    /// Also take the images of the pages candidates were found on.
    pub follow_pages: bool,
    /// Most pages followed.
    pub max_pages: usize,
    /// With an image URL, also ask Lens for exact matches (one more credit).
    pub exact_matches: bool,
    /// The embedder's name, recorded with the scan (`clip`, `none`).
    pub embedder: String,
}

/// Why a request cannot become a scan; each is the asker's to fix.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// A value out of range or unreadable.
    #[error("{0}")]
    Invalid(String),
    /// A provider is not set up (missing key, bad URL).
    #[error(transparent)]
    Provider(#[from] SearchError),
}

/// A request made ready to run.
pub struct PlannedScan {
    /// Where candidates come from.
    pub seed: Seed,
    /// The scan's record.
    pub record: NewScan,
    /// Lines of a URL list that were not URLs (skipped).
    pub bad_lines: Vec<BadLine>,
}

impl ScanRequest {
    /// The seed and record, with provider keys and base URLs read through
    /// `env` (never stored: the record holds no secret).
    pub fn plan(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
        client: reqwest::Client,
        retry: RetryPolicy,
    ) -> Result<PlannedScan, RequestError> {
        if self.max_results == 0 {
            return Err(RequestError::Invalid(
                "max results must be at least 1".into(),
            ));
        }
        let (seed, keyphrase, provider, bad_lines) = match &self.input {
            ScanInput::ImageUrl(raw) => {
                let image_url = Url::parse(raw.trim()).map_err(|e| {
                    RequestError::Invalid(format!("the image URL {raw:?} is not a URL: {e}"))
                })?;
                let lens = Lens::resolve(
                    env("SERPAPI_API_KEY").as_deref(),
                    env("PROVENANCE_SERPAPI_URL").as_deref(),
                    client,
                    retry,
                    self.exact_matches,
                )?;
                let seed = Seed::Lens {
                    lens: Box::new(lens),
                    image_url,
                    max_results: self.max_results,
                };
                (seed, raw.clone(), "serpapi_lens".to_string(), Vec::new())
            }
            ScanInput::UrlList { name, text } => {
                let (candidates, bad) = sources::parse_url_list(text);
                let seed = Seed::Candidates(candidates);
                (seed, name.clone(), sources::LIST_PROVIDER.to_string(), bad)
            }
            ScanInput::Keyphrase(words) => {
                if words.trim().is_empty() {
                    return Err(RequestError::Invalid("the keyphrase is empty".into()));
                }
                let settings = match self.provider {
                    Some(kind) => ProviderSettings::from_lookup(kind, env)?,
                    None => ProviderSettings::detect(env)?,
                };
                let name = settings.kind().name().to_string();
                let provider = search::provider(settings, client, retry);
                let query = SearchQuery {
                    keyphrase: words.clone(),
                    max_results: self.max_results,
                };
                (
                    Seed::Search { provider, query },
                    words.clone(),
                    name,
                    Vec::new(),
                )
            }
        };
        let record = NewScan {
            keyphrase,
            provider,
            options: serde_json::json!({
                "max_results": self.max_results,
                "follow_pages": self.follow_pages,
                "max_pages": self.max_pages,
                "embedder": self.embedder,
            }),
            started_at: Utc::now(),
        };
        Ok(PlannedScan {
            seed,
            record,
            bad_lines,
        })
    }
}

/// A provider by its name (`serpapi`, `brave`, `serper`, `searxng`).
pub fn provider_by_name(name: &str) -> Option<ProviderKind> {
    ProviderKind::ALL.into_iter().find(|k| k.name() == name)
}
