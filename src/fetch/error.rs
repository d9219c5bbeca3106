//! Why a fetch did not give a body: a typed error per cause, keeping the
//! underlying error. Polite skips (robots.txt, `noai`) are told apart from
//! failures by [`FetchError::is_skip`].

use std::fmt;
use std::time::Duration;

use url::Url;

use super::guard::BlockedAddress;
use crate::model::{Setback, Stage};

/// The phase of a request that ran out of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// Opening the connection.
    Connect,
    /// Waiting for the response headers.
    Headers,
    /// Silence between two body chunks longer than the read timeout.
    Read,
    /// The whole attempt took longer than the total timeout.
    Total,
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "connect",
            Self::Headers => "response headers",
            Self::Read => "reading the body",
            Self::Total => "whole request",
        })
    }
}

/// A failed (or politely skipped) fetch.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The URL cannot be fetched (not http/https, no host, bad redirect target).
    #[error("invalid URL {url}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The SSRF guard refused the address (see `--allow-private-addresses`).
    #[error("{0} (private addresses are refused by default)")]
    BlockedAddress(BlockedAddress),
    /// robots.txt disallows the URL for our user agent.
    #[error("robots.txt of {} disallows {url}", url.origin().ascii_serialization())]
    RobotsDisallowed {
        /// The URL disallowed.
        url: Url,
    },
    /// robots.txt did not answer in time: RFC 9309 §2.3.1.4 treats an
    /// unreachable robots.txt as "disallow all" (asked again next scan).
    #[error("robots.txt of {} did not answer in time, and RFC 9309 says to stay away from a site whose robots.txt is unreachable, so {url} was not fetched (asked again on the next scan)", url.origin().ascii_serialization())]
    RobotsUnreachable {
        /// The URL not fetched.
        url: Url,
    },
    /// The response carries `X-Robots-Tag: noai` or `noimageai`.
    #[error("{url} is marked X-Robots-Tag: {directive}")]
    NoAiTag {
        /// The URL so marked.
        url: Url,
        /// `noai` or `noimageai`.
        directive: &'static str,
    },
    /// The server answered with a non-success status.
    #[error("HTTP {code} from {url}")]
    Status {
        /// The status code.
        code: u16,
        /// The URL that answered.
        url: Url,
        /// `Retry-After` of a 429 or 503, when given.
        retry_after: Option<Duration>,
    },
    /// The server asked (`Retry-After`) for a longer pause than we wait.
    #[error("rate limited by {url}: asked to wait {}s, longer than the back-off limit", retry_after.as_secs())]
    RateLimited {
        /// The URL that answered 429/503.
        url: Url,
        /// The pause requested.
        retry_after: Duration,
    },
    /// The host kept answering 429/503: its remaining URLs are skipped for
    /// the rest of this scan (a circuit breaker, `--host-strikes`).
    #[error("skipped: {host} answered 429/503 {strikes} times in a row; its other URLs are left for a later scan")]
    HostGivenUp {
        /// The host.
        host: String,
        /// The throttling answers that opened the breaker.
        strikes: u32,
    },
    /// The body is larger than the cap (counted after content decoding).
    #[error("body larger than the limit of {limit} bytes")]
    TooLarge {
        /// The cap in bytes.
        limit: u64,
    },
    /// A phase ran out of time.
    #[error("timed out during {phase}")]
    Timeout {
        /// Which phase.
        phase: TimeoutPhase,
    },
    /// More redirects than allowed (or a loop).
    #[error("more than {limit} redirects")]
    TooManyRedirects {
        /// The redirect limit.
        limit: usize,
    },
    /// The connection could not be opened (refused, DNS failure, TLS).
    #[error("could not connect to {url}")]
    Connect {
        /// The URL.
        url: Url,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The request or the body transfer failed (reset, truncated body, protocol error).
    #[error("transfer from {url} failed")]
    Transfer {
        /// The URL.
        url: Url,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// A page fetch got something that is not HTML.
    #[error("not an HTML page (Content-Type {})", content_type.as_deref().unwrap_or("missing"))]
    NotHtml {
        /// The declared `Content-Type`.
        content_type: Option<String>,
    },
    /// Every attempt failed; the last error is kept.
    #[error("gave up after {attempts} attempts")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last attempt's error.
        #[source]
        last: Box<FetchError>,
    },
    /// The HTTP client could not be built from the settings.
    #[error("could not build the HTTP client")]
    Client(#[source] reqwest::Error),
}

impl FetchError {
    /// The error of a body that could not be read from `url`.
    pub(crate) fn from_body(url: &Url, error: crate::http::BodyError) -> Self {
        use crate::http::BodyError;
        match error {
            BodyError::Timeout => Self::Timeout {
                phase: TimeoutPhase::Read,
            },
            BodyError::Transfer(source) => Self::Transfer {
                url: url.clone(),
                source,
            },
            BodyError::TooLarge { limit } => Self::TooLarge { limit },
        }
    }

    /// A polite skip (robots.txt, `noai`), not a failure of the scan.
    pub fn is_skip(&self) -> bool {
        matches!(
            self.root(),
            Self::RobotsDisallowed { .. }
                | Self::RobotsUnreachable { .. }
                | Self::NoAiTag { .. }
                | Self::HostGivenUp { .. }
        )
    }

    /// A host asking us to slow down: 429, 503, or a `Retry-After` longer
    /// than we wait.
    pub fn is_throttle(&self) -> bool {
        matches!(
            self.root(),
            Self::Status {
                code: 429 | 503,
                ..
            } | Self::RateLimited { .. }
        )
    }

    /// What failed, for the failures table: `ssrf`, `robots`, `noai`,
    /// `http-status`, `rate-limit`, `too-large`, `timeout`, `redirect`,
    /// `connect`, `transfer`, `not-html`, `url`, `client`.
    pub fn stage(&self) -> Stage {
        match self.root() {
            Self::InvalidUrl { .. } => Stage::Url,
            Self::BlockedAddress(_) => Stage::Ssrf,
            Self::RobotsDisallowed { .. } | Self::RobotsUnreachable { .. } => Stage::Robots,
            Self::NoAiTag { .. } => Stage::NoAi,
            Self::Status { .. } => Stage::HttpStatus,
            Self::RateLimited { .. } | Self::HostGivenUp { .. } => Stage::RateLimit,
            Self::TooLarge { .. } => Stage::TooLarge,
            Self::Timeout { .. } => Stage::Timeout,
            Self::TooManyRedirects { .. } => Stage::Redirect,
            Self::Connect { .. } => Stage::Connect,
            Self::Transfer { .. } => Stage::Transfer,
            Self::NotHtml { .. } => Stage::NotHtml,
            Self::Client(_) | Self::GaveUp { .. } => Stage::Client,
        }
    }

    /// What the scan records: a polite skip or a failure, at this error's
    /// stage, with [`Self::reason`].
    pub fn setback(&self) -> Setback {
        let setback = if self.is_skip() {
            Setback::skipped(self.stage(), self.reason())
        } else {
            Setback::failed(self.stage(), self.reason())
        };
        setback.after(self.attempts())
    }

    /// Requests made: those of a [`FetchError::GaveUp`], else one.
    pub fn attempts(&self) -> u32 {
        match self {
            Self::GaveUp { attempts, .. } => *attempts,
            _ => 1,
        }
    }

    /// The message with every underlying cause, for the failures table and
    /// logs, e.g. `gave up after 3 attempts: HTTP 503 from https://…`.
    pub fn reason(&self) -> String {
        let mut reason = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(error) = cause {
            reason.push_str(": ");
            reason.push_str(&error.to_string());
            cause = error.source();
        }
        reason
    }

    /// The error behind any [`FetchError::GaveUp`] wrapping.
    pub fn root(&self) -> &FetchError {
        match self {
            Self::GaveUp { last, .. } => last.root(),
            other => other,
        }
    }

    /// Whether another attempt may succeed: timeouts, 5xx, 408, 429 and
    /// dropped transfers.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Timeout { .. } | Self::Transfer { .. } => true,
            Self::Status { code, .. } => {
                matches!(code, 408 | 429 | 500 | 502 | 503 | 504) || (*code >= 520 && *code <= 599)
            }
            _ => false,
        }
    }
}

