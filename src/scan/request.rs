//! A scan as a person asks for it — a keyphrase, an image URL or a URL
//! list, a provider, limits — turned into the pipeline's [`Seed`] and the
//! scan's record. The CLI's `scan` flags and the server's form both come
//! here, so the same request records the same scan (and resumes it).

use chrono::Utc;
use url::Url;

use super::sources::{self, BadLine};
use super::Seed;
use crate::hash::sha256;
use crate::http::RetryPolicy;
use crate::model::NewScan;
use crate::search::{
    self, Lens, ProviderKind, ProviderSettings, ReverseImage, SearchError, SearchQuery, TinEye,
};

/// What to look for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanInput {
    /// Words sent to an image search provider.
    Keyphrase(String),
    /// A public image URL for reverse search (SerpApi Google Lens, or TinEye).
    ImageUrl(String),
    /// A local picture for reverse search by upload (TinEye).
    ImageFile {
        /// Its file name, for the record and the upload.
        name: String,
        /// Its bytes.
        bytes: Vec<u8>,
    },
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
    /// The providers for a keyphrase, asked together; empty: the first
    /// whose key is set, or else the keyless sources.
    pub providers: Vec<ProviderKind>,
    /// Most candidates to take from each provider.
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
    /// A word for the person asking, said once (e.g. that a keyed provider
    /// would widen a keyless search).
    pub notice: Option<String>,
}

/// Said when a keyphrase went to the keyless sources only.
pub const KEYLESS_NOTICE: &str = "searching Openverse and Wikimedia Commons (openly licensed pictures, no key needed); a web-wide provider widens coverage: set SERPAPI_API_KEY, BRAVE_API_KEY or SERPER_API_KEY, or SEARXNG_URL";

/// What a seed was planned from: the seed, the record's keyphrase and
/// provider, and anything to say once.
struct Planned {
    seed: Seed,
    keyphrase: String,
    provider: String,
    notice: Option<String>,
}

/// The reverse-search provider a request can use.
enum Reverse {
    Lens,
    TinEye,
}

