//! Which provider to use and how to reach it. The CLI reads the environment
//! and calls [`ProviderSettings::resolve`]; a missing key becomes
//! [`SearchError::MissingKey`] naming the variable and the alternatives.

use std::fmt;
use std::str::FromStr;

use url::Url;

use super::error::SearchError;
use crate::config::Secret;

/// Default SerpApi root (`/search.json` is appended).
pub const SERPAPI_DEFAULT_URL: &str = "https://serpapi.com/";
/// Default Brave Search API root (`/res/v1/images/search` is appended).
pub const BRAVE_DEFAULT_URL: &str = "https://api.search.brave.com/";
/// Default Serper root (`/images` is appended).
pub const SERPER_DEFAULT_URL: &str = "https://google.serper.dev/";
/// Default Openverse API root (`/v1/images/` is appended).
pub const OPENVERSE_DEFAULT_URL: &str = "https://api.openverse.org/";
/// Default Wikimedia Commons root (`/w/api.php` is appended).
pub const COMMONS_DEFAULT_URL: &str = "https://commons.wikimedia.org/";
/// Default TinEye API root (`/rest/search/` is appended).
pub const TINEYE_DEFAULT_URL: &str = "https://api.tineye.com/";
const BY_IMAGE_ONLY: &str =
    "tineye searches by picture, not by words: use --image FILE or --image-url URL with it";

const NO_KEY_ALTERNATIVES: &str = "set it, choose another provider with --provider (serpapi, brave, serper), or use --provider searxng with SEARXNG_URL pointing at a SearXNG instance (open source, self-hosted, no key)";
const SEARXNG_ALTERNATIVES: &str = "point it at a SearXNG instance with the JSON format enabled (e.g. http://localhost:8888), or choose a keyed provider with --provider serpapi|brave|serper";

/// The search providers, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// SerpApi `google_images` (`SERPAPI_API_KEY`).
    SerpApi,
    /// Brave Search image API (`BRAVE_API_KEY`).
    Brave,
    /// Serper.dev images (`SERPER_API_KEY`).
    Serper,
    /// A SearXNG instance (`SEARXNG_URL`), no key.
    SearXng,
    /// Openverse (openly licensed images), no key.
    Openverse,
    /// Wikimedia Commons, no key.
    Commons,
    /// TinEye (`TINEYE_API_KEY`): reverse search by picture only.
    TinEye,
}

impl ProviderKind {
    /// Every provider, in the order `--provider` lists them.
    pub const ALL: [ProviderKind; 7] = [
        Self::SerpApi,
        Self::Brave,
        Self::Serper,
        Self::SearXng,
        Self::Openverse,
        Self::Commons,
        Self::TinEye,
    ];

    /// The providers a scan asks when none is chosen and none is set up:
    /// they need no key and no server of one's own.
    pub const KEYLESS: [ProviderKind; 2] = [Self::Openverse, Self::Commons];

    /// The name used on the command line and in [`Candidate::provider`](super::Candidate).
    pub fn name(self) -> &'static str {
        match self {
            Self::SerpApi => "serpapi",
            Self::Brave => "brave",
            Self::Serper => "serper",
            Self::SearXng => "searxng",
            Self::Openverse => "openverse",
            Self::Commons => "commons",
            Self::TinEye => "tineye",
        }
    }

    /// Whether it searches by words (all but TinEye, which takes a picture).
    pub fn searches_words(self) -> bool {
        self != Self::TinEye
    }

    /// The environment variable that sets it up: its key (SearXNG: its
    /// URL); `None` for the keyless sources, which need nothing.
    pub fn key_variable(self) -> Option<&'static str> {
        match self {
            Self::SerpApi => Some("SERPAPI_API_KEY"),
            Self::Brave => Some("BRAVE_API_KEY"),
            Self::Serper => Some("SERPER_API_KEY"),
            Self::SearXng => Some("SEARXNG_URL"),
            Self::TinEye => Some("TINEYE_API_KEY"),
            Self::Openverse | Self::Commons => None,
        }
    }

    /// The environment variable overriding its base URL (SearXNG has only
    /// `SEARXNG_URL`).
    pub fn base_url_variable(self) -> &'static str {
        match self {
            Self::SerpApi => "PROVENANCE_SERPAPI_URL",
            Self::Brave => "PROVENANCE_BRAVE_URL",
            Self::Serper => "PROVENANCE_SERPER_URL",
            Self::SearXng => "SEARXNG_URL",
            Self::Openverse => "PROVENANCE_OPENVERSE_URL",
            Self::Commons => "PROVENANCE_COMMONS_URL",
            Self::TinEye => "PROVENANCE_TINEYE_URL",
        }
    }

    /// Its service root when no base URL is set (SearXNG has none).
    fn default_url(self) -> Option<&'static str> {
        match self {
            Self::SerpApi => Some(SERPAPI_DEFAULT_URL),
            Self::Brave => Some(BRAVE_DEFAULT_URL),
            Self::Serper => Some(SERPER_DEFAULT_URL),
            Self::SearXng => None,
            Self::Openverse => Some(OPENVERSE_DEFAULT_URL),
            Self::Commons => Some(COMMONS_DEFAULT_URL),
            Self::TinEye => Some(TINEYE_DEFAULT_URL),
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ProviderKind {
    type Err = SearchError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.name().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| {
                SearchError::InvalidSetting(format!(
                    "unknown provider `{text}`; choose from serpapi, brave, serper, searxng, openverse, commons, tineye"
                ))
            })
    }
}

