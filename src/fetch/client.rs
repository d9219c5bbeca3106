//! The [`Fetcher`]: one HTTP client shared by every request, global and
//! per-host concurrency limits, redirects followed by hand so the SSRF guard
//! and robots.txt see every hop, and retries with back-off (a `Retry-After`
//! pauses the whole host).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, ACCEPT, IF_MODIFIED_SINCE, IF_NONE_MATCH, LOCATION};
use reqwest::{Response, StatusCode};
use tokio::sync::Semaphore;
use url::Url;

use super::error::{FetchError, TimeoutPhase};
use super::guard::{AddressPolicy, BlockedAddress, GuardedResolver};
use super::headers::RobotsTag;
use super::limits::{host_key, HostLimits, HostSlot, SharedHostSlots};
use super::page::{html_verdict, HtmlVerdict};
use super::robots_cache::{RobotsCache, RobotsVerdict};
use super::settings::FetchSettings;
use crate::http::{self, read_body, Body, ClientOptions, Overflow, RetryDecision, PRODUCT_TOKEN};

/// What is being fetched: decides the `Accept` header, the cap and the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An image: capped hard, `noimageai` honoured.
    Image,
    /// An HTML page: truncated at the cap.
    Page,
    /// A robots.txt: never checked against robots.txt itself.
    Robots,
}

impl Kind {
    fn accept(self) -> &'static str {
        match self {
            Self::Image => "image/avif,image/webp,image/png,image/jpeg,image/*;q=0.8,*/*;q=0.5",
            Self::Page => "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
            Self::Robots => "text/plain,*/*;q=0.5",
        }
    }
}

/// A successful response with its body read.
#[derive(Debug)]
pub(crate) struct Downloaded {
    pub final_url: Url,
    pub headers: HeaderMap,
    pub body: Body,
    /// A conditional request answered `304 Not Modified` (the body is empty).
    pub not_modified: bool,
}

/// What a client holds of an earlier answer, to ask only for a change
/// (`If-None-Match`, `If-Modified-Since`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// The `ETag` the server sent.
    pub etag: Option<String>,
    /// Its `Last-Modified`.
    pub last_modified: Option<chrono::DateTime<chrono::Utc>>,
}

impl Validators {
    /// True when there is nothing to make a request conditional with.
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

#[derive(Debug)]
pub(super) struct Inner {
    client: reqwest::Client,
    pub(super) settings: FetchSettings,
    policy: Arc<AddressPolicy>,
    global: Semaphore,
    hosts: HostLimits,
    pub(super) robots: RobotsCache,
}

/// Fetches images and pages politely and safely. Cheap to clone: clones
/// share one client, one robots.txt cache and the same limits.
#[derive(Debug, Clone)]
pub struct Fetcher {
    pub(super) inner: Arc<Inner>,
}

impl Fetcher {
    /// Builds the fetcher and its HTTP client.
    pub fn new(settings: FetchSettings) -> Result<Self, FetchError> {
        Self::build(settings, None)
    }

    /// [`Self::new`], sharing each host's slots with other processes (the
    /// workers of a queued scan), so the per-host limit holds for all of
    /// them together.
    pub fn sharing_hosts(
        settings: FetchSettings,
        shared: Arc<dyn SharedHostSlots>,
    ) -> Result<Self, FetchError> {
        Self::build(settings, Some(shared))
    }

