//! Per-host concurrency and pauses: one semaphore per host name, created on
//! demand and forgotten when idle so the table stays small over a long
//! scan; a "not before" time per host set by `Retry-After`; and a circuit
//! breaker per host: after a number of throttling answers (429/503) with
//! no success between, the host is given up for the rest of the scan.
//! Processes fetching for one store (workers on many machines) also share
//! each host's slots through [`SharedHostSlots`], so the per-host limit is
//! not multiplied by the number of workers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

/// Above this many remembered hosts, idle ones are dropped.
const PRUNE_ABOVE: usize = 1024;

/// A host's slots shared by every process fetching for one store: each
/// request holds one (of `per_host`) while it runs.
#[async_trait::async_trait]
pub trait SharedHostSlots: Send + Sync + std::fmt::Debug {
    /// Waits for one of `per_host` slots of `host`. `None` when the shared
    /// table cannot be reached: the request then goes on under this
    /// process's own limit alone (and the failure is logged).
    async fn acquire(&self, host: &str, per_host: usize) -> Option<SharedSlot>;
}

/// A shared slot, given back when dropped.
pub struct SharedSlot(Option<Box<dyn FnOnce() + Send>>);

impl SharedSlot {
    /// A slot that `release` gives back.
    pub fn new(release: impl FnOnce() + Send + 'static) -> Self {
        Self(Some(Box::new(release)))
    }
}

impl Drop for SharedSlot {
    fn drop(&mut self) {
        if let Some(release) = self.0.take() {
            release();
        }
    }
}

impl std::fmt::Debug for SharedSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedSlot")
    }
}

/// A request's place at its host: this process's slot and, with shared
/// slots, one of every process's; both are given back when it drops.
#[derive(Debug, Default)]
pub struct HostSlot {
    _local: Option<OwnedSemaphorePermit>,
    _shared: Option<SharedSlot>,
}

/// Limits the requests in flight to each host.
#[derive(Debug)]
pub struct HostLimits {
    per_host: usize,
    shared: Option<Arc<dyn SharedHostSlots>>,
    give_up_after: u32,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    paused_until: Mutex<HashMap<String, Instant>>,
    strikes: Mutex<HashMap<String, u32>>,
}

impl HostLimits {
    /// At most `per_host` requests at once per host (at least 1); a host
    /// is given up after `give_up_after` throttling answers in a row (at
    /// least 1).
    pub fn new(per_host: usize, give_up_after: u32) -> Self {
        Self {
            per_host: per_host.max(1),
            shared: None,
            give_up_after: give_up_after.max(1),
            hosts: Mutex::new(HashMap::new()),
            paused_until: Mutex::new(HashMap::new()),
            strikes: Mutex::new(HashMap::new()),
        }
    }

    /// Also takes a slot of `shared` for every request.
    pub fn shared_with(mut self, shared: Arc<dyn SharedHostSlots>) -> Self {
        self.shared = Some(shared);
        self
    }

    /// Counts a throttling answer from `url`'s host.
    pub fn strike(&self, url: &Url) {
        let mut strikes = self.strikes.lock().unwrap_or_else(|p| p.into_inner());
        *strikes.entry(host_key(url)).or_insert(0) += 1;
    }

    /// A success from `url`'s host: its throttling answers are forgiven
    /// (unless it was already given up).
    pub fn forgive(&self, url: &Url) {
        let mut strikes = self.strikes.lock().unwrap_or_else(|p| p.into_inner());
        let key = host_key(url);
        if strikes.get(&key).is_some_and(|n| *n < self.give_up_after) {
            strikes.remove(&key);
        }
    }

    /// The throttling answers of `url`'s host when it is given up.
    pub fn given_up(&self, url: &Url) -> Option<u32> {
        let strikes = self.strikes.lock().unwrap_or_else(|p| p.into_inner());
        strikes
            .get(&host_key(url))
            .copied()
            .filter(|n| *n >= self.give_up_after)
    }

