//! Sending provider requests: bounded retries with exponential backoff,
//! `Retry-After`, status → [`SearchError`] mapping, body size cap, and
//! [`redact_url`] so that keys carried in query strings are never logged.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use url::Url;

use crate::config::Secret;
use crate::search::error::{scrub, SearchError};

/// Largest provider response read, in bytes.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Query parameters whose values are credentials.
const SENSITIVE_PARAMS: &[&str] = &[
    "api_key",
    "apikey",
    "key",
    "token",
    "access_token",
    "auth",
    "secret",
    "password",
    "signature",
    "sig",
    "subscription_token",
];

/// How often, and how patiently, to retry rate-limited (429) and failing
/// (5xx, connect/timeout) requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 = never retry).
    pub max_retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub initial_backoff: Duration,
    /// No single wait is longer; a `Retry-After` beyond it gives up at once.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based): exponential, capped.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(20));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }

    /// The wait before retrying a 429 after `attempts` requests, or `None`
    /// to give up: retries used up, or the provider asks for longer than
    /// `max_backoff`.
    fn rate_limit_wait(&self, attempts: u32, retry_after: Option<Duration>) -> Option<Duration> {
        if attempts > self.max_retries {
            return None;
        }
        match retry_after {
            Some(asked) if asked > self.max_backoff => None,
            Some(asked) => Some(asked.max(self.backoff(attempts - 1))),
            None => Some(self.backoff(attempts - 1)),
        }
    }
}

/// `url` for logs and messages: values of credential-like query parameters
/// (`api_key`, `key`, `token`, …) and any password replaced by `***`.
pub fn redact_url(url: &Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(name, value)| {
                let sensitive = SENSITIVE_PARAMS
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(&name.replace('-', "_")));
                let value = if sensitive {
                    "***".to_string()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        shown.query_pairs_mut().clear().extend_pairs(pairs);
    }
    shown.to_string()
}

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

impl Endpoint<'_> {
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
        let can_retry = attempts <= self.retry.max_retries;
        let response = match sent {
            Ok(response) => response,
            Err(err) if retryable(&err) && can_retry => {
                tracing::debug!(provider = self.provider, error = %err.without_url(), "request failed");
                return Step::Retry(self.retry.backoff(attempts - 1));
            }
            Err(err) => return Step::Fail(self.transport(shown, err)),
        };
        let status = response.status().as_u16();
        let retry_after = parse_retry_after(response.headers());
        match read_capped(response).await {
            Ok(body) => self.judge(shown, attempts, status, retry_after, body),
            Err(BodyError::Transport(err)) => Step::Fail(self.transport(shown, err)),
            Err(BodyError::TooLarge) => Step::Fail(SearchError::Malformed {
                provider: self.provider,
                reason: format!("response larger than {MAX_BODY_BYTES} bytes"),
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
            429 => match self.retry.rate_limit_wait(attempts, retry_after) {
                Some(wait) => {
                    tracing::warn!(
                        provider = self.provider,
                        wait_ms = wait.as_millis() as u64,
                        "rate limited; backing off"
                    );
                    Step::Retry(wait)
                }
                None => Step::Fail(SearchError::RateLimited {
                    provider: self.provider,
                    retry_after,
                    attempts,
                }),
            },
            500 | 502 | 503 | 504 if attempts <= self.retry.max_retries => {
                Step::Retry(self.retry.backoff(attempts - 1))
            }
            _ => Step::Fail(SearchError::Http {
                provider: self.provider,
                status,
                url: shown.to_string(),
                detail: Some(self.scrub(&body)).filter(|d| !d.is_empty()),
            }),
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
        SearchError::Transport {
            provider: self.provider,
            url: shown.to_string(),
            source: err.without_url(),
        }
    }
}

fn retryable(err: &reqwest::Error) -> bool {
    err.is_connect() || err.is_timeout()
}

/// `Retry-After` as seconds or as an HTTP date (a date in the past is 0 s).
fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

enum BodyError {
    Transport(reqwest::Error),
    TooLarge,
}

async fn read_capped(mut response: reqwest::Response) -> Result<String, BodyError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
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
    fn redact_url_hides_keys_and_passwords() {
        let url = Url::parse(
            "https://user:pw123@serpapi.com/search.json?engine=google_images&q=red+fox&api_key=sk-SECRET&ijn=2&Token=t0k",
        )
        .unwrap();
        let shown = redact_url(&url);
        assert!(!shown.contains("sk-SECRET"), "{shown}");
        assert!(!shown.contains("pw123"), "{shown}");
        assert!(!shown.contains("t0k"), "{shown}");
        assert!(shown.contains("api_key=***"), "{shown}");
        assert!(shown.contains("q=red+fox"), "{shown}");
        assert!(shown.contains("ijn=2"), "{shown}");
        let plain = Url::parse("https://example.org/a?b=c").unwrap();
        assert_eq!(redact_url(&plain), "https://example.org/a?b=c");
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy {
            max_retries: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(500),
        };
        let waits: Vec<u128> = (0..5).map(|r| policy.backoff(r).as_millis()).collect();
        assert_eq!(waits, vec![100, 200, 400, 500, 500]);
        assert_eq!(policy.backoff(u32::MAX), Duration::from_millis(500));
    }

    #[test]
    fn rate_limit_gives_up_when_asked_to_wait_too_long_or_out_of_retries() {
        let policy = RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_secs(5),
        };
        assert_eq!(
            policy.rate_limit_wait(1, Some(Duration::from_secs(2))),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            policy.rate_limit_wait(2, None),
            Some(Duration::from_millis(20))
        );
        assert_eq!(
            policy.rate_limit_wait(1, Some(Duration::from_secs(60))),
            None
        );
        assert_eq!(policy.rate_limit_wait(3, None), None);
    }

    #[test]
    fn retry_after_seconds_or_date() {
        let mut headers = HeaderMap::new();
        assert_eq!(parse_retry_after(&headers), None);
        headers.insert(RETRY_AFTER, " 12 ".parse().unwrap());
        assert_eq!(parse_retry_after(&headers), Some(Duration::from_secs(12)));
        let in_a_minute = (chrono::Utc::now() + chrono::Duration::seconds(60)).to_rfc2822();
        headers.insert(RETRY_AFTER, in_a_minute.parse().unwrap());
        let wait = parse_retry_after(&headers).unwrap();
        assert!(
            wait > Duration::from_secs(55) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(parse_retry_after(&headers), Some(Duration::ZERO));
        headers.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(parse_retry_after(&headers), None);
    }

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
