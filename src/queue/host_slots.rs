//! Each host's request slots in PostgreSQL, shared by every worker: a
//! request takes one of the host's `per_host` rows in `host_slots` and
//! gives it back when it ends. Each row is a lease its worker renews while
//! it lives ([`PgHostSlots::keep_alive`]), so a dead worker's slots come
//! free by themselves within one lease, however long its requests were.
//! With it, `--per-host` holds for all workers together, not for each.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::PgPool;

use crate::fetch::{SharedHostSlots, SharedSlot};

/// How long to wait before asking again when every slot is taken.
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// The host slots table, for one worker.
#[derive(Debug, Clone)]
pub struct PgHostSlots {
    pool: PgPool,
    holder: String,
    lease: Duration,
    /// The holder names of the slots this process holds now (one per
    /// request: `HOLDER#N`): only these are renewed, so a slot whose
    /// release failed (the database away) still ends with its lease.
    held: Arc<Mutex<HashSet<String>>>,
    taken: Arc<AtomicU64>,
}

impl PgHostSlots {
    /// Slots taken by `holder` (this worker process's name, unique), each
    /// leased for `lease` and renewed by [`Self::keep_alive`] while held.
    pub fn new(pool: PgPool, holder: String, lease: Duration) -> Self {
        Self {
            pool,
            holder,
            lease,
            held: Arc::default(),
            taken: Arc::default(),
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Renews the slots this process holds three times a lease (until
    /// the task is aborted).
    pub fn keep_alive(&self) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(this.lease / 3);
            loop {
                tick.tick().await;
                let held: Vec<String> = this.held().iter().cloned().collect();
                if held.is_empty() {
                    continue;
                }
                let renewed = sqlx::query(
                    "UPDATE host_slots SET expires_at = now() + make_interval(secs => $2)
                     WHERE holder = ANY($1)",
                )
                .bind(&held)
                .bind(this.lease.as_secs_f64())
                .execute(&this.pool)
                .await;
                if let Err(e) = renewed {
                    tracing::warn!(error = %e, "cannot renew this worker's host slots");
                }
            }
        })
    }

    /// Takes a free (or expired) slot of `host` for `holder`, if one is.
    async fn try_take(
        &self,
        host: &str,
        per_host: usize,
        holder: &str,
    ) -> Result<Option<i32>, sqlx::Error> {
        // Two takers may pick the same free slot; the loser's upsert finds
        // it taken and unexpired, returns nothing, and it asks again.
        sqlx::query_scalar(
            "WITH free AS (
                 SELECT s AS slot FROM generate_series(0, $2 - 1) s
                 WHERE NOT EXISTS (SELECT 1 FROM host_slots h
                                   WHERE h.host = $1 AND h.slot = s AND h.expires_at > now())
                 ORDER BY random() LIMIT 1)
             INSERT INTO host_slots (host, slot, holder, expires_at)
             SELECT $1, slot, $3, now() + make_interval(secs => $4) FROM free
             ON CONFLICT (host, slot) DO UPDATE
                 SET holder = excluded.holder, expires_at = excluded.expires_at
                 WHERE host_slots.expires_at <= now()
             RETURNING slot",
        )
        .bind(host)
        .bind(per_host as i32)
        .bind(holder)
        .bind(self.lease.as_secs_f64())
        .fetch_optional(&self.pool)
        .await
    }

    fn release(&self, host: String, slot: i32, holder: String) {
        // No longer renewed, whether the delete below works or not.
        self.held().remove(&holder);
        let pool = self.pool.clone();
        let release = async move {
            let freed =
                sqlx::query("DELETE FROM host_slots WHERE host = $1 AND slot = $2 AND holder = $3")
                    .bind(&host)
                    .bind(slot)
                    .bind(&holder)
                    .execute(&pool)
                    .await;
            if let Err(e) = freed {
                tracing::warn!(%host, error = %e, "cannot give a host slot back; it frees itself when its lease ends");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(release)),
            Err(_) => tracing::debug!("no runtime to give a host slot back; its lease ends it"),
        }
    }
}

#[async_trait::async_trait]
impl SharedHostSlots for PgHostSlots {
    async fn acquire(&self, host: &str, per_host: usize) -> Option<SharedSlot> {
        let n = self.taken.fetch_add(1, Ordering::Relaxed);
        let holder = format!("{}#{n}", self.holder);
        loop {
            match self.try_take(host, per_host.max(1), &holder).await {
                Ok(Some(slot)) => {
                    self.held().insert(holder.clone());
                    let this = self.clone();
                    let host = host.to_owned();
                    return Some(SharedSlot::new(move || this.release(host, slot, holder)));
                }
                Ok(None) => tokio::time::sleep(RETRY_PAUSE).await,
                Err(e) => {
                    tracing::warn!(%host, error = %e, "cannot reach the shared host slots; this worker's own limit holds alone");
                    return None;
                }
            }
        }
    }
}