    fn build(
        settings: FetchSettings,
        shared: Option<Arc<dyn SharedHostSlots>>,
    ) -> Result<Self, FetchError> {
        let policy = Arc::new(AddressPolicy {
            allow_private: settings.allow_private_addresses,
            allowed_networks: settings.allowed_networks.clone(),
        });
        let client = http::client(ClientOptions {
            connect_timeout: settings.connect_timeout,
            // Redirects are followed by hand, so the guard and robots.txt
            // see every hop; the guard resolves every name.
            follow_redirects: false,
            resolver: Some(Arc::new(GuardedResolver::new(Arc::clone(&policy)))),
            idle_per_host: Some(settings.per_host_concurrency.max(1)),
            ..ClientOptions::new(settings.user_agent.clone())
        })
        .map_err(FetchError::Client)?;
        let inner = Inner {
            client,
            global: Semaphore::new(settings.concurrency.max(1)),
            hosts: match shared {
                Some(shared) => {
                    HostLimits::new(settings.per_host_concurrency, settings.host_strikes)
                        .shared_with(shared)
                }
                None => HostLimits::new(settings.per_host_concurrency, settings.host_strikes),
            },
            policy,
            robots: Mutex::new(HashMap::new()),
            settings,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The settings in force.
    pub fn settings(&self) -> &FetchSettings {
        &self.inner.settings
    }

    /// Fetches `url` with retries. Waits for a slot of the host first, then
    /// for a global one, so requests queued for a busy host do not hold
    /// global slots; time spent queued is not counted by the timeouts.
    pub(crate) async fn download(&self, url: &Url, kind: Kind) -> Result<Downloaded, FetchError> {
        self.download_if(url, kind, &Validators::default()).await
    }

    /// [`Self::download`], asking only for a change when `validators` hold
    /// something (a `304` comes back as `not_modified`).
    pub(crate) async fn download_if(
        &self,
        url: &Url,
        kind: Kind,
        validators: &Validators,
    ) -> Result<Downloaded, FetchError> {
        check_scheme(url)?;
        let settings = &self.inner.settings;
        let mut attempt = 0;
        loop {
            let result = {
                let host_slot = self.inner.hosts.acquire(url).await;
                self.check_host(url)?;
                let _global_slot = self.inner.global.acquire().await.ok();
                let attempt = self.attempt(url, kind, host_slot, validators);
                tokio::time::timeout(settings.total_timeout, attempt)
                    .await
                    .unwrap_or(Err(FetchError::Timeout {
                        phase: TimeoutPhase::Total,
                    }))
            };
            let error = match result {
                Ok(downloaded) => {
                    self.inner.hosts.forgive(url);
                    return Ok(downloaded);
                }
                Err(error) => error,
            };
            if error.is_throttle() {
                self.inner.hosts.strike(url);
                self.check_host(url)?;
            }
            if !error.is_retryable() {
                return Err(error);
            }
            let retry_after = match &error {
                FetchError::Status { retry_after, .. } => *retry_after,
                _ => None,
            };
            match settings.retry.decide(attempt, retry_after) {
                RetryDecision::After(pause) if retry_after.is_some() => {
                    // The server asked the whole host to slow down.
                    tracing::debug!(%url, %error, ?pause, attempt, "host paused by Retry-After");
                    self.inner.hosts.pause(url, Instant::now() + pause);
                }
                RetryDecision::After(pause) => {
                    tracing::debug!(%url, %error, ?pause, attempt, "retrying");
                    tokio::time::sleep(pause).await;
                }
                RetryDecision::GiveUp if attempt == 0 => return Err(error),
                RetryDecision::GiveUp => {
                    return Err(FetchError::GaveUp {
                        attempts: attempt + 1,
                        last: Box::new(error),
                    })
                }
                RetryDecision::TooLongRequested(retry_after) => {
                    return Err(FetchError::RateLimited {
                        url: url.clone(),
                        retry_after,
                    })
                }
            }
            attempt += 1;
        }
    }

    /// Fails when `url`'s host has been given up for throttling.
    fn check_host(&self, url: &Url) -> Result<(), FetchError> {
        match self.inner.hosts.given_up(url) {
            Some(strikes) => Err(FetchError::HostGivenUp {
                host: host_key(url),
                strikes,
            }),
            None => Ok(()),
        }
    }

    /// One attempt: follows redirects by hand, checking every hop against
    /// the SSRF guard and robots.txt, and taking a slot of each new host.
    pub(super) async fn attempt(
        &self,
        start: &Url,
        kind: Kind,
        mut host_slot: HostSlot,
        validators: &Validators,
    ) -> Result<Downloaded, FetchError> {
        let settings = &self.inner.settings;
        let mut url = start.clone();
        let mut slot_host = host_key(start);
        for _hop in 0..=settings.max_redirects {
            self.inner.policy.check_url(&url)?;
            if kind != Kind::Robots && host_key(&url) != slot_host {
                drop(std::mem::take(&mut host_slot));
                host_slot = self.inner.hosts.acquire(&url).await;
                slot_host = host_key(&url);
            }
            if kind != Kind::Robots && settings.respect_robots_txt {
                match self.robots_verdict(&url).await {
                    RobotsVerdict::Allowed => {}
                    RobotsVerdict::Disallowed => return Err(FetchError::RobotsDisallowed { url }),
                    RobotsVerdict::Unreachable => {
                        return Err(FetchError::RobotsUnreachable { url })
                    }
                }
            }
            let response = self.send(&url, kind, validators).await?;
            if let Some(next) = redirect_target(&url, &response)? {
                tracing::debug!(from = %url, to = %next, "redirect");
                url = next;
                continue;
            }
            return self.receive(url, response, kind).await;
        }
        Err(FetchError::TooManyRedirects {
            limit: settings.max_redirects,
        })
    }

    /// Sends the request and waits for the response headers.
    async fn send(
        &self,
        url: &Url,
        kind: Kind,
        validators: &Validators,
    ) -> Result<Response, FetchError> {
        let settings = &self.inner.settings;
        let mut request = self
            .inner
            .client
            .get(url.clone())
            .header(ACCEPT, kind.accept());
        if let Some(etag) = &validators.etag {
            request = request.header(IF_NONE_MATCH, etag.as_str());
        }
        if let Some(at) = validators.last_modified {
            let when = httpdate::fmt_http_date(std::time::SystemTime::from(at));
            request = request.header(IF_MODIFIED_SINCE, when);
        }
        let wait = settings.connect_timeout + settings.read_timeout;
        match tokio::time::timeout(wait, request.send()).await {
            Err(_) => Err(FetchError::Timeout {
                phase: TimeoutPhase::Headers,
            }),
            Ok(Err(error)) => Err(classify_send_error(url, error)),
            Ok(Ok(response)) => Ok(response),
        }
    }

    /// Checks status and `X-Robots-Tag`, then reads the body under its cap.
    async fn receive(
        &self,
        url: Url,
        response: Response,
        kind: Kind,
    ) -> Result<Downloaded, FetchError> {
        let settings = &self.inner.settings;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Downloaded {
                final_url: url,
                headers: response.headers().clone(),
                body: Body {
                    bytes: Default::default(),
                    sha256: [0; 32],
                    truncated: false,
                },
                not_modified: true,
            });
        }
        if !status.is_success() {
            let retry_after = retry_after(response.headers(), status);
            return Err(FetchError::Status {
                code: status.as_u16(),
                url,
                retry_after,
            });
        }
        if settings.respect_x_robots_tag && kind != Kind::Robots {
            let tag = RobotsTag::from_headers(response.headers(), PRODUCT_TOKEN);
            let forbidden = if kind == Kind::Image {
                tag.forbids_image()
            } else {
                tag.forbids_page()
            };
            if let Some(directive) = forbidden {
                return Err(FetchError::NoAiTag { url, directive });
            }
        }
        if kind == Kind::Page {
            let content_type = super::headers::content_type(response.headers());
            if html_verdict(content_type.as_deref()) == HtmlVerdict::NotHtml {
                return Err(FetchError::NotHtml { content_type });
            }
        }
        let (limit, overflow) = match kind {
            Kind::Image => (settings.max_image_bytes, Overflow::Fail),
            Kind::Page => (settings.max_page_bytes, Overflow::Truncate),
            Kind::Robots => (settings.max_robots_bytes, Overflow::Truncate),
        };
        let headers = response.headers().clone();
        let body = read_body(response, limit, overflow, settings.read_timeout)
            .await
            .map_err(|e| FetchError::from_body(&url, e))?;
        Ok(Downloaded {
            final_url: url,
            headers,
            body,
            not_modified: false,
        })
    }
}

/// Only `http` and `https` URLs with a host are fetched.
fn check_scheme(url: &Url) -> Result<(), FetchError> {
    let reason = match url.scheme() {
        "http" | "https" if url.host().is_some() => return Ok(()),
        "http" | "https" => "no host",
        _ => "only http and https are fetched",
    };
    Err(FetchError::InvalidUrl {
        url: url.to_string(),
        reason,
    })
}

/// The next URL when `response` is a redirect.
fn redirect_target(url: &Url, response: &Response) -> Result<Option<Url>, FetchError> {
    let status = response.status();
    if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
        return Ok(None);
    }
    let invalid = |reason| FetchError::InvalidUrl {
        url: url.to_string(),
        reason,
    };
    let location = response
        .headers()
        .get(LOCATION)
        .ok_or_else(|| invalid("redirect without Location"))?;
    let location = location
        .to_str()
        .map_err(|_| invalid("unreadable redirect Location"))?;
    let next = url
        .join(location)
        .map_err(|_| invalid("invalid redirect Location"))?;
    check_scheme(&next)?;
    Ok(Some(next))
}

