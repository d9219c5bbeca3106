//! Sending provider requests under the crate's one HTTP policy
//! ([`crate::http`]: retries with back-off, `Retry-After`, capped bodies),
//! with the status → [`SearchError`] mapping of search APIs, and
//! [`redact_url`] so that keys carried in query strings are never logged.

use std::time::Duration;

use url::Url;

use crate::config::Secret;
use crate::http::{read_body, retry_after, BodyError, Overflow, RetryDecision, RetryPolicy};
use crate::search::error::{scrub, SearchError};

/// Largest provider response read, in bytes.
const MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;

/// Longest silence while reading a provider's answer.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a search API request may take by default.
pub const SEARCH_TIMEOUT: Duration = Duration::from_secs(90);

/// The HTTP client for search APIs: our `User-Agent`, 15 s to connect,
/// [`SEARCH_TIMEOUT`] a request (the system proxy is used, as for any API
/// call).
pub fn api_client() -> Result<reqwest::Client, reqwest::Error> {
    api_client_with_contact(None, SEARCH_TIMEOUT)
}

/// [`api_client`] whose `User-Agent` carries `contact` (a URL or
/// `mailto:`), as Wikimedia asks of API clients, and whose requests may
/// take `timeout` each. A request that times out is not retried, so a
/// silent API fails after `timeout`.
pub fn api_client_with_contact(
    contact: Option<&str>,
    timeout: Duration,
) -> Result<reqwest::Client, reqwest::Error> {
    crate::http::client(crate::http::ClientOptions {
        total_timeout: Some(timeout),
        ..crate::http::ClientOptions::new(crate::http::user_agent(contact))
    })
}

/// The retry policy of search API calls by default: 3 retries, 1 s
/// doubling up to 30 s; a `Retry-After` beyond 30 s gives up at once.
pub fn search_retry_policy() -> RetryPolicy {
    RetryPolicy {
        retries: 3,
        base: Duration::from_secs(1),
        max: Duration::from_secs(30),
    }
}

pub use crate::redact::redact_url;

/// One provider's way of talking HTTP: who it is, what to retry, how its
/// "quota used up" answers look.
pub(crate) struct Endpoint<'a> {
    /// Provider name for messages.
    pub provider: &'static str,
    /// Retry policy.
    pub retry: &'a RetryPolicy,
    /// The key, scrubbed from any provider text kept in errors.
    pub secret: Option<&'a Secret>,
    /// What to check when the provider answers 401/403.
    pub unauthorized_hint: &'static str,
    /// Recognises provider-specific answers (status, body) that mean more
    /// than their status says.
    pub classify: fn(u16, &str) -> Option<Verdict>,
}

/// What a provider-specific answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The account's quota is used up (the provider's message).
    QuotaExhausted(String),
    /// The key was rejected, whatever the status says.
    Unauthorized,
}

/// What one attempt came to.
enum Step {
    /// A 2xx body.
    Done(String),
    /// Wait this long, then try again.
    Retry(Duration),
    /// Give up with this error.
    Fail(SearchError),
}

impl<'a> Endpoint<'a> {
    /// A service that takes no key and has no answers of its own to
    /// classify (SearXNG, Openverse, Commons, the web archive).
    pub fn keyless(
        provider: &'static str,
        retry: &'a RetryPolicy,
        unauthorized_hint: &'static str,
    ) -> Self {
        Self {
            provider,
            retry,
            secret: None,
            unauthorized_hint,
            classify: |_, _| None,
        }
    }

    /// `GET url` asking for JSON: the body of a 2xx answer.
    pub async fn get_json(
        &self,
        client: &reqwest::Client,
        url: &Url,
    ) -> Result<String, SearchError> {
        self.send(url, || {
            client.get(url.clone()).header("Accept", "application/json")
        })
        .await
    }