/// Longest keyphrase sent: it travels in a request URL, which providers
/// and proxies cut near 8 KiB (search engines read far fewer words).
pub const MAX_KEYPHRASE_BYTES: usize = crate::search::MAX_URL_BYTES;

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
        let mut bad_lines = Vec::new();
        let planned = match &self.input {
            ScanInput::Keyphrase(words) => self.plan_keyphrase(words, env, client, retry)?,
            ScanInput::ImageUrl(raw) => {
                let image_url = Url::parse(raw.trim()).map_err(|e| {
                    RequestError::Invalid(format!("the image URL {raw:?} is not a URL: {e}"))
                })?;
                self.plan_reverse(
                    ReverseImage::Url(image_url),
                    raw.clone(),
                    env,
                    client,
                    retry,
                )?
            }
            ScanInput::ImageFile { name, bytes } => {
                let label = format!("{name} (sha256 {})", &hex::encode(sha256(bytes))[..16]);
                let image = ReverseImage::File {
                    bytes: bytes.clone(),
                    name: name.clone(),
                };
                self.plan_reverse(image, label, env, client, retry)?
            }
            ScanInput::UrlList { name, text } => {
                let (candidates, bad) = sources::parse_url_list(text);
                bad_lines = bad;
                Planned {
                    seed: Seed::Candidates(candidates),
                    keyphrase: name.clone(),
                    provider: sources::LIST_PROVIDER.to_string(),
                    notice: None,
                }
            }
        };
        let record = NewScan {
            keyphrase: planned.keyphrase,
            provider: planned.provider,
            options: serde_json::json!({
                "max_results": self.max_results,
                "follow_pages": self.follow_pages,
                "max_pages": self.max_pages,
                "embedder": self.embedder,
            }),
            started_at: Utc::now(),
        };
        Ok(PlannedScan {
            seed: planned.seed,
            record,
            bad_lines,
            notice: planned.notice,
        })
    }

    /// Words to the chosen providers, or the first configured, or the
    /// keyless sources (said once).
    fn plan_keyphrase(
        &self,
        words: &str,
        env: &dyn Fn(&str) -> Option<String>,
        client: reqwest::Client,
        retry: RetryPolicy,
    ) -> Result<Planned, RequestError> {
        if words.trim().is_empty() {
            return Err(RequestError::Invalid("the keyphrase is empty".into()));
        }
        if words.len() > MAX_KEYPHRASE_BYTES {
            return Err(RequestError::Invalid(format!(
                "the keyphrase is {} bytes long; at most {MAX_KEYPHRASE_BYTES} are sent to a search API",
                words.len()
            )));
        }
        let settings = if self.providers.is_empty() {
            ProviderSettings::detect(env)?
        } else {
            let mut unique: Vec<ProviderKind> = Vec::new();
            for kind in &self.providers {
                if !unique.contains(kind) {
                    unique.push(*kind);
                }
            }
            unique
                .into_iter()
                .map(|kind| ProviderSettings::from_lookup(kind, env))
                .collect::<Result<Vec<_>, _>>()?
        };
        let kinds: Vec<ProviderKind> = settings.iter().map(ProviderSettings::kind).collect();
        let keyless_default = self.providers.is_empty() && kinds == ProviderKind::KEYLESS;
        let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
        let providers = settings
            .into_iter()
            .map(|settings| search::provider(settings, client.clone(), retry))
            .collect();
        let query = SearchQuery {
            keyphrase: words.to_string(),
            max_results: self.max_results,
        };
        Ok(Planned {
            seed: Seed::Search { providers, query },
            keyphrase: words.to_string(),
            provider: names.join(","),
            notice: keyless_default.then(|| KEYLESS_NOTICE.to_string()),
        })
    }

    /// A picture to a reverse-search provider that can take it: a URL to
    /// Lens (the default) or TinEye, a file to TinEye. One that cannot take
    /// it says so; nothing switches silently.
    fn plan_reverse(
        &self,
        image: ReverseImage,
        label: String,
        env: &dyn Fn(&str) -> Option<String>,
        client: reqwest::Client,
        retry: RetryPolicy,
    ) -> Result<Planned, RequestError> {
        let is_file = matches!(image, ReverseImage::File { .. });
        let reverse = match (self.providers.as_slice(), is_file) {
            ([], false) | ([ProviderKind::SerpApi], false) => Reverse::Lens,
            ([], true) | ([ProviderKind::TinEye], _) => Reverse::TinEye,
            ([ProviderKind::SerpApi], true) => {
                return Err(RequestError::Invalid(
                    "serpapi (Google Lens) cannot take a local file: it needs a public image URL (--image-url); a file goes to --provider tineye".into(),
                ))
            }
            ([other], _) => {
                return Err(RequestError::Invalid(format!(
                    "{other} cannot search by picture; searching by picture works with serpapi (Google Lens, by URL) and tineye (by URL or file)"
                )))
            }
            _ => {
                return Err(RequestError::Invalid(
                    "search by picture with one provider at a time (serpapi or tineye)".into(),
                ))
            }
        };
        let max_results = self.max_results;
        Ok(match (reverse, image) {
            (Reverse::Lens, ReverseImage::Url(image_url)) => {
                let lens = Lens::resolve(
                    env("SERPAPI_API_KEY").as_deref(),
                    env("PROVENANCE_SERPAPI_URL").as_deref(),
                    client,
                    retry,
                    self.exact_matches,
                )?;
                Planned {
                    seed: Seed::Lens {
                        lens: Box::new(lens),
                        image_url,
                        max_results,
                    },
                    keyphrase: label,
                    provider: "serpapi_lens".into(),
                    notice: None,
                }
            }
            (_, image) => {
                let tineye = TinEye::resolve(
                    env("TINEYE_API_KEY").as_deref(),
                    env("PROVENANCE_TINEYE_URL").as_deref(),
                    client,
                    retry,
                )?;
                Planned {
                    seed: Seed::TinEye {
                        tineye: Box::new(tineye),
                        image,
                        max_results,
                    },
                    keyphrase: label,
                    provider: "tineye".into(),
                    notice: None,
                }
            }
        })
    }
}

/// Providers by name, separated by commas (`openverse,commons,serpapi`);
/// blank names are ignored, an unknown one is an error naming the choices.
pub fn providers_by_name(list: &str) -> Result<Vec<ProviderKind>, SearchError> {
    list.split(',')
        .filter(|name| !name.trim().is_empty())
        .map(str::parse)
        .collect()
}
