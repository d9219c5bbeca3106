//! The [`Fetcher`]: one HTTP client shared by every request, global and
//! per-host concurrency limits, redirects followed by hand so the SSRF guard
//! and robots.txt see every hop, retries with back-off, and per-origin
//! robots.txt caching.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, ACCEPT, LOCATION, RETRY_AFTER};
use reqwest::{redirect, Response, StatusCode};
use tokio::sync::{OnceCell, Semaphore};
use url::Url;

use super::body::{read_body, Body, Overflow};
use super::error::{FetchError, TimeoutPhase};
use super::guard::{AddressPolicy, BlockedAddress, GuardedResolver};
use super::headers::RobotsTag;
use super::limits::HostLimits;
use super::page::{html_verdict, HtmlVerdict};
use super::retry::{decide, parse_retry_after, RetryDecision};
use super::robots::RobotsRules;
use super::settings::{FetchSettings, PRODUCT_TOKEN};

/// Above this many cached origins the robots.txt cache starts over.
const ROBOTS_CACHE_LIMIT: usize = 10_000;

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
}

/// The robots.txt rules per origin, each fetched once even when many
/// requests ask at the same time.
type RobotsCache = Mutex<HashMap<String, Arc<OnceCell<Arc<RobotsRules>>>>>;

#[derive(Debug)]
struct Inner {
    client: reqwest::Client,
    settings: FetchSettings,
    policy: Arc<AddressPolicy>,
    global: Semaphore,
    hosts: HostLimits,
    robots: RobotsCache,
}

/// Fetches images and pages politely and safely. Cheap to clone: clones
/// share one client, one robots.txt cache and the same limits.
#[derive(Debug, Clone)]
pub struct Fetcher {
    inner: Arc<Inner>,
}

impl Fetcher {
    /// Builds the fetcher and its HTTP client.
    pub fn new(settings: FetchSettings) -> Result<Self, FetchError> {
        let policy = Arc::new(AddressPolicy {
            allow_private: settings.allow_private_addresses,
            allowed_networks: settings.allowed_networks.clone(),
        });
        let client = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .redirect(redirect::Policy::none())
            .connect_timeout(settings.connect_timeout)
            .dns_resolver(Arc::new(GuardedResolver::new(Arc::clone(&policy))))
            // A proxy would resolve names itself, out of the guard's sight.
            .no_proxy()
            .gzip(true)
            .pool_max_idle_per_host(settings.per_host_concurrency.max(1))
            .build()
            .map_err(FetchError::Client)?;
        let inner = Inner {
            client,
            global: Semaphore::new(settings.concurrency.max(1)),
            hosts: HostLimits::new(settings.per_host_concurrency),
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

    /// Fetches `url` with retries, within the global limit.
    pub(crate) async fn download(&self, url: &Url, kind: Kind) -> Result<Downloaded, FetchError> {
        check_scheme(url)?;
        let settings = &self.inner.settings;
        let mut attempt = 0;
        loop {
            let result = {
                let _slot = self.inner.global.acquire().await.ok();
                tokio::time::timeout(settings.total_timeout, self.attempt(url, kind))
                    .await
                    .unwrap_or(Err(FetchError::Timeout {
                        phase: TimeoutPhase::Total,
                    }))
            };
            let error = match result {
                Ok(downloaded) => return Ok(downloaded),
                Err(error) if !error.is_retryable() => return Err(error),
                Err(error) => error,
            };
            let retry_after = match &error {
                FetchError::Status { retry_after, .. } => *retry_after,
                _ => None,
            };
            match decide(
                attempt,
                settings.retries,
                retry_after,
                settings.backoff_base,
                settings.backoff_max,
            ) {
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

    /// One attempt: follows redirects by hand, checking every hop.
    async fn attempt(&self, start: &Url, kind: Kind) -> Result<Downloaded, FetchError> {
        let settings = &self.inner.settings;
        let mut url = start.clone();
        for _hop in 0..=settings.max_redirects {
            self.inner.policy.check_url(&url)?;
            if kind != Kind::Robots && settings.respect_robots_txt && !self.robots_allow(&url).await
            {
                return Err(FetchError::RobotsDisallowed { url });
            }
            let _host_slot = self.inner.hosts.acquire(&url).await;
            let response = self.send(&url, kind).await?;
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
    async fn send(&self, url: &Url, kind: Kind) -> Result<Response, FetchError> {
        let settings = &self.inner.settings;
        let request = self
            .inner
            .client
            .get(url.clone())
            .header(ACCEPT, kind.accept());
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
        let body = read_body(&url, response, limit, overflow, settings.read_timeout).await?;
        Ok(Downloaded {
            final_url: url,
            headers,
            body,
        })
    }

    /// Whether robots.txt of `url`'s origin allows it (fetched once per origin).
    async fn robots_allow(&self, url: &Url) -> bool {
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
        let rules = cell.get_or_init(|| self.fetch_robots(origin)).await;
        let path = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        rules.is_allowed(&path)
    }

    /// Fetches and parses robots.txt: 2xx → its rules; 4xx → allow all;
    /// 5xx or 429 → disallow all (RFC 9309); unreachable → allow all (the
    /// fetch itself will then fail and be recorded as such).
    async fn fetch_robots(&self, origin: String) -> Arc<RobotsRules> {
        let Ok(robots_url) = Url::parse(&origin).and_then(|o| o.join("/robots.txt")) else {
            return Arc::new(RobotsRules::allow_all());
        };
        let total = self.inner.settings.total_timeout;
        let attempt = Box::pin(self.attempt(&robots_url, Kind::Robots));
        let result =
            tokio::time::timeout(total, attempt)
                .await
                .unwrap_or(Err(FetchError::Timeout {
                    phase: TimeoutPhase::Total,
                }));
        let rules = match result {
            Ok(downloaded) => RobotsRules::parse(
                &String::from_utf8_lossy(&downloaded.body.bytes),
                PRODUCT_TOKEN,
            ),
            Err(FetchError::Status { code, .. }) if code == 429 || code >= 500 => {
                RobotsRules::disallow_all()
            }
            Err(error) => {
                tracing::debug!(%robots_url, %error, "robots.txt unavailable: allowing");
                RobotsRules::allow_all()
            }
        };
        Arc::new(rules)
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
    parse_retry_after(headers.get(RETRY_AFTER)?.to_str().ok()?, SystemTime::now())
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
            assert_eq!(err.stage(), "url", "{bad}");
        }
    }

    #[test]
    fn retry_after_only_for_429_and_503() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
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
