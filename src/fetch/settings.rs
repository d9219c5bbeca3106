//! Settings of the fetcher: limits, timeouts, politeness and safety switches,
//! with documented defaults. Plain values; the CLI builds them from flags.

use std::time::Duration;

use ipnet::IpNet;

use crate::http::{self, RetryPolicy};

/// Everything that shapes how the fetcher talks to the web.
///
/// [`FetchSettings::default`] is polite and safe: 32 requests at once, 4 per
/// host, 20 MiB per image, 5 MiB per page, private addresses refused,
/// robots.txt and `X-Robots-Tag: noai` honoured. Bodies are held in memory,
/// so the worst case is `concurrency × max_image_bytes` (640 MiB by default).
#[derive(Debug, Clone, PartialEq)]
pub struct FetchSettings {
    /// `User-Agent` header. Build it with [`http::user_agent`] to include a
    /// contact (URL or e-mail) site owners can reach.
    pub user_agent: String,
    /// Largest image body accepted, counted after content decoding (default 20 MiB).
    pub max_image_bytes: u64,
    /// Largest HTML page read; longer pages are truncated (default 5 MiB).
    pub max_page_bytes: u64,
    /// Time allowed to open the TCP (and TLS) connection (default 10 s).
    pub connect_timeout: Duration,
    /// Longest silence allowed while waiting for response headers or between
    /// two body chunks; defeats slow-loris servers (default 15 s).
    pub read_timeout: Duration,
    /// Upper bound on one attempt: every redirect hop plus the whole body
    /// (default 60 s).
    pub total_timeout: Duration,
    /// Redirects followed before giving up (default 5).
    pub max_redirects: usize,
    /// Retries after a timeout, a 5xx, a 408/429 or a dropped connection
    /// (default 2 retries, so at most 3 attempts; 0.5 s back-off doubling
    /// up to 30 s; a `Retry-After` asking for longer than 30 s gives up at
    /// once rather than hammer the host).
    pub retry: RetryPolicy,
    /// Throttling answers (429/503) one host may give, with no success
    /// between, before its remaining URLs are skipped for the rest of the
    /// scan (default 8).
    pub host_strikes: u32,
    /// Requests in flight at once, all hosts together (default 32).
    pub concurrency: usize,
    /// Requests in flight at once to one host (default 4).
    pub per_host_concurrency: usize,
    /// Connect to loopback, private, link-local, multicast… addresses too.
    /// Off by default: a hostile result list must not make the scanner probe
    /// internal services. Tests on 127.0.0.1 and intranet use turn it on.
    pub allow_private_addresses: bool,
    /// Networks allowed even while `allow_private_addresses` is off,
    /// e.g. one intranet range (default none).
    pub allowed_networks: Vec<IpNet>,
    /// Honour robots.txt (default on).
    pub respect_robots_txt: bool,
    /// Honour `X-Robots-Tag: noai` / `noimageai` (default on).
    pub respect_x_robots_tag: bool,
    /// Largest robots.txt read (RFC 9309 asks for at least 500 KiB).
    pub max_robots_bytes: u64,
}

impl FetchSettings {
    /// Settings for tests and intranets: private addresses allowed.
    pub fn allowing_private_addresses(mut self) -> Self {
        self.allow_private_addresses = true;
        self
    }
}

impl Default for FetchSettings {
    fn default() -> Self {
        Self {
            user_agent: http::user_agent(None),
            max_image_bytes: 20 * 1024 * 1024,
            max_page_bytes: 5 * 1024 * 1024,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(15),
            total_timeout: Duration::from_secs(60),
            max_redirects: 5,
            retry: RetryPolicy::default(),
            host_strikes: 8,
            concurrency: 32,
            per_host_concurrency: 4,
            allow_private_addresses: false,
            allowed_networks: Vec::new(),
            respect_robots_txt: true,
            respect_x_robots_tag: true,
            max_robots_bytes: 512 * 1024,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_safe() {
        let settings = FetchSettings::default();
        assert!(!settings.allow_private_addresses);
        assert!(settings.respect_robots_txt && settings.respect_x_robots_tag);
        assert!(settings.per_host_concurrency <= settings.concurrency);
    }
}
