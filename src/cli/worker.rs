//! `provenance worker` and `provenance scan --enqueue`: scans queued in the
//! PostgreSQL store and run by workers on any machine that shares it.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use super::args::{EnqueueArgs, WorkerArgs};
use super::settings::{fetch_settings, scan_options, MIB};
use super::{exit, setup};
use crate::config::{Config, ConfigError, OutputFormat, PostgresUrl, StoreLocation};
use crate::fetch::Fetcher;
use crate::model::NewScan;
use crate::queue::host_slots::PgHostSlots;
use crate::queue::{self, host_slot_lease, ScanQueue, WorkerSettings};
use crate::scan::{self, ScanOptions, Seed, Services};
use crate::store::Store;

/// The PostgreSQL store a queue needs, or why not (exit 2).
fn postgres_of<'a>(config: &'a Config, what: &str) -> anyhow::Result<&'a PostgresUrl> {
    match &config.store {
        StoreLocation::Postgres(url) => Ok(url),
        StoreLocation::Sqlite(_) => Err(ConfigError::Invalid(format!(
            "{what} needs the PostgreSQL store, which workers on other machines share: set DATABASE_URL (the embedded SQLite store belongs to one machine)"
        ))
        .into()),
    }
}

/// `scan … --enqueue`: asks the search now, queues its pictures in
/// batches, prints the scan id.
pub async fn enqueue(
    config: &Config,
    seed: Seed,
    record: NewScan,
    args: &EnqueueArgs,
) -> anyhow::Result<u8> {
    let url = postgres_of(config, "--enqueue")?;
    let queue = ScanQueue::open(url)
        .await
        .with_context(|| format!("cannot open the work queue at {}", config.store))?;
    let found = scan::find(seed)
        .await
        .context("the search failed; nothing was queued")?;
    let enqueued = queue
        .enqueue(&record, &found, args.queue_batch, args.max_attempts)
        .await
        .context("cannot queue the scan")?;
    let mut out = std::io::stdout().lock();
    match config.format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string(&enqueued)?)?,
        OutputFormat::Human => writeln!(
            out,
            "queued scan {}: {} pictures in {} batches; run `provenance worker` where DATABASE_URL reaches this store, follow it with `provenance db status`",
            enqueued.scan_id, enqueued.candidates, enqueued.batches
        )?,
    }
    Ok(exit::SUCCESS)
}

/// `provenance worker`.
pub async fn run_worker(config: &Config, args: WorkerArgs, quiet: bool) -> anyhow::Result<u8> {
    let url = postgres_of(config, "`provenance worker`")?;
    let queue = ScanQueue::open(url)
        .await
        .with_context(|| format!("cannot open the work queue at {}", config.store))?;
    let name = worker_name();
    let pool = queue.pool().clone();
    let settings = fetch_settings(&args.fetch, args.ingest.max_image_mb.saturating_mul(MIB))?;
    let heartbeat = Duration::from_secs(args.heartbeat);
    let slots = PgHostSlots::new(
        pool.clone(),
        name.clone(),
        host_slot_lease(heartbeat, args.missed_heartbeats),
    );
    let renewing = slots.keep_alive();
    let fetcher = Fetcher::sharing_hosts(settings, Arc::new(slots))
        .context("cannot set up the HTTP client")?;
    let embedder = setup::embedder(&args.ingest.model, &config.data_dir, quiet).await?;
    let store: Arc<dyn Store> = Arc::new(queue.into_store());
    let services = Services {
        store,
        fetcher,
        embedder,
    };
    let options = ScanOptions {
        fetch_workers: args.fetch.concurrency,
        ..scan_options(&args.ingest)
    };
    let worker = WorkerSettings {
        name: name.clone(),
        concurrency: args.batches,
        heartbeat,
        missed_heartbeats: args.missed_heartbeats,
        poll_every: Duration::from_secs(args.poll),
        exit_when_idle: args.exit_when_idle,
    };
    let stop = CancellationToken::new();
    let abort = CancellationToken::new();
    let signals = tokio::spawn(watch_signals(stop.clone(), abort.clone(), quiet));
    if !quiet {
        eprintln!("worker {name} waiting for queued batches (Ctrl-C to stop)");
    }
    let result = queue::run_worker(pool, services, options, worker, stop, abort).await;
    signals.abort();
    renewing.abort();
    let summary = result.context("the worker stopped")?;
    let mut out = std::io::stdout().lock();
    match config.format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string(&summary)?)?,
        OutputFormat::Human => writeln!(
            out,
            "worker {name} stopped: {} batches done, {} failed attempts, {} reconnections",
            summary.batches_done, summary.batches_failed, summary.reconnects
        )?,
    }
    Ok(exit::SUCCESS)
}

/// The first Ctrl-C (or SIGTERM) stops taking batches and finishes those
/// under way; the second gives them back to the queue at once; a third
/// (the database away, nothing can be given back) exits at once.
async fn watch_signals(stop: CancellationToken, abort: CancellationToken, quiet: bool) {
    stop_signal().await;
    if !quiet {
        eprintln!("finishing the batches under way; Ctrl-C again gives them back to the queue");
    }
    stop.cancel();
    stop_signal().await;
    abort.cancel();
    stop_signal().await;
    std::process::exit(i32::from(exit::INTERRUPTED));
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// This process's name in the queue: host name, process id and a random
/// part (a restarted container has the same host name and process id).
fn worker_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".into());
    let mut random = [0u8; 3];
    let _ = getrandom::fill(&mut random);
    format!("{host}-{}-{}", std::process::id(), hex::encode(random))
}
