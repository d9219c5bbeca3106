//! Shared by the providers: paging until enough candidates are found, and
//! lenient reading of result arrays (a malformed result is skipped, not the
//! page).

use std::collections::HashSet;
use std::future::Future;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::candidate::Candidate;
use super::dedupe::normalize_url;
use super::error::SearchError;

/// One page of a provider's results.
pub(crate) struct Page {
    /// The page's candidates, in order (ranks are assigned by [`collect_pages`]).
    pub candidates: Vec<Candidate>,
    /// Whether the provider says there is a next page.
    pub has_more: bool,
}

/// Fetches pages 0, 1, 2… with `fetch` until `max_results` candidates are
/// gathered, the provider has no more, a page brings nothing new, or
/// `max_pages` were asked for. Ranks are 1-based across pages.
///
/// An error on the first page is returned; on a later page it is logged and
/// the candidates so far are returned.
pub(crate) async fn collect_pages<F, Fut>(
    provider: &'static str,
    max_results: usize,
    max_pages: u32,
    mut fetch: F,
) -> Result<Vec<Candidate>, SearchError>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<Page, SearchError>>,
{
    let mut gathered: Vec<Candidate> = Vec::new();
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
        if !page.has_more || gathered.len() == before {
            break;
        }
    }
    Ok(gathered)
}

/// The 1-based rank of the candidate at `index`.
pub(crate) fn rank_of(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

/// Parses a whole response body as a JSON object (every provider answers
/// with one; anything else means a wrong base URL, not an empty page).
pub(crate) fn parse_body(provider: &'static str, body: &str) -> Result<Value, SearchError> {
    let value: Value = serde_json::from_str(body).map_err(|e| SearchError::Malformed {
        provider,
        reason: e.to_string(),
    })?;
    if !value.is_object() {
        return Err(SearchError::Malformed {
            provider,
            reason: "the answer is not a JSON object".into(),
        });
    }
    Ok(value)
}

/// The array at `field`: missing or `null` is an empty page; anything else
/// that is not an array is malformed.
pub(crate) fn results_array<'a>(
    provider: &'static str,
    value: &'a Value,
    field: &str,
) -> Result<&'a [Value], SearchError> {
    match value.get(field) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(SearchError::Malformed {
            provider,
            reason: format!("`{field}` is not an array"),
        }),
    }
}

/// Each item of `items` read as `T` and converted with `convert`; items
/// that do not fit (missing or mistyped fields, unusable URLs) are skipped
/// with a debug log.
pub(crate) fn each_result<T: DeserializeOwned>(
    provider: &'static str,
    items: &[Value],
    convert: impl Fn(T) -> Option<Candidate>,
) -> Vec<Candidate> {
    let mut out = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        match T::deserialize(item) {
            Ok(raw) => match convert(raw) {
                Some(candidate) => out.push(candidate),
                None => tracing::debug!(
                    provider,
                    index,
                    "skipping a result without a usable image URL"
                ),
            },
            Err(err) => {
                tracing::debug!(provider, index, error = %err, "skipping a malformed result")
            }
        }
    }
    out
}

/// A dimension given as a number or a numeric string; anything else is `None`.
pub(crate) fn lenient_u32<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u32>, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?;
    Ok(match value {
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
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
        }
    }

    #[tokio::test]
    async fn stops_at_max_results_and_ranks_across_pages() {
        let got = collect_pages("test", 25, 10, |page| async move {
            let start = page as usize * 10;
            Ok(Page {
                candidates: (start..start + 10).map(candidate).collect(),
                has_more: true,
            })
        })
        .await
        .unwrap();
        assert_eq!(got.len(), 25);
        assert_eq!(got[24].rank, 25);
        assert_eq!(got[24].image_url.as_str(), "https://e.com/24.jpg");
    }

    #[tokio::test]
    async fn stops_when_a_page_repeats_itself() {
        let mut calls = 0;
        let got = collect_pages("test", 100, 10, |_| {
            calls += 1;
            async {
                Ok(Page {
                    candidates: (0..5).map(candidate).collect(),
                    has_more: true,
                })
            }
        })
        .await
        .unwrap();
        assert_eq!((got.len(), calls), (5, 2));
    }

    #[tokio::test]
    async fn later_page_errors_keep_earlier_results() {
        let got = collect_pages("test", 100, 10, |page| async move {
            if page == 0 {
                Ok(Page {
                    candidates: vec![candidate(1)],
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
        assert_eq!(got.len(), 1);
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
