//! Image search providers: where candidate images come from.
//!
//! A keyphrase goes to [`ImageSearch`] providers (SerpApi Google Images,
//! Brave, Serper, a self-hosted SearXNG, and the keyless Openverse and
//! Wikimedia Commons; [`gather`] asks several at once) and comes back as ranked
//! [`Candidate`]s; [`Lens`] does the same for a public image URL (reverse
//! search). [`dedupe`] merges candidates from several pages and providers
//! into one [`ImageCandidate`] per image, keeping every page it was seen on.
//!
//! Nothing here reads the environment: keys and base URLs arrive in
//! [`ProviderSettings`], built by the CLI with [`ProviderSettings::resolve`].
//! Keys are [`Secret`](crate::config::Secret)s; URLs are logged only through [`redact_url`].
//!
//! Layout: `answer` reads each provider's JSON answer into candidates
//! (pure, fuzzed); `client` sends the requests (needs the `runtime`
//! feature, like everything with I/O).

mod answer;
mod candidate;
mod dedupe;
mod error;
mod settings;

#[cfg(feature = "runtime")]
mod client;

pub use answer::lens::LensMatches;
pub use answer::{parse_answer, parse_lens_answer, Found};
pub(crate) use candidate::{parse_web_url, site_of};
pub use candidate::{Candidate, ImageCandidate, PageRef, SearchQuery, MAX_URL_BYTES};
#[cfg(feature = "runtime")]
pub use client::{
    api_client, api_client_with_contact, gather, provider, redact_url, search_retry_policy,
    Gathered, ImageSearch, Lens, ProviderFailure, ReverseImage, TinEye,
};
#[cfg(feature = "runtime")]
pub(crate) use client::{endpoint_url, Endpoint, Pacer};
pub use dedupe::{dedupe, normalize_url};
/// The provider name of Google Lens results (SerpApi).
pub const LENS_PROVIDER: &str = answer::lens::NAME;
pub use error::SearchError;
pub use settings::{
    ProviderKind, ProviderSettings, BRAVE_DEFAULT_URL, COMMONS_DEFAULT_URL, OPENVERSE_DEFAULT_URL,
    SERPAPI_DEFAULT_URL, SERPER_DEFAULT_URL, TINEYE_DEFAULT_URL,
};
