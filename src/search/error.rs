//! [`SearchError`]: every way a search can fail, each message saying what
//! to do next. No message ever contains an API key: URLs are redacted and
//! provider-supplied text is scrubbed of the key before it is stored.

use std::time::Duration;

/// A search that could not be done.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The chosen provider needs a key and none was given.
    #[error("{variable} is not set; {alternatives}")]
    MissingKey {
        /// The environment variable to set.
        variable: &'static str,
        /// What else the user can do.
        alternatives: &'static str,
    },
    /// The provider rejected the credentials (HTTP 401/403).
    #[error("{provider} refused the request (HTTP {status}): {hint}")]
    Unauthorized {
        /// Provider name.
        provider: &'static str,
        /// 401 or 403.
        status: u16,
        /// What to check.
        hint: &'static str,
    },
    /// Still rate limited (HTTP 429) after the retries the policy allows.
    #[error("{provider} is rate limiting requests (HTTP 429) after {attempts} attempt(s){}; wait and run the scan again, or lower --max-results", retry_hint(*.retry_after))]
    RateLimited {
        /// Provider name.
        provider: &'static str,
        /// The provider's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
        /// Requests made, the first included.
        attempts: u32,
    },
    /// The account has no searches left.
    #[error("{provider} says the account's search quota is used up: {message}; wait for the quota to renew, upgrade the plan, or use --provider searxng (self-hosted, no key)")]
    QuotaExhausted {
        /// Provider name.
        provider: &'static str,
        /// The provider's own words (key scrubbed).
        message: String,
    },
    /// The provider answered with an error of its own.
    #[error("{provider} returned an error: {message}")]
    Provider {
        /// Provider name.
        provider: &'static str,
        /// The provider's own words (key scrubbed).
        message: String,
    },
    /// An HTTP status that is not success and not one of the above.
    #[error("{provider} answered HTTP {status} for {url}{}", detail_suffix(.detail))]
    Http {
        /// Provider name.
        provider: &'static str,
        /// The status code.
        status: u16,
        /// The request URL, redacted.
        url: String,
        /// The start of the response body (key scrubbed), if any.
        detail: Option<String>,
    },
    /// The provider did not answer within the search timeout.
    #[error(
        "{provider} did not answer {url} in time (--search-timeout); it may be down or overloaded"
    )]
    TimedOut {
        /// Provider name.
        provider: &'static str,
        /// The request URL, redacted.
        url: String,
    },
    /// The request could not be sent or the response not read.
    #[cfg(feature = "runtime")]
    #[error("could not reach {provider} at {url}; check the network or the base URL setting")]
    Transport {
        /// Provider name.
        provider: &'static str,
        /// The request URL, redacted.
        url: String,
        /// The cause, stripped of its URL.
        #[source]
        source: reqwest::Error,
    },
    /// The response was not the JSON shape the provider documents.
    #[error("{provider} sent a response that is not the expected JSON ({reason}); is the base URL right?")]
    Malformed {
        /// Provider name.
        provider: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// A setting (e.g. a base URL) cannot be used.
    #[error("invalid search setting: {0}")]
    InvalidSetting(String),
}

fn retry_hint(retry_after: Option<Duration>) -> String {
    retry_after
        .map(|wait| format!(" (it asks to wait {} s)", wait.as_secs()))
        .unwrap_or_default()
}

fn detail_suffix(detail: &Option<String>) -> String {
    detail
        .as_deref()
        .map(|text| format!(": {text}"))
        .unwrap_or_default()
}

/// Removes every occurrence of `secret` from provider-supplied text and caps
/// its length, so it can go into an error message.
#[cfg(feature = "runtime")]
pub(crate) fn scrub(text: &str, secret: Option<&str>) -> String {
    const MAX_CHARS: usize = 300;
    let mut cleaned = match secret.filter(|s| !s.is_empty()) {
        Some(secret) => text.replace(secret, "***"),
        None => text.to_string(),
    };
    cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some((cut, _)) = cleaned.char_indices().nth(MAX_CHARS) {
        cleaned.truncate(cut);
        cleaned.push('…');
    }
    cleaned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_key_and_caps_length() {
        let text = format!("bad key sk-live-123 {}", "x ".repeat(400));
        let out = scrub(&text, Some("sk-live-123"));
        assert!(!out.contains("sk-live-123"));
        assert!(out.starts_with("bad key *** x x"));
        assert!(out.chars().count() <= 301, "{}", out.len());
    }

    #[test]
    fn messages_say_what_to_do() {
        let err = SearchError::MissingKey {
            variable: "SERPAPI_API_KEY",
            alternatives: "or use --provider searxng",
        };
        assert_eq!(
            err.to_string(),
            "SERPAPI_API_KEY is not set; or use --provider searxng"
        );
        let err = SearchError::RateLimited {
            provider: "brave",
            retry_after: Some(Duration::from_secs(7)),
            attempts: 3,
        };
        let text = err.to_string();
        assert!(
            text.contains("after 3 attempt(s) (it asks to wait 7 s)"),
            "{text}"
        );
    }
}
