//! Asking several providers the same keyphrase at once and merging their
//! answers: one provider failing is recorded, not fatal.

use futures::future::join_all;

use super::ImageSearch;
use crate::search::candidate::{ImageCandidate, SearchQuery};
use crate::search::dedupe::dedupe;
use crate::search::error::SearchError;

/// A provider that failed, and why.
#[derive(Debug)]
pub struct ProviderFailure {
    /// The provider's name.
    pub provider: &'static str,
    /// What went wrong (never holds a key).
    pub error: SearchError,
}

/// What [`gather`] found.
#[derive(Debug, Default)]
pub struct Gathered {
    /// Deduplicated images, best rank first.
    pub images: Vec<ImageCandidate>,
    /// Candidates before deduplication, per provider, in `providers` order.
    pub counts: Vec<(&'static str, usize)>,
    /// Providers that failed.
    pub failures: Vec<ProviderFailure>,
    /// Results the providers gave that were unusable (malformed, or
    /// without an http(s) image URL).
    pub dropped: usize,
}

impl Gathered {
    /// True when every provider failed (there were some, and none answered).
    pub fn all_failed(&self) -> bool {
        self.counts.is_empty() && !self.failures.is_empty()
    }
}

/// Runs `query` on every provider concurrently and deduplicates the union.
pub async fn gather(providers: &[Box<dyn ImageSearch>], query: &SearchQuery) -> Gathered {
    let answers = join_all(
        providers
            .iter()
            .map(|p| async move { (p.name(), p.search(query).await) }),
    )
    .await;
    let mut gathered = Gathered::default();
    let mut all = Vec::new();
    for (provider, answer) in answers {
        match answer {
            Ok(found) => {
                gathered.counts.push((provider, found.candidates.len()));
                gathered.dropped += found.dropped;
                all.extend(found.candidates);
            }
            Err(error) => {
                tracing::warn!(provider, error = %error, "provider failed");
                gathered.failures.push(ProviderFailure { provider, error });
            }
        }
    }
    gathered.images = dedupe(all);
    gathered
}
