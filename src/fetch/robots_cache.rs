//! robots.txt per origin for the [`Fetcher`]: fetched once (even when many
//! requests ask at the same time), parsed, cached.
//!
//! The robots.txt request itself takes no per-host slot (the request that
//! asks for it already holds one, and may be the only one allowed).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;
use url::Url;

use super::client::{Fetcher, Kind};
use super::error::{FetchError, TimeoutPhase};
use super::robots::RobotsRules;
use crate::http::PRODUCT_TOKEN;

/// Above this many cached origins the cache starts over.
const ROBOTS_CACHE_LIMIT: usize = 10_000;

/// The robots.txt rules per origin.
pub(super) type RobotsCache = Mutex<HashMap<String, Arc<OnceCell<Arc<RobotsRules>>>>>;

impl Fetcher {
    /// Whether robots.txt of `url`'s origin allows it (fetched once per origin).
    pub(super) async fn robots_allow(&self, url: &Url) -> bool {
        let origin = url.origin().ascii_serialization();
        let cell = {
            let mut cache = self
                .inner
                .robots
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if cache.len() >= ROBOTS_CACHE_LIMIT {
                cache.clear();
            }
            Arc::clone(cache.entry(origin.clone()).or_default())
        };
        let rules = cell.get_or_init(|| self.fetch_robots(origin)).await;
        let path = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        rules.is_allowed(&path)
    }

    /// Fetches and parses robots.txt: 2xx → its rules; 4xx → allow all;
    /// 5xx or 429 → disallow all (RFC 9309); unreachable → allow all (the
    /// fetch itself will then fail and be recorded as such).
    async fn fetch_robots(&self, origin: String) -> Arc<RobotsRules> {
        let Ok(robots_url) = Url::parse(&origin).and_then(|o| o.join("/robots.txt")) else {
            return Arc::new(RobotsRules::allow_all());
        };
        let total = self.inner.settings.total_timeout;
        let attempt = Box::pin(self.attempt(&robots_url, Kind::Robots, None));
        let result =
            tokio::time::timeout(total, attempt)
                .await
                .unwrap_or(Err(FetchError::Timeout {
                    phase: TimeoutPhase::Total,
                }));
        let rules = match result {
            Ok(downloaded) => RobotsRules::parse(
                &String::from_utf8_lossy(&downloaded.body.bytes),
                PRODUCT_TOKEN,
            ),
            Err(FetchError::Status { code, .. }) if code == 429 || code >= 500 => {
                RobotsRules::disallow_all()
            }
            Err(error) => {
                tracing::debug!(%robots_url, %error, "robots.txt unavailable: allowing");
                RobotsRules::allow_all()
            }
        };
        Arc::new(rules)
    }
}
