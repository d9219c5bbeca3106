//! Provider answers → candidates, without I/O: one file per provider's
//! JSON shape, and the lenient reading they share (a malformed result is
//! skipped, not the page; an answer that is not a JSON object is an error).
//! The clients (`client/`, built with the `runtime` feature) fetch;
//! everything here only reads.

pub(crate) mod brave;
pub(crate) mod commons;
pub(crate) mod lens;
pub(crate) mod openverse;
pub(crate) mod searxng;
pub(crate) mod serpapi;
pub(crate) mod serper;
pub(crate) mod tineye;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::candidate::Candidate;
use super::error::SearchError;
use super::settings::ProviderKind;
use lens::LensMatches;

/// Parses one answer body of `kind` into its candidates, exactly as a search
/// does but without I/O (the entry point of the `search_parse` fuzz target).
/// SearXNG's relative URLs resolve against `https://searxng.invalid/`.
pub fn parse_answer(kind: ProviderKind, body: &str) -> Result<Vec<Candidate>, SearchError> {
    let value = parse_body(kind.name(), body)?;
    let now = chrono::Utc::now();
    match kind {
        ProviderKind::Openverse => Ok(openverse::parse_page(&value, now)?.candidates),
        ProviderKind::Commons => Ok(commons::parse_page(&value, now)?.candidates),
        ProviderKind::TinEye => Ok(tineye::parse_page(&value, 100, now)?.candidates),
        ProviderKind::SerpApi => Ok(serpapi::parse_images_page(&value)?.candidates),
        ProviderKind::Brave => Ok(brave::parse_results(&value)?.candidates),
        ProviderKind::Serper => Ok(serper::parse_images(&value)?.candidates),
        ProviderKind::SearXng => {
            let instance = url::Url::parse("https://searxng.invalid/")
                .map_err(|e| SearchError::InvalidSetting(e.to_string()))?;
            Ok(searxng::parse_results(&value, &instance)?.candidates)
        }
    }
}

/// Parses one SerpApi Google Lens answer's `field` (`visual_matches` or
/// `exact_matches`) without I/O (for the fuzz target).
pub fn parse_lens_answer(body: &str, field: &str) -> Result<LensMatches, SearchError> {
    lens::parse_lens(&parse_body("serpapi_lens", body)?, field)
}

/// One page of a provider's results.
#[derive(Debug)]
pub(crate) struct Page {
    /// The page's candidates, in order (ranks are assigned while paging).
    pub candidates: Vec<Candidate>,
    /// Results of the page left out as unusable (summed by the clients'
    /// paging, which only the `runtime` feature builds).
    #[cfg_attr(not(feature = "runtime"), allow(dead_code))]
    pub dropped: usize,
    /// Whether the provider says there is a next page (read by the
    /// clients' paging, which only the `runtime` feature builds).
    #[cfg_attr(not(feature = "runtime"), allow(dead_code))]
    pub has_more: bool,
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

/// Candidates read from an answer, and how many of its results were left
/// out as unusable (malformed, or without an http(s) image URL): counted
/// so a scan's summary can say so.
#[derive(Debug, Default)]
pub struct Found {
    /// The usable results, in order.
    pub candidates: Vec<Candidate>,
    /// Results left out.
    pub dropped: usize,
}

/// Each item of `items` read as `T` and converted with `convert`; items
/// that do not fit (missing or mistyped fields, unusable URLs) are counted
/// in [`Found::dropped`], with a debug log.
pub(crate) fn each_result<T: DeserializeOwned>(
    provider: &'static str,
    items: &[Value],
    convert: impl Fn(T) -> Option<Candidate>,
) -> Found {
    let mut out = Found {
        candidates: Vec::with_capacity(items.len()),
        dropped: 0,
    };
    for (index, item) in items.iter().enumerate() {
        match T::deserialize(item) {
            Ok(raw) => match convert(raw) {
                Some(candidate) => out.candidates.push(candidate),
                None => {
                    out.dropped += 1;
                    tracing::debug!(
                        provider,
                        index,
                        "skipping a result without a usable image URL"
                    )
                }
            },
            Err(err) => {
                out.dropped += 1;
                tracing::debug!(provider, index, error = %err, "skipping a malformed result")
            }
        }
    }
    out
}

/// A text field given as a string; any other JSON value (a number, an
/// object, an array) is `None` rather than a reason to drop the result.
pub(crate) fn lenient_string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::String(s)) => Some(s),
        _ => None,
    })
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

    fn fixture(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/search")
            .join(name);
        std::fs::read_to_string(path).expect("fixture")
    }

    #[test]
    fn parse_answer_reads_each_provider() {
        let cases = [
            (ProviderKind::SerpApi, "serpapi_images_ijn0.json"),
            (ProviderKind::Brave, "brave_images.json"),
            (ProviderKind::Serper, "serper_images_page1.json"),
            (ProviderKind::SearXng, "searxng_page1.json"),
            (ProviderKind::Openverse, "openverse_page1.json"),
            (ProviderKind::Commons, "commons_page1.json"),
        ];
        for (kind, file) in cases {
            let found = parse_answer(kind, &fixture(file)).expect(file);
            assert!(!found.is_empty(), "{file}");
        }
        let lens = parse_lens_answer(&fixture("serpapi_lens_visual.json"), "visual_matches");
        assert!(!lens.expect("lens").candidates.is_empty());
    }

    #[test]
    fn parse_answer_refuses_what_is_not_an_object() {
        for body in ["", "[]", "null", "{", "\"x\""] {
            assert!(
                parse_answer(ProviderKind::SearXng, body).is_err(),
                "{body:?}"
            );
        }
    }
}
