//! `provenance worker`: claims queued batches and runs them through the
//! scan's stages on this machine (its own fetcher, decoder and model).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::{
    BackendExt, BoxDynError, Data, Strategy, WorkerBuilder, WorkerBuilderExt, WorkerContext,
    WorkerError,
};
use apalis_postgres::{Config, PostgresStorage, Pubsub};
use futures::FutureExt;
use serde::Serialize;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use super::batches::{self, BatchEnd, Claim, Lease};
use super::work::BatchWork;
use super::{BatchJob, QueueError, QUEUE};
use crate::model::ScanCounts;
use crate::scan::{run_scan_part, PartReport, Progress, ScanError, ScanOptions, Seed, Services};
use crate::store::{Backend, StoreError};

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Its name, unique to the process; each life of its connection to
    /// the queue is `NAME.N` in the queue and in `scan_batches`.
    pub name: String,
    /// Batches run at once.
    pub concurrency: usize,
    /// How often it tells the queue it is alive.
    pub heartbeat: Duration,
    /// Heartbeats missed before its batches go to other workers.
    pub missed_heartbeats: usize,
    /// How often it looks for work without being woken (a fallback: new
    /// work wakes it at once through `LISTEN/NOTIFY`).
    pub poll_every: Duration,
    /// Stop once no batch of any scan waits or runs.
    pub exit_when_idle: bool,
}

/// What a worker did before it stopped.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WorkerSummary {
    /// Batches run to their end.
    pub batches_done: u64,
    /// Batch attempts that failed.
    pub batches_failed: u64,
    /// Times the queue's connection was lost and made again.
    pub reconnects: u64,
}

/// The first pause before connecting again; it doubles up to 30 s.
const FIRST_PAUSE: Duration = Duration::from_secs(1);

/// A life of the worker that lasted this long had connected: the next
/// loss starts again from the first pause.
const LIFE_THAT_WORKED: Duration = Duration::from_secs(60);

/// Shared by the batches a worker runs.
struct WorkerState {
    pool: PgPool,
    services: Services,
    options: ScanOptions,
    /// Ends running batches (a second Ctrl-C): they are given back.
    abort: CancellationToken,
    done: AtomicU64,
    failed: AtomicU64,
}

/// Runs batches until `stop` (finishing those under way; `abort` gives
/// them back instead) or, with `exit_when_idle`, until no work is left.
/// A lost connection is made again, with pauses growing to 30 s.
pub async fn run_worker(
    pool: PgPool,
    services: Services,
    options: ScanOptions,
    settings: WorkerSettings,
    stop: CancellationToken,
    abort: CancellationToken,
) -> Result<WorkerSummary, QueueError> {
    let state = Arc::new(WorkerState {
        pool: pool.clone(),
        services,
        options,
        abort,
        done: AtomicU64::new(0),
        failed: AtomicU64::new(0),
    });
    let mut reconnects = 0;
    let mut pause = FIRST_PAUSE;
    let mut broken: Option<String> = None;
    for life in 1.. {
        let name = format!("{}.{life}", settings.name);
        let started = std::time::Instant::now();
        let outcome = match &broken {
            // What the broken life was running goes back to the queue
            // first (once the database answers again).
            Some(old) => batches::release_worker(&pool, old).await,
            None => Ok(()),
        };
        let outcome = match outcome {
            Ok(()) => {
                broken = None;
                run_once(&pool, &name, &settings, state.clone(), stop.clone()).await
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => break,
            Err(e) if stop.is_cancelled() => return Err(e),
            Err(e) => {
                if started.elapsed() > LIFE_THAT_WORKED {
                    pause = FIRST_PAUSE;
                }
                tracing::warn!(error = %e, pause_secs = pause.as_secs(), "the worker lost the queue; connecting again");
                reconnects += 1;
                broken.get_or_insert(name);
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    () = stop.cancelled() => break,
                }
                pause = (pause * 2).min(Duration::from_secs(30));
            }
        }
    }
    Ok(WorkerSummary {
        batches_done: state.done.load(Ordering::Relaxed),
        batches_failed: state.failed.load(Ordering::Relaxed),
        reconnects,
    })
}

/// One life of the apalis worker, named `name`, until it is stopped or
/// fails.
async fn run_once(
    pool: &PgPool,
    name: &str,
    settings: &WorkerSettings,
    state: Arc<WorkerState>,
    stop: CancellationToken,
) -> Result<(), QueueError> {
    let concurrency = settings.concurrency.max(1);
    let config = Config::default()
        .queue(QUEUE)
        // Both set: apalis' Config::default() and its documentation
        // disagree on the number of missed heartbeats.
        .heartbeat_interval(settings.heartbeat)
        .missed_heartbeats(settings.missed_heartbeats.max(1))
        // One job at a time: a job fetched ahead would wait here, locked to
        // this worker, while another worker could run it.
        .batch_size(1);
    let strategy = Strategy::new()
        .stream(Pubsub::new(pool.clone(), QUEUE.to_string()))
        .interval(settings.poll_every);
    let backend = PostgresStorage::<BatchJob>::new(pool)
        .with_config(config)
        .poll_with_strategy(strategy);
    let exit_when_idle = settings.exit_when_idle;
    let watched_pool = pool.clone();
    WorkerBuilder::new(name)
        .backend(backend)
        .catch_panic()
        .concurrency(concurrency)
        .data(state)
        .build(run_batch)
        .run_with_ctx(move |ctx| {
            watch_for_stop(ctx, stop.clone(), exit_when_idle, watched_pool.clone())
        })
        .await
        .map_err(|e| QueueError::Worker(e.to_string()))
}

