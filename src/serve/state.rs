//! What every request shares: the store, the model, the copy index, the
//! settings and the secrets of this process.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;

use super::cases::Cases;
use super::scans::Scans;
use super::security::{random_token, ApiToken};
use crate::embed::Embedder;
use crate::fetch::Fetcher;
use crate::lookup::{LookupOptions, MatchIndex};
use crate::scan::ScanOptions;
use crate::store::Store;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    /// Required of every request (bearer token, or a login in the UI);
    /// `None` only on loopback.
    pub token: Option<ApiToken>,
    /// The server listens on loopback only: requests must name a loopback
    /// host (a page on another site cannot reach it by DNS rebinding).
    pub loopback_only: bool,
    /// Largest uploaded picture, bytes.
    pub upload_max_bytes: u64,
    /// Matches computed at once; more wait their turn.
    pub max_concurrent_matches: usize,
    /// Longest a request may take (progress streams excepted).
    pub request_timeout: Duration,
    /// How pictures are matched (as `match`'s flags).
    pub lookup: LookupOptions,
    /// Where uploaded pictures are kept.
    pub cases_dir: PathBuf,
    /// How scans started from the web run (decode workers, and one decode
    /// memory budget all of them share).
    pub scans: ScanOptions,
    /// Run the watches that are due while serving (`None`: never).
    pub watching: Option<super::watching::Watching>,
}

/// Looks up a setting of the environment (search provider keys and base
/// URLs for scans).
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Shared by every request.
pub struct AppState {
    /// How the server runs.
    pub settings: ServeSettings,
    /// The store.
    pub store: Arc<dyn Store>,
    /// The model the store's vectors come from, if any.
    pub embedder: Option<Arc<dyn Embedder>>,
    /// The copy index over the store.
    pub index: MatchIndex,
    /// Fetches pictures by URL (pasted URLs and scans), with the scan's
    /// safety rules.
    pub fetcher: Fetcher,
    /// Provider keys and URLs for scans.
    pub env: EnvLookup,
    pub(super) cases: Cases,
    pub(super) scans: Scans,
    pub(super) matches: Semaphore,
    pub(super) csrf: String,
    pub(super) sessions: Mutex<HashSet<String>>,
}

impl AppState {
    /// The state for `settings`; the copy index should already hold the
    /// stored pictures (see [`MatchIndex::index_missing`]).
    pub fn new(
        settings: ServeSettings,
        store: Arc<dyn Store>,
        embedder: Option<Arc<dyn Embedder>>,
        index: MatchIndex,
        fetcher: Fetcher,
        env: EnvLookup,
    ) -> std::io::Result<Arc<Self>> {
        let cases = Cases::open(settings.cases_dir.clone())?;
        Ok(Arc::new(Self {
            matches: Semaphore::new(settings.max_concurrent_matches.max(1)),
            settings,
            store,
            embedder,
            index,
            fetcher,
            env,
            cases,
            scans: Scans::default(),
            csrf: random_token()?,
            sessions: Mutex::default(),
        }))
    }
}