    /// Waits for a slot for `url`'s host (this process's, then a shared
    /// one), then for the end of any pause of that host; the slot is freed
    /// when it drops.
    pub async fn acquire(&self, url: &Url) -> HostSlot {
        let key = host_key(url);
        let semaphore = self.semaphore_for(&key);
        // The semaphores are never closed, so this only fails in theory.
        let local = semaphore.acquire_owned().await.ok();
        let shared = match &self.shared {
            Some(shared) => shared.acquire(&key, self.per_host).await,
            None => None,
        };
        while let Some(until) = self.pause_of(&key) {
            tokio::time::sleep_until(until.into()).await;
        }
        HostSlot {
            _local: local,
            _shared: shared,
        }
    }

    /// Lets no new request reach `url`'s host before `until`.
    pub fn pause(&self, url: &Url, until: Instant) {
        let mut paused = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        paused.retain(|_, end| *end > now);
        let end = paused.entry(host_key(url)).or_insert(until);
        *end = (*end).max(until);
    }

    /// The end of the current pause of a host, if it is paused.
    fn pause_of(&self, key: &str) -> Option<Instant> {
        let paused = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        paused.get(key).copied().filter(|end| *end > Instant::now())
    }

    fn semaphore_for(&self, key: &str) -> Arc<Semaphore> {
        let mut hosts = self
            .hosts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if hosts.len() > PRUNE_ABOVE {
            let per_host = self.per_host;
            hosts.retain(|_, s| Arc::strong_count(s) > 1 || s.available_permits() < per_host);
        }
        let semaphore = hosts
            .entry(key.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)));
        Arc::clone(semaphore)
    }

    /// How many hosts are remembered (for tests).
    #[cfg(test)]
    pub fn remembered(&self) -> usize {
        self.hosts.lock().map(|h| h.len()).unwrap_or(0)
    }
}

/// The host name of a URL, lower-cased; all ports of a host share its limit.
pub fn host_key(url: &Url) -> String {
    url.host_str().unwrap_or("").to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn slots_are_per_host_and_pruned_when_idle() {
        let limits = HostLimits::new(1, 8);
        let a = Url::parse("http://a.example/1").unwrap();
        let b = Url::parse("http://B.example:8080/2").unwrap();
        let held = limits.acquire(&a).await;
        assert!(held._local.is_some());
        // Another host is not blocked by the first.
        assert!(limits.acquire(&b).await._local.is_some());
        // The same host is blocked while the permit is held.
        let blocked =
            tokio::time::timeout(std::time::Duration::from_millis(50), limits.acquire(&a)).await;
        assert!(blocked.is_err());
        drop(held);
        assert!(limits.acquire(&a).await._local.is_some());
        for i in 0..(PRUNE_ABOVE + 10) {
            let url = Url::parse(&format!("http://h{i}.example/")).unwrap();
            drop(limits.acquire(&url).await);
        }
        assert!(limits.remembered() <= PRUNE_ABOVE + 1);
    }

    #[test]
    fn a_host_is_given_up_after_throttling_in_a_row_and_a_success_forgives() {
        let limits = HostLimits::new(4, 3);
        let slow = Url::parse("http://slow.example/a").unwrap();
        let other = Url::parse("http://other.example/a").unwrap();
        limits.strike(&slow);
        limits.strike(&slow);
        limits.forgive(&slow);
        limits.strike(&slow);
        limits.strike(&slow);
        assert_eq!(limits.given_up(&slow), None, "a success between");
        limits.strike(&slow);
        assert_eq!(limits.given_up(&slow), Some(3));
        limits.forgive(&slow);
        assert_eq!(limits.given_up(&slow), Some(3), "given up for good");
        assert_eq!(limits.given_up(&other), None);
    }

    #[tokio::test]
    async fn a_paused_host_waits_and_others_do_not() {
        let limits = HostLimits::new(4, 8);
        let paused = Url::parse("http://slow.example/").unwrap();
        let other = Url::parse("http://fast.example/").unwrap();
        let start = Instant::now();
        limits.pause(&paused, start + std::time::Duration::from_millis(150));
        drop(limits.acquire(&other).await);
        assert!(start.elapsed() < std::time::Duration::from_millis(100));
        drop(limits.acquire(&paused).await);
        assert!(start.elapsed() >= std::time::Duration::from_millis(150));
    }
}