/// Stops the worker (after its batches under way) on `stop`, or once the
/// queue is idle with `exit_when_idle`.
async fn watch_for_stop(
    ctx: WorkerContext,
    stop: CancellationToken,
    exit_when_idle: bool,
    pool: PgPool,
) -> Result<(), WorkerError> {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = tick.tick() => {}
        }
        if exit_when_idle && !ctx.has_pending_tasks() {
            match batches::any_open(&pool).await {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => tracing::debug!(error = %e, "cannot tell whether work is left"),
            }
        }
    }
    let _ = ctx.stop();
    Ok(())
}

/// Why one batch's run did not finish.
enum Stopped {
    Interrupted,
    Failed(String),
}

/// Runs one batch: claims it, runs it, records how it ended. An error
/// makes the queue try the job again (the claim then says whether any
/// attempt is left).
async fn run_batch(
    job: BatchJob,
    state: Data<Arc<WorkerState>>,
    worker: WorkerContext,
) -> Result<(), BoxDynError> {
    let state: &WorkerState = &state;
    let (work, options, lease) = match batches::claim(&state.pool, job, worker.name()).await? {
        Claim::Ended | Claim::GaveUp => return Ok(()),
        Claim::Run {
            work,
            options,
            lease,
        } => (work, options, lease),
    };
    let attempt = lease.attempt;
    tracing::info!(
        scan = job.scan_id,
        batch = job.batch_no,
        attempt,
        "batch claimed"
    );
    let progress = Arc::new(Progress::default());
    let run = run_claimed(state, &lease, work, &options, progress.clone());
    // A panic in the stages fails the attempt like any error (outside,
    // apalis would leave the job running).
    let outcome = match std::panic::AssertUnwindSafe(run).catch_unwind().await {
        Ok(outcome) => outcome,
        Err(_) => Err(Stopped::Failed("the batch's run panicked".into())),
    };
    match outcome {
        Ok(()) => {
            let counts = progress.snapshot().counts;
            batches::end(&state.pool, &lease, BatchEnd::Done(&counts)).await?;
            state.done.fetch_add(1, Ordering::Relaxed);
            tracing::info!(scan = job.scan_id, batch = job.batch_no, "batch done");
            Ok(())
        }
        Err(Stopped::Interrupted) => {
            batches::end(&state.pool, &lease, BatchEnd::Released).await?;
            tracing::info!(scan = job.scan_id, batch = job.batch_no, "batch given back");
            Err("the worker stopped before the batch's end; it is run again".into())
        }
        Err(Stopped::Failed(error)) => {
            state.failed.fetch_add(1, Ordering::Relaxed);
            let last = lease.is_last();
            tracing::warn!(scan = job.scan_id, batch = job.batch_no, attempt, last, %error, "batch failed");
            batches::end(&state.pool, &lease, BatchEnd::Failed(&error)).await?;
            Err(error.into())
        }
    }
}

async fn run_claimed(
    state: &WorkerState,
    lease: &Lease,
    work: serde_json::Value,
    scan_options: &serde_json::Value,
    progress: Arc<Progress>,
) -> Result<(), Stopped> {
    let work: BatchWork = serde_json::from_value(work)
        .map_err(|e| Stopped::Failed(format!("the batch's work cannot be read: {e}")))?;
    let mut options = state.options.clone();
    if let Some(follow) = scan_options["follow_pages"].as_bool() {
        options.follow_pages = follow;
    }
    if let Some(max_pages) = scan_options["max_pages"].as_u64() {
        options.max_pages = max_pages as usize;
    }
    let seed = Seed::Batch {
        candidates: work.candidates.into_iter().map(Into::into).collect(),
        pages: work.pages,
    };
    let report = Arc::new(BatchReport {
        pool: state.pool.clone(),
        lease: lease.clone(),
    });
    let run = run_scan_part(
        &state.services,
        seed,
        lease.job.scan_id,
        options,
        progress,
        state.abort.child_token(),
        report,
    );
    match run.await {
        Ok(()) => Ok(()),
        Err(ScanError::Interrupted) => Err(Stopped::Interrupted),
        Err(e) => Err(Stopped::Failed(e.to_string())),
    }
}

/// A batch's counters go to its row (and its scan's sums).
struct BatchReport {
    pool: PgPool,
    lease: Lease,
}

#[async_trait::async_trait]
impl PartReport for BatchReport {
    async fn progress(&self, counts: &ScanCounts) -> Result<(), StoreError> {
        batches::progress(&self.pool, &self.lease, counts)
            .await
            .map_err(|source| StoreError::Query {
                backend: Backend::Postgres,
                source,
            })
    }
}