/// A provider with everything needed to call it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderSettings {
    /// SerpApi `google_images`.
    SerpApi {
        /// Service root, default [`SERPAPI_DEFAULT_URL`].
        base_url: Url,
        /// `SERPAPI_API_KEY`.
        api_key: Secret,
    },
    /// Brave Search images.
    Brave {
        /// Service root, default [`BRAVE_DEFAULT_URL`].
        base_url: Url,
        /// `BRAVE_API_KEY`.
        api_key: Secret,
    },
    /// Serper.dev images.
    Serper {
        /// Service root, default [`SERPER_DEFAULT_URL`].
        base_url: Url,
        /// `SERPER_API_KEY`.
        api_key: Secret,
    },
    /// A SearXNG instance.
    SearXng {
        /// The instance's root URL (`SEARXNG_URL`).
        base_url: Url,
    },
    /// Openverse.
    Openverse {
        /// Service root, default [`OPENVERSE_DEFAULT_URL`].
        base_url: Url,
    },
    /// Wikimedia Commons.
    Commons {
        /// Service root, default [`COMMONS_DEFAULT_URL`].
        base_url: Url,
    },
}

impl ProviderSettings {
    /// Settings for `kind` from the values the CLI read: `key` is the
    /// provider's key variable (for SearXNG: `SEARXNG_URL`), `base_url` an
    /// optional override of the service root. Blank values count as unset.
    pub fn resolve(
        kind: ProviderKind,
        key: Option<&str>,
        base_url: Option<&str>,
    ) -> Result<Self, SearchError> {
        if !kind.searches_words() {
            return Err(SearchError::InvalidSetting(BY_IMAGE_ONLY.into()));
        }
        let key = key.map(str::trim).filter(|k| !k.is_empty());
        let base_url = base_url.map(str::trim).filter(|u| !u.is_empty());
        let missing = |variable, alternatives| SearchError::MissingKey {
            variable,
            alternatives,
        };
        let Some(default) = kind.default_url() else {
            // SearXNG: its URL is its only setting.
            let raw = base_url
                .or(key)
                .ok_or_else(|| missing("SEARXNG_URL", SEARXNG_ALTERNATIVES))?;
            return Ok(Self::SearXng {
                base_url: parse_base(kind, raw)?,
            });
        };
        let base_url = parse_base(kind, base_url.unwrap_or(default))?;
        let Some(variable) = kind.key_variable() else {
            return Ok(match kind {
                ProviderKind::Openverse => Self::Openverse { base_url },
                _ => Self::Commons { base_url },
            });
        };
        let api_key = Secret::new(key.ok_or_else(|| missing(variable, NO_KEY_ALTERNATIVES))?);
        Ok(match kind {
            ProviderKind::SerpApi => Self::SerpApi { base_url, api_key },
            ProviderKind::Brave => Self::Brave { base_url, api_key },
            _ => Self::Serper { base_url, api_key },
        })
    }

