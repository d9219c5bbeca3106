//! One HTTP policy for everything provenance sends — the fetcher, the search
//! APIs, the model hub: one way to build a client ([`client`], always with
//! our `User-Agent` and explicit timeouts), one retry and back-off policy
//! ([`RetryPolicy`], honouring `Retry-After`), one capped body reader
//! ([`body::read_body`]).
//!
//! What differs between callers is a setting, not code: the fetcher adds its
//! SSRF-guarded resolver and follows redirects by hand; API clients keep
//! reqwest's redirects and the system proxy.

pub mod body;
pub mod retry;

use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Name, Resolve, Resolving};
use reqwest::redirect;

pub use body::{read_body, Body, BodyError, Overflow};
pub use retry::{parse_retry_after, retry_after, RetryDecision, RetryPolicy};

/// The product token provenance identifies itself with, also the name
/// matched against `User-agent:` lines of robots.txt and `X-Robots-Tag`
/// prefixes.
pub const PRODUCT_TOKEN: &str = "provenance";

/// The `User-Agent` value, with a contact (URL or e-mail) site owners can
/// reach when one is given, e.g. `provenance/0.1.0 (+mailto:me@example.org)`.
pub fn user_agent(contact: Option<&str>) -> String {
    let version = env!("CARGO_PKG_VERSION");
    match contact.map(str::trim).filter(|c| !c.is_empty()) {
        Some(contact) => format!("{PRODUCT_TOKEN}/{version} (+{contact})"),
        None => format!("{PRODUCT_TOKEN}/{version} (image provenance scanner)"),
    }
}

/// How a client is built. Start from [`ClientOptions::new`] and change
/// what the caller needs.
#[derive(Clone)]
pub struct ClientOptions {
    /// `User-Agent` header.
    pub user_agent: String,
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Longest silence while reading (`None`: none beyond the total).
    pub read_timeout: Option<Duration>,
    /// Upper bound on one request, body included (`None`: the caller
    /// bounds it).
    pub total_timeout: Option<Duration>,
    /// Follow redirects inside reqwest (API clients) or not at all (the
    /// fetcher follows them by hand so every hop is checked).
    pub follow_redirects: bool,
    /// Resolves host names, e.g. the fetcher's SSRF guard. With one, no
    /// proxy is used: a proxy would resolve names out of the guard's sight.
    pub resolver: Option<Arc<dyn Resolve>>,
    /// Idle connections kept per host.
    pub idle_per_host: Option<usize>,
}

impl ClientOptions {
    /// Our `User-Agent`, 15 s to connect, no other bound, reqwest's
    /// redirects, the system's resolver and proxy.
    pub fn new(user_agent: String) -> Self {
        Self {
            user_agent,
            connect_timeout: Duration::from_secs(15),
            read_timeout: None,
            total_timeout: None,
            follow_redirects: true,
            resolver: None,
            idle_per_host: None,
        }
    }
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("user_agent", &self.user_agent)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("total_timeout", &self.total_timeout)
            .field("follow_redirects", &self.follow_redirects)
            .field("resolver", &self.resolver.is_some())
            .finish_non_exhaustive()
    }
}

/// Builds a client (gzip on, HTTP/2 where offered).
pub fn client(options: ClientOptions) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .user_agent(options.user_agent)
        .connect_timeout(options.connect_timeout)
        .gzip(true);
    if let Some(timeout) = options.read_timeout {
        builder = builder.read_timeout(timeout);
    }
    if let Some(timeout) = options.total_timeout {
        builder = builder.timeout(timeout);
    }
    if !options.follow_redirects {
        builder = builder.redirect(redirect::Policy::none());
    }
    if let Some(resolver) = options.resolver {
        builder = builder
            .dns_resolver(Arc::new(SharedResolver(resolver)))
            .no_proxy();
    }
    if let Some(idle) = options.idle_per_host {
        builder = builder.pool_max_idle_per_host(idle);
    }
    builder.build()
}

/// A resolver behind a trait object, as reqwest wants a sized one.
struct SharedResolver(Arc<dyn Resolve>);

impl Resolve for SharedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        self.0.resolve(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_names_the_contact() {
        let ua = user_agent(Some("mailto:me@example.org"));
        assert!(ua.starts_with("provenance/"));
        assert!(ua.ends_with("(+mailto:me@example.org)"));
        assert!(!user_agent(Some("  ")).contains('+'));
        assert!(user_agent(None).ends_with("(image provenance scanner)"));
    }

    #[test]
    fn options_debug_hides_nothing_secret_and_builds() {
        let options = ClientOptions::new(user_agent(None));
        assert!(format!("{options:?}").contains("provenance/"));
        client(options).expect("a default client builds");
    }
}