/// `Retry-After` of a 429 or 503.
fn retry_after(headers: &HeaderMap, status: StatusCode) -> Option<Duration> {
    if !matches!(status.as_u16(), 429 | 503) {
        return None;
    }
    http::retry_after(headers)
}

/// Turns a transport error into a typed one, finding the guard's refusal
/// inside the resolver error when that is the cause.
fn classify_send_error(url: &Url, error: reqwest::Error) -> FetchError {
    if let Some(blocked) = find_blocked(&error) {
        return FetchError::BlockedAddress(blocked.clone());
    }
    if error.is_timeout() {
        let phase = if error.is_connect() {
            TimeoutPhase::Connect
        } else {
            TimeoutPhase::Headers
        };
        return FetchError::Timeout { phase };
    }
    if error.is_connect() {
        return FetchError::Connect {
            url: url.clone(),
            source: error,
        };
    }
    FetchError::Transfer {
        url: url.clone(),
        source: error,
    }
}

fn find_blocked<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e BlockedAddress> {
    let mut current: Option<&'e (dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = current {
        if let Some(blocked) = cause.downcast_ref::<BlockedAddress>() {
            return Some(blocked);
        }
        current = cause.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https() {
        assert!(check_scheme(&Url::parse("https://example.org/a.jpg").unwrap()).is_ok());
        for bad in [
            "file:///etc/passwd",
            "ftp://example.org/x",
            "data:image/png;base64,AAAA",
            "gopher://x/",
        ] {
            let err = check_scheme(&Url::parse(bad).unwrap()).unwrap_err();
            assert_eq!(err.stage(), crate::model::Stage::Url, "{bad}");
        }
    }

    #[test]
    fn retry_after_only_for_429_and_503() {
        let mut headers = HeaderMap::new();
        headers.insert(reqwest::header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(
            retry_after(&headers, StatusCode::TOO_MANY_REQUESTS),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers, StatusCode::SERVICE_UNAVAILABLE),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers, StatusCode::INTERNAL_SERVER_ERROR),
            None
        );
    }
}
