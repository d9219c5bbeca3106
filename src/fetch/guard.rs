//! The SSRF guard: which addresses the fetcher may connect to.
//!
//! By default loopback, private, link-local (including the cloud metadata
//! address 169.254.169.254), CGNAT, multicast, unspecified, reserved and
//! documentation ranges are refused — also when hidden inside IPv4-mapped,
//! IPv4-compatible, NAT64 or 6to4 IPv6 addresses. Literal IP URLs are checked
//! before connecting ([`AddressPolicy::check_url`]); host names are checked at
//! connection time by the DNS resolver ([`GuardedResolver`]), on every
//! resolved address, so a redirect or DNS rebinding cannot slip past.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// A connection refused by the guard: which host, which address, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refused to connect to {host} ({addr}): {reason} address")]
pub struct BlockedAddress {
    /// Host name or literal of the URL.
    pub host: String,
    /// The address refused.
    pub addr: IpAddr,
    /// The kind of range, e.g. `loopback`, `private`, `link-local`.
    pub reason: &'static str,
}

/// Why an address is not public, or `None` when it is an ordinary global one.
pub fn non_public_reason(addr: IpAddr) -> Option<&'static str> {
    match addr {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(addr: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = addr.octets();
    match (a, b, c) {
        (0, _, _) => Some("unspecified"),
        (127, _, _) => Some("loopback"),
        (10, _, _) => Some("private"),
        (172, 16..=31, _) => Some("private"),
        (192, 168, _) => Some("private"),
        (169, 254, _) => Some("link-local"),
        (100, 64..=127, _) => Some("shared (CGNAT)"),
        (192, 0, 0) => Some("reserved"),
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Some("documentation"),
        (198, 18..=19, _) => Some("benchmarking"),
        (224..=239, _, _) => Some("multicast"),
        (240..=255, _, _) => Some("reserved"),
        _ => None,
    }
}

fn v6_reason(addr: Ipv6Addr) -> Option<&'static str> {
    if addr.is_unspecified() {
        return Some("unspecified");
    }
    if addr.is_loopback() {
        return Some("loopback");
    }
    if let Some(embedded) = embedded_v4(addr) {
        return v4_reason(embedded);
    }
    let segments = addr.segments();
    if segments[0] & 0xfe00 == 0xfc00 {
        Some("private (unique local)")
    } else if segments[0] & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else if segments[0] & 0xffc0 == 0xfec0 {
        Some("site-local")
    } else if segments[0] & 0xff00 == 0xff00 {
        Some("multicast")
    } else if segments[0] == 0x2001 && segments[1] == 0x0db8 {
        Some("documentation")
    } else if segments[..4] == [0x0100, 0, 0, 0] {
        Some("discard-only")
    } else {
        None
    }
}

/// The IPv4 address carried inside an IPv6 one: IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`) or 6to4 (`2002::/16`).
fn embedded_v4(addr: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = addr.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    let mapped_or_compatible = s[..5] == [0, 0, 0, 0, 0] && (s[5] == 0xffff || s[5] == 0);
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    if mapped_or_compatible || nat64 {
        Some(low)
    } else if s[0] == 0x2002 {
        Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ))
    } else {
        None
    }
}

/// Which addresses may be connected to.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    /// Allow every address (tests, intranets).
    pub allow_private: bool,
    /// Networks allowed even when `allow_private` is off.
    pub allowed_networks: Vec<IpNet>,
}

impl AddressPolicy {
    /// Checks one address about to be connected to for `host`.
    pub fn check(&self, host: &str, addr: IpAddr) -> Result<(), BlockedAddress> {
        if self.allow_private || self.allowed_networks.iter().any(|n| n.contains(&addr)) {
            return Ok(());
        }
        match non_public_reason(addr) {
            None => Ok(()),
            Some(reason) => Err(BlockedAddress {
                host: host.to_owned(),
                addr,
                reason,
            }),
        }
    }

    /// Checks a URL whose host is a literal IP address (those never reach the
    /// resolver). Host names pass here and are checked by [`GuardedResolver`].
    pub fn check_url(&self, url: &Url) -> Result<(), BlockedAddress> {
        match url.host() {
            Some(Host::Ipv4(v4)) => self.check(&v4.to_string(), IpAddr::V4(v4)),
            Some(Host::Ipv6(v6)) => self.check(&format!("[{v6}]"), IpAddr::V6(v6)),
            Some(Host::Domain(_)) | None => Ok(()),
        }
    }

