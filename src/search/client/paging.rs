//! Paging: asking a provider for page after page until enough candidates
//! are found.

use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::search::answer::{rank_of, Found, Page};
use crate::search::candidate::Candidate;
use crate::search::dedupe::normalize_url;
use crate::search::error::SearchError;

/// Fetches pages 0, 1, 2… with `fetch` until `max_results` candidates are
/// gathered, the provider has no more, a page brings nothing new, or
/// `max_pages` were asked for. Ranks are 1-based across pages.
///
/// An error on the first page is returned; on a later page it is logged and
/// the candidates so far are returned. Results the provider gave that were
/// unusable are summed in [`Found::dropped`].
pub(crate) async fn collect_pages<F, Fut>(
    provider: &'static str,
    max_results: usize,
    max_pages: u32,
    mut fetch: F,
) -> Result<Found, SearchError>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<Page, SearchError>>,
{
    let mut gathered: Vec<Candidate> = Vec::new();
    let mut dropped = 0;
    let mut seen: HashSet<(String, Option<String>)> = HashSet::new();
    for page_number in 0..max_pages {
        if gathered.len() >= max_results {
            break;
        }
        let page = match fetch(page_number).await {
            Ok(page) => page,
            Err(err) if page_number > 0 => {
                tracing::warn!(provider, page = page_number, error = %err, "stopping early; keeping the results so far");
                break;
            }
            Err(err) => return Err(err),
        };
        let before = gathered.len();
        let page_dropped = page.dropped;
        for mut candidate in page.candidates {
            let key = (
                normalize_url(&candidate.image_url),
                candidate.page_url.as_ref().map(normalize_url),
            );
            if gathered.len() < max_results && seen.insert(key) {
                candidate.rank = rank_of(gathered.len());
                gathered.push(candidate);
            }
        }
        if gathered.len() == before {
            // A page with nothing new repeats an earlier one: its unusable
            // results were counted there.
            break;
        }
        dropped += page_dropped;
        if !page.has_more {
            break;
        }
    }
    Ok(Found {
        candidates: gathered,
        dropped,
    })
}

/// Keeps requests to one provider at least `interval` apart, however
/// many searches share it.
pub(crate) struct Pacer {
    interval: Duration,
    last: Mutex<Option<Instant>>,
}

impl Pacer {
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            last: Mutex::new(None),
        }
    }

    /// Waits until `interval` has passed since the previous request.
    pub async fn wait(&self) {
        let mut last = self.last.lock().await;
        if let Some(previous) = *last {
            tokio::time::sleep_until(previous + self.interval).await;
        }
        *last = Some(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    fn candidate(n: usize) -> Candidate {
        Candidate {
            image_url: Url::parse(&format!("https://e.com/{n}.jpg")).unwrap(),
            page_url: None,
            page_title: None,
            site: None,
            thumbnail_url: None,
            width: None,
            height: None,
            rank: 0,
            provider: "test",
            facts: Default::default(),
            words: Default::default(),
        }
    }

    #[tokio::test]
    async fn stops_at_max_results_and_ranks_across_pages() {
        let got = collect_pages("test", 25, 10, |page| async move {
            let start = page as usize * 10;
            Ok(Page {
                candidates: (start..start + 10).map(candidate).collect(),
                dropped: 2,
                has_more: true,
            })
        })
        .await
        .unwrap();
        assert_eq!(got.candidates.len(), 25);
        assert_eq!(got.candidates[24].rank, 25);
        assert_eq!(
            got.candidates[24].image_url.as_str(),
            "https://e.com/24.jpg"
        );
        assert_eq!(got.dropped, 6, "the unusable results of the 3 pages asked");
    }

    #[tokio::test]
    async fn stops_when_a_page_repeats_itself() {
        let mut calls = 0;
        let got = collect_pages("test", 100, 10, |_| {
            calls += 1;
            async {
                Ok(Page {
                    candidates: (0..5).map(candidate).collect(),
                    dropped: 0,
                    has_more: true,
                })
            }
        })
        .await
        .unwrap();
        assert_eq!((got.candidates.len(), calls), (5, 2));
    }

    #[tokio::test]
    async fn the_pacer_spaces_requests() {
        let pacer = Pacer::new(Duration::from_millis(40));
        let start = Instant::now();
        for _ in 0..3 {
            pacer.wait().await;
        }
        assert!(start.elapsed() >= Duration::from_millis(80));
    }

    #[tokio::test]
    async fn later_page_errors_keep_earlier_results() {
        let got = collect_pages("test", 100, 10, |page| async move {
            if page == 0 {
                Ok(Page {
                    candidates: vec![candidate(1)],
                    dropped: 0,
                    has_more: true,
                })
            } else {
                Err(SearchError::Malformed {
                    provider: "test",
                    reason: "x".into(),
                })
            }
        })
        .await
        .unwrap();
        assert_eq!(got.candidates.len(), 1);
        let err = collect_pages("test", 100, 10, |_| async {
            Err::<Page, _>(SearchError::Malformed {
                provider: "test",
                reason: "x".into(),
            })
        })
        .await;
        assert!(err.is_err());
    }
}
