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
use super::limits::HostSlot;
use super::robots::RobotsRules;
use crate::http::PRODUCT_TOKEN;

/// Above this many cached origins the cache starts over.
const ROBOTS_CACHE_LIMIT: usize = 10_000;

/// What robots.txt of an origin came to.
#[derive(Debug)]
pub(super) enum Robots {
    /// Its rules (an absent one, 4xx, allows all; a 5xx or 429 none).
    Rules(RobotsRules),
    /// It did not answer in time: disallow all, says RFC 9309.
    TimedOut,
}

/// Whether a URL may be fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RobotsVerdict {
    /// The rules allow it.
    Allowed,
    /// The rules disallow it.
    Disallowed,
    /// robots.txt did not answer in time.
    Unreachable,
}

/// The robots.txt rules per origin.
pub(super) type RobotsCache = Mutex<HashMap<String, Arc<OnceCell<Arc<Robots>>>>>;

impl Fetcher {
    /// Whether robots.txt of `url`'s origin allows it (fetched once per origin).
    pub(super) async fn robots_verdict(&self, url: &Url) -> RobotsVerdict {
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
        let robots = cell.get_or_init(|| self.fetch_robots(origin)).await;
        let Robots::Rules(rules) = robots.as_ref() else {
            return RobotsVerdict::Unreachable;
        };
        let path = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        if rules.is_allowed(&path) {
            RobotsVerdict::Allowed
        } else {
            RobotsVerdict::Disallowed
        }
    }

    /// Fetches and parses robots.txt: 2xx → its rules; 4xx → allow all;
    /// 5xx or 429 → disallow all; no answer in time (a silent or dripping
    /// server) → disallow all, as RFC 9309 §2.3.1.4 says of an unreachable
    /// robots.txt. A connection that fails outright allows: the fetch
    /// itself then fails and is recorded with its real cause.
    async fn fetch_robots(&self, origin: String) -> Arc<Robots> {
        let Ok(robots_url) = Url::parse(&origin).and_then(|o| o.join("/robots.txt")) else {
            return Arc::new(Robots::Rules(RobotsRules::allow_all()));
        };
        // Half the fetch's own deadline: the fetch that asked must still
        // have time to record what robots.txt came to.
        let deadline = self.inner.settings.total_timeout / 2;
        let none = Default::default();
        let attempt = Box::pin(self.attempt(&robots_url, Kind::Robots, HostSlot::default(), &none));
        let result =
            tokio::time::timeout(deadline, attempt)
                .await
                .unwrap_or(Err(FetchError::Timeout {
                    phase: TimeoutPhase::Total,
                }));
        let robots = match result {
            Ok(downloaded) => Robots::Rules(RobotsRules::parse(
                &String::from_utf8_lossy(&downloaded.body.bytes),
                PRODUCT_TOKEN,
            )),
            Err(FetchError::Status { code, .. }) if code == 429 || code >= 500 => {
                Robots::Rules(RobotsRules::disallow_all())
            }
            Err(error) if error.stage() == crate::model::Stage::Timeout => {
                tracing::debug!(%robots_url, %error, "robots.txt did not answer in time: staying away");
                Robots::TimedOut
            }
            Err(error) => {
                tracing::debug!(%robots_url, %error, "robots.txt unavailable: allowing");
                Robots::Rules(RobotsRules::allow_all())
            }
        };
        Arc::new(robots)
    }
}
