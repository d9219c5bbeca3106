//! When to try a request again, for every HTTP call provenance makes
//! (fetcher, search APIs, model hub): exponential back-off with jitter, and
//! a server's `Retry-After` (delay in seconds or an HTTP date) honoured up to
//! a limit. Pure functions, so the rules are unit-tested without a clock or
//! a network.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// What to do after a failed attempt that may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Sleep this long, then try again.
    After(Duration),
    /// Stop now: attempts are used up.
    GiveUp,
    /// Stop now: the server asked for a longer pause than we are willing to wait.
    TooLongRequested(Duration),
}

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 = never retry).
    pub retries: u32,
    /// Wait before the first retry; doubled for each further one, with jitter.
    pub base: Duration,
    /// No single wait is longer; a `Retry-After` asking for more gives up
    /// at once rather than hammer the server.
    pub max: Duration,
}

impl Default for RetryPolicy {
    /// 2 retries (3 attempts), 0.5 s doubling up to 30 s.
    fn default() -> Self {
        Self {
            retries: 2,
            base: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Decides about retry number `attempt` (0-based), given the server's
    /// `Retry-After` if it sent one.
    pub fn decide(&self, attempt: u32, retry_after: Option<Duration>) -> RetryDecision {
        decide(attempt, self.retries, retry_after, self.base, self.max)
    }
}

/// The back-off before retry number `attempt` (0 = first retry): the base
/// doubled per attempt, capped at `max`, then scaled into `[½, 1]` of itself
/// by `jitter` (a number in `[0, 1]`) so a crowd of clients does not retry
/// in lock-step.
pub fn backoff_delay(base: Duration, max: Duration, attempt: u32, jitter: f64) -> Duration {
    let factor = 2u32.saturating_pow(attempt.min(30));
    let full = base.saturating_mul(factor).min(max);
    full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

/// Decides about retry number `attempt` (0-based) out of `retries`, given a
/// server's `Retry-After` if it sent one. A requested pause up to
/// `backoff_max` is honoured exactly; a longer one ends the fetch politely.
fn decide(
    attempt: u32,
    retries: u32,
    retry_after: Option<Duration>,
    base: Duration,
    backoff_max: Duration,
) -> RetryDecision {
    if attempt >= retries {
        return RetryDecision::GiveUp;
    }
    match retry_after {
        Some(wait) if wait > backoff_max => RetryDecision::TooLongRequested(wait),
        Some(wait) => RetryDecision::After(wait),
        None => RetryDecision::After(backoff_delay(base, backoff_max, attempt, random_unit())),
    }
}

/// Parses a `Retry-After` value: delay seconds (`120`) or an HTTP date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`), relative to `now`. A date in the past
/// means "now".
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The `Retry-After` header of a response, relative to now.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, SystemTime::now())
}

/// A random number in `[0, 1)` for jitter, from the standard library's
/// randomly keyed hasher (no RNG dependency; jitter needs no quality).
fn random_unit() -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(0x5eed);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_delay(MS(100), MS(10_000), 0, 1.0), MS(100));
        assert_eq!(backoff_delay(MS(100), MS(10_000), 3, 1.0), MS(800));
        assert_eq!(backoff_delay(MS(100), MS(1_000), 10, 1.0), MS(1_000));
        assert_eq!(backoff_delay(MS(100), MS(1_000), u32::MAX, 1.0), MS(1_000));
    }

    #[test]
    fn jitter_keeps_delay_between_half_and_full() {
        assert_eq!(backoff_delay(MS(100), MS(10_000), 2, 0.0), MS(200));
        let delay = backoff_delay(MS(100), MS(10_000), 2, random_unit());
        assert!(delay >= MS(200) && delay <= MS(400), "{delay:?}");
    }

    #[test]
    fn random_unit_varies() {
        let draws: Vec<f64> = (0..16).map(|_| random_unit()).collect();
        assert!(draws.iter().all(|x| (0.0..1.0).contains(x)));
        assert!(draws.windows(2).any(|w| w[0] != w[1]));
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn retry_after_header() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, " 12 ".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(12)));
        headers.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn the_policy_gives_up_after_its_retries() {
        let policy = RetryPolicy {
            retries: 1,
            base: MS(10),
            max: MS(100),
        };
        assert!(matches!(policy.decide(0, None), RetryDecision::After(_)));
        assert_eq!(policy.decide(1, None), RetryDecision::GiveUp);
        assert_eq!(
            policy.decide(0, Some(MS(500))),
            RetryDecision::TooLongRequested(MS(500))
        );
    }

    #[test]
    fn decisions() {
        let (base, max) = (MS(100), Duration::from_secs(5));
        assert_eq!(decide(2, 2, None, base, max), RetryDecision::GiveUp);
        assert_eq!(
            decide(0, 2, Some(MS(1500)), base, max),
            RetryDecision::After(MS(1500))
        );
        assert_eq!(
            decide(0, 2, Some(Duration::from_secs(3600)), base, max),
            RetryDecision::TooLongRequested(Duration::from_secs(3600))
        );
        assert!(
            matches!(decide(1, 2, None, base, max), RetryDecision::After(d) if d >= MS(100) && d <= MS(200))
        );
    }
}