    /// Settings for `kind`, reading its key and base-URL variables through
    /// `lookup` (the CLI passes `|name| std::env::var(name).ok()`).
    pub fn from_lookup(
        kind: ProviderKind,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, SearchError> {
        let key = kind.key_variable().and_then(&lookup);
        let base_url = match kind {
            ProviderKind::SearXng => None,
            _ => lookup(kind.base_url_variable()),
        };
        Self::resolve(kind, key.as_deref(), base_url.as_deref())
    }

    /// The providers a scan asks when none is chosen: the first (in
    /// [`ProviderKind::ALL`] order: serpapi, brave, serper, searxng) whose
    /// key variable `lookup` finds set, or else the keyless sources
    /// ([`ProviderKind::KEYLESS`]).
    pub fn detect(lookup: impl Fn(&str) -> Option<String>) -> Result<Vec<Self>, SearchError> {
        let is_set = |name: &str| lookup(name).is_some_and(|v| !v.trim().is_empty());
        let configured = ProviderKind::ALL
            .into_iter()
            .filter(|kind| kind.searches_words())
            .find(|kind| kind.key_variable().is_some_and(is_set));
        match configured {
            Some(kind) => Ok(vec![Self::from_lookup(kind, &lookup)?]),
            None => ProviderKind::KEYLESS
                .into_iter()
                .map(|kind| Self::from_lookup(kind, &lookup))
                .collect(),
        }
    }

    /// Which provider this is.
    pub fn kind(&self) -> ProviderKind {
        match self {
            Self::SerpApi { .. } => ProviderKind::SerpApi,
            Self::Brave { .. } => ProviderKind::Brave,
            Self::Serper { .. } => ProviderKind::Serper,
            Self::SearXng { .. } => ProviderKind::SearXng,
            Self::Openverse { .. } => ProviderKind::Openverse,
            Self::Commons { .. } => ProviderKind::Commons,
        }
    }
}

fn parse_base(kind: ProviderKind, raw: &str) -> Result<Url, SearchError> {
    let url = Url::parse(raw).map_err(|e| {
        SearchError::InvalidSetting(format!(
            "{} is not a valid URL ({e})",
            kind.base_url_variable()
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(SearchError::InvalidSetting(format!(
            "{} must be an http:// or https:// URL",
            kind.base_url_variable()
        )));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_key_names_variable_and_searxng() {
        for kind in [
            ProviderKind::SerpApi,
            ProviderKind::Brave,
            ProviderKind::Serper,
        ] {
            let err = ProviderSettings::resolve(kind, Some("  "), None).unwrap_err();
            let text = err.to_string();
            let variable = kind.key_variable().unwrap();
            assert!(
                text.starts_with(&format!("{variable} is not set")),
                "{text}"
            );
            assert!(text.contains("--provider searxng"), "{text}");
        }
        let err = ProviderSettings::resolve(ProviderKind::SearXng, None, None).unwrap_err();
        assert!(
            err.to_string().starts_with("SEARXNG_URL is not set"),
            "{err}"
        );
    }

    #[test]
    fn defaults_and_overrides() {
        let settings = ProviderSettings::resolve(ProviderKind::Brave, Some("k"), None).unwrap();
        let ProviderSettings::Brave { base_url, api_key } = &settings else {
            panic!("{settings:?}")
        };
        assert_eq!(base_url.as_str(), BRAVE_DEFAULT_URL);
        assert_eq!(api_key.expose(), "k");
        assert!(!format!("{settings:?}").contains("\"k\""));
        let settings = ProviderSettings::resolve(
            ProviderKind::SerpApi,
            Some("k"),
            Some("http://127.0.0.1:9/"),
        )
        .unwrap();
        assert_eq!(settings.kind(), ProviderKind::SerpApi);
        let err =
            ProviderSettings::resolve(ProviderKind::SearXng, Some("ftp://x"), None).unwrap_err();
        assert!(err.to_string().contains("http://"), "{err}");
        let err = ProviderSettings::resolve(ProviderKind::TinEye, Some("k"), None).unwrap_err();
        assert!(err.to_string().contains("--image FILE"), "{err}");
    }

    #[test]
    fn detection_takes_the_first_configured_provider() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let found = ProviderSettings::detect(env(&[
            ("SERPER_API_KEY", "s"),
            ("BRAVE_API_KEY", "b"),
            ("PROVENANCE_BRAVE_URL", "http://127.0.0.1:1/"),
        ]))
        .unwrap();
        let [ProviderSettings::Brave { base_url, .. }] = found.as_slice() else {
            panic!("{found:?}")
        };
        assert_eq!(base_url.as_str(), "http://127.0.0.1:1/");
        let found = ProviderSettings::detect(env(&[
            ("TINEYE_API_KEY", "t"),
            ("SERPAPI_API_KEY", " "),
            ("SEARXNG_URL", "http://localhost:8888"),
        ]))
        .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind(), ProviderKind::SearXng);
        let keyless =
            ProviderSettings::detect(env(&[("PROVENANCE_COMMONS_URL", "http://127.0.0.1:2/")]))
                .unwrap();
        let kinds: Vec<_> = keyless.iter().map(ProviderSettings::kind).collect();
        assert_eq!(kinds, [ProviderKind::Openverse, ProviderKind::Commons]);
        let ProviderSettings::Commons { base_url } = &keyless[1] else {
            panic!("{keyless:?}")
        };
        assert_eq!(base_url.as_str(), "http://127.0.0.1:2/");
        let ProviderSettings::Openverse { base_url } = &keyless[0] else {
            panic!("{keyless:?}")
        };
        assert_eq!(base_url.as_str(), OPENVERSE_DEFAULT_URL);
    }

    #[test]
    fn provider_names_parse() {
        assert_eq!(
            "SearXNG".parse::<ProviderKind>().unwrap(),
            ProviderKind::SearXng
        );
        assert!("bing".parse::<ProviderKind>().is_err());
    }
}