    /// Sends the request `build` makes (again for each retry) and returns
    /// the body of a 2xx answer. `url` is the request URL, for logs only.
    pub async fn send(
        &self,
        url: &Url,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<String, SearchError> {
        let shown = redact_url(url);
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            tracing::debug!(provider = self.provider, url = %shown, attempts, "search request");
            match self.attempt(&shown, attempts, build().send().await).await {
                Step::Done(body) => return Ok(body),
                Step::Fail(err) => return Err(err),
                Step::Retry(wait) => {
                    tracing::debug!(
                        provider = self.provider,
                        wait_ms = wait.as_millis() as u64,
                        "retrying"
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Reads the answer to attempt number `attempts` and decides what next.
    async fn attempt(
        &self,
        shown: &str,
        attempts: u32,
        sent: Result<reqwest::Response, reqwest::Error>,
    ) -> Step {
        let response = match sent {
            Ok(response) => response,
            Err(err) if retryable(&err) => match self.retry.decide(attempts - 1, None) {
                RetryDecision::After(wait) => {
                    tracing::debug!(provider = self.provider, error = %err.without_url(), "request failed");
                    return Step::Retry(wait);
                }
                _ => return Step::Fail(self.transport(shown, err)),
            },
            Err(err) => return Step::Fail(self.transport(shown, err)),
        };
        let status = response.status().as_u16();
        let retry_after = retry_after(response.headers());
        match read_body(response, MAX_BODY_BYTES, Overflow::Fail, READ_TIMEOUT).await {
            Ok(body) => {
                let body = String::from_utf8_lossy(&body.bytes).into_owned();
                self.judge(shown, attempts, status, retry_after, body)
            }
            Err(BodyError::Transfer(err)) => Step::Fail(self.transport(shown, err)),
            Err(BodyError::Timeout) => Step::Fail(SearchError::Malformed {
                provider: self.provider,
                reason: format!(
                    "the answer stalled for more than {} s",
                    READ_TIMEOUT.as_secs()
                ),
            }),
            Err(BodyError::TooLarge { limit }) => Step::Fail(SearchError::Malformed {
                provider: self.provider,
                reason: format!("response larger than {limit} bytes"),
            }),
        }
    }

    /// Maps a complete answer to the next step.
    fn judge(
        &self,
        shown: &str,
        attempts: u32,
        status: u16,
        retry_after: Option<Duration>,
        body: String,
    ) -> Step {
        match (self.classify)(status, &body) {
            Some(Verdict::QuotaExhausted(message)) => {
                return Step::Fail(SearchError::QuotaExhausted {
                    provider: self.provider,
                    message: self.scrub(&message),
                })
            }
            Some(Verdict::Unauthorized) => return Step::Fail(self.unauthorized(status)),
            None => {}
        }
        match status {
            200..=299 => Step::Done(body),
            401 | 403 => Step::Fail(self.unauthorized(status)),
            429 => match self.retry.decide(attempts - 1, retry_after) {
                RetryDecision::After(wait) => {
                    tracing::warn!(
                        provider = self.provider,
                        wait_ms = wait.as_millis() as u64,
                        "rate limited; backing off"
                    );
                    Step::Retry(wait)
                }
                RetryDecision::GiveUp | RetryDecision::TooLongRequested(_) => {
                    Step::Fail(SearchError::RateLimited {
                        provider: self.provider,
                        retry_after,
                        attempts,
                    })
                }
            },
            500 | 502 | 503 | 504 => match self.retry.decide(attempts - 1, None) {
                RetryDecision::After(wait) => Step::Retry(wait),
                _ => Step::Fail(self.http_status(shown, status, &body)),
            },
            _ => Step::Fail(self.http_status(shown, status, &body)),
        }
    }

    fn http_status(&self, shown: &str, status: u16, body: &str) -> SearchError {
        SearchError::Http {
            provider: self.provider,
            status,
            url: shown.to_string(),
            detail: Some(self.scrub(body)).filter(|d| !d.is_empty()),
        }
    }

    /// Provider text made safe for an error message.
    pub fn scrub(&self, text: &str) -> String {
        scrub(text, self.secret.map(Secret::expose))
    }

    fn unauthorized(&self, status: u16) -> SearchError {
        SearchError::Unauthorized {
            provider: self.provider,
            status,
            hint: self.unauthorized_hint,
        }
    }

    fn transport(&self, shown: &str, err: reqwest::Error) -> SearchError {
        if err.is_timeout() {
            return SearchError::TimedOut {
                provider: self.provider,
                url: shown.to_string(),
            };
        }
        SearchError::Transport {
            provider: self.provider,
            url: shown.to_string(),
            source: err.without_url(),
        }
    }
}

/// A refused or reset connection is worth another try; a timeout is not:
/// retrying one would multiply the wait (a silent API took 4 × 90 s).
fn retryable(err: &reqwest::Error) -> bool {
    err.is_connect() && !err.is_timeout()
}

/// `base` with `path` appended below it (`base` may itself have a path,
/// e.g. a SearXNG instance at `https://example.org/searx/`).
pub(crate) fn endpoint_url(base: &Url, path: &str) -> Result<Url, SearchError> {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        let with_slash = format!("{}/", base.path());
        base.set_path(&with_slash);
    }
    base.set_query(None);
    base.join(path.trim_start_matches('/')).map_err(|e| {
        SearchError::InvalidSetting(format!(
            "cannot append {path} to {}: {e}",
            redact_url(&base)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_url_keeps_base_path() {
        let base = Url::parse("https://example.org/searx").unwrap();
        assert_eq!(
            endpoint_url(&base, "search").unwrap().as_str(),
            "https://example.org/searx/search"
        );
        let base = Url::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(
            endpoint_url(&base, "/res/v1/images/search")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:8080/res/v1/images/search"
        );
    }
}