/// Not `#[from]`: that would also make the address the error's source,
/// and [`FetchError::reason`] would write it twice.
impl From<BlockedAddress> for FetchError {
    fn from(blocked: BlockedAddress) -> Self {
        Self::BlockedAddress(blocked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_private_address_is_written_once_in_the_reason() {
        let blocked = FetchError::from(BlockedAddress {
            host: "intranet.example".into(),
            addr: "10.1.2.3".parse().unwrap(),
            reason: "private",
        });
        let reason = blocked.reason();
        assert_eq!(reason.matches("10.1.2.3").count(), 1, "{reason}");
        assert!(reason.contains("private addresses are refused"), "{reason}");
    }

    fn url() -> Url {
        Url::parse("http://example.org/a.jpg").unwrap()
    }

    #[test]
    fn skips_are_not_failures_even_when_wrapped() {
        let skip = FetchError::RobotsDisallowed { url: url() };
        assert!(skip.is_skip());
        let wrapped = FetchError::GaveUp {
            attempts: 2,
            last: Box::new(FetchError::NoAiTag {
                url: url(),
                directive: "noai",
            }),
        };
        assert!(wrapped.is_skip());
        assert_eq!(wrapped.stage(), Stage::NoAi);
        assert!(wrapped.setback().stage.is_skip());
        assert!(!FetchError::Status {
            code: 404,
            url: url(),
            retry_after: None
        }
        .is_skip());
    }

    #[test]
    fn retryable_statuses() {
        for code in [408, 429, 500, 502, 503, 504] {
            assert!(
                FetchError::Status {
                    code,
                    url: url(),
                    retry_after: None
                }
                .is_retryable(),
                "{code}"
            );
        }
        for code in [400, 401, 403, 404, 410, 501] {
            assert!(
                !FetchError::Status {
                    code,
                    url: url(),
                    retry_after: None
                }
                .is_retryable(),
                "{code}"
            );
        }
        assert!(FetchError::Timeout {
            phase: TimeoutPhase::Read
        }
        .is_retryable());
        assert!(!FetchError::TooLarge { limit: 1 }.is_retryable());
    }

    #[test]
    fn reason_lists_the_causes() {
        let wrapped = FetchError::GaveUp {
            attempts: 3,
            last: Box::new(FetchError::Status {
                code: 503,
                url: url(),
                retry_after: None,
            }),
        };
        assert_eq!(
            wrapped.reason(),
            "gave up after 3 attempts: HTTP 503 from http://example.org/a.jpg"
        );
    }

    #[test]
    fn messages_say_what_happened() {
        let err = FetchError::RobotsDisallowed { url: url() };
        assert_eq!(
            err.to_string(),
            "robots.txt of http://example.org disallows http://example.org/a.jpg"
        );
        let err = FetchError::Timeout {
            phase: TimeoutPhase::Read,
        };
        assert_eq!(err.to_string(), "timed out during reading the body");
    }
}