    /// Keeps the allowed addresses of a resolution; the first refused one is
    /// the error when none is left.
    pub fn filter(
        &self,
        host: &str,
        addrs: impl IntoIterator<Item = SocketAddr>,
    ) -> Result<Vec<SocketAddr>, BlockedAddress> {
        let mut allowed = Vec::new();
        let mut first_refusal = None;
        for addr in addrs {
            match self.check(host, addr.ip()) {
                Ok(()) => allowed.push(addr),
                Err(refusal) => {
                    tracing::debug!(%refusal, "resolved address refused");
                    first_refusal.get_or_insert(refusal);
                }
            }
        }
        match (allowed.is_empty(), first_refusal) {
            (true, Some(refusal)) => Err(refusal),
            _ => Ok(allowed),
        }
    }
}

/// A DNS resolver for reqwest that resolves with the system resolver and
/// drops every address the [`AddressPolicy`] refuses.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    policy: Arc<AddressPolicy>,
}

impl GuardedResolver {
    /// A resolver enforcing `policy`.
    pub fn new(policy: Arc<AddressPolicy>) -> Self {
        Self { policy }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let allowed = policy.filter(&host, resolved)?;
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(s: &str) -> Option<&'static str> {
        non_public_reason(s.parse().unwrap())
    }

    #[test]
    fn refuses_internal_ipv4_ranges() {
        for addr in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.5",
        ] {
            assert!(reason(addr).is_some(), "{addr} should be refused");
        }
        assert_eq!(reason("169.254.169.254"), Some("link-local"));
    }

    #[test]
    fn accepts_public_ipv4() {
        for addr in [
            "8.8.8.8",
            "172.15.0.1",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "1.1.1.1",
        ] {
            assert_eq!(reason(addr), None, "{addr} is public");
        }
    }

    #[test]
    fn refuses_internal_ipv6_and_embedded_ipv4() {
        for addr in [
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "fec0::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "::101",
            "64:ff9b::7f00:1",
            "2002:7f00:1::1",
            "2001:db8::1",
        ] {
            assert!(reason(addr).is_some(), "{addr} should be refused");
        }
        assert_eq!(reason("::ffff:127.0.0.1"), Some("loopback"));
    }

    #[test]
    fn accepts_public_ipv6() {
        for addr in [
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert_eq!(reason(addr), None, "{addr} is public");
        }
    }

    #[test]
    fn literal_urls_are_checked() {
        let policy = AddressPolicy::default();
        let err = policy
            .check_url(&Url::parse("http://127.0.0.1:8080/x").unwrap())
            .unwrap_err();
        assert_eq!(err.reason, "loopback");
        // The WHATWG parser normalises odd IPv4 spellings before we see them.
        assert!(policy
            .check_url(&Url::parse("http://2130706433/").unwrap())
            .is_err());
        assert!(policy
            .check_url(&Url::parse("http://0x7f.1/").unwrap())
            .is_err());
        assert!(policy
            .check_url(&Url::parse("http://[::ffff:7f00:1]/").unwrap())
            .is_err());
        assert!(policy
            .check_url(&Url::parse("http://example.org/").unwrap())
            .is_ok());
    }

    #[test]
    fn allow_switches_open_the_guard() {
        let url = Url::parse("http://10.1.2.3/").unwrap();
        let open = AddressPolicy {
            allow_private: true,
            ..Default::default()
        };
        assert!(open.check_url(&url).is_ok());
        let intranet = AddressPolicy {
            allow_private: false,
            allowed_networks: vec!["10.1.0.0/16".parse().unwrap()],
        };
        assert!(intranet.check_url(&url).is_ok());
        assert!(intranet
            .check_url(&Url::parse("http://10.2.0.1/").unwrap())
            .is_err());
    }

    #[test]
    fn filter_keeps_public_addresses_and_reports_refusals() {
        let policy = AddressPolicy::default();
        let public: SocketAddr = "8.8.8.8:80".parse().unwrap();
        let private: SocketAddr = "127.0.0.1:80".parse().unwrap();
        assert_eq!(policy.filter("h", [private, public]).unwrap(), vec![public]);
        let err = policy.filter("h", [private]).unwrap_err();
        assert_eq!(err.addr, private.ip());
    }
}
