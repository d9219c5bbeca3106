//! The scan pipeline, one straight path:
//!
//! ```text
//! seed ─▶ candidates ─▶ fetch ─▶ decode + hash ─▶ embed (batched) ─▶ store
//! ```
//!
//! Each stage is a task; stages are joined by bounded channels, so memory
//! stays flat whatever the number of candidates, and the slowest stage sets
//! the pace while the others keep it fed. Per-item failures are recorded
//! (see `stages`) and never stop the scan; a store error does. Work is never
//! done twice: a known image URL only adds sightings (unless `refresh`),
//! known bytes are not decoded or embedded again. Rerunning an unfinished
//! scan resumes it under the same scan id.

pub mod analyse;
mod budget;
pub mod progress;
pub mod request;
mod seed;
pub mod sources;
mod stages;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use futures::{StreamExt, TryStreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::decode::DecodeLimits;
use crate::embed::Embedder;
use crate::fetch::Fetcher;
use crate::model::{NewScan, ScanId, ScanStatus};
use crate::search::{
    ImageCandidate, ImageSearch, Lens, ReverseImage, SearchError, SearchQuery, TinEye,
};
use crate::store::{Store, StoreError};
pub use budget::DecodeBudget;
pub use progress::{Counter, Progress, ProgressSnapshot};
pub use request::{PlannedScan, RequestError, ScanInput, ScanRequest};
pub use seed::{find, Found};
use stages::{Fetched, Prepared};

/// Where a scan's candidates come from.
pub enum Seed {
    /// A keyphrase sent to image search providers, asked together.
    Search {
        /// The providers.
        providers: Vec<Box<dyn ImageSearch>>,
        /// What to ask it.
        query: SearchQuery,
    },
    /// Reverse search by a public image URL.
    Lens {
        /// SerpApi Google Lens.
        lens: Box<Lens>,
        /// The image to look for.
        image_url: Url,
        /// Most candidates to take.
        max_results: usize,
    },
    /// Reverse search through TinEye, by file or URL.
    TinEye {
        /// The API.
        tineye: Box<TinEye>,
        /// The picture.
        image: ReverseImage,
        /// Most candidates (postings) to take.
        max_results: usize,
    },
    /// Candidates given up front (a URL list).
    Candidates(Vec<ImageCandidate>),
    /// One batch of a queued scan: its candidates, and pages to follow
    /// beyond theirs (with `follow_pages`).
    Batch {
        /// The batch's candidates.
        candidates: Vec<ImageCandidate>,
        /// Pages that showed the picture without its address (Lens).
        pages: Vec<Url>,
    },
    /// Every image file under a local folder.
    Folder(PathBuf),
}

/// How a scan runs.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Also fetch the pages candidates were found on and take their images.
    pub follow_pages: bool,
    /// Most pages to follow.
    pub max_pages: usize,
    /// Fetch URLs already in the store again.
    pub refresh: bool,
    /// Images per forward pass of the model.
    pub batch_size: usize,
    /// Images decoded at once (CPU threads).
    pub decode_workers: usize,
    /// Downloads in flight at once (the fetcher also enforces its own limits).
    pub fetch_workers: usize,
    /// Bounds on what is decoded; `max_bytes` also caps local files.
    pub decode_limits: DecodeLimits,
    /// Memory the decodes running at once may use (each reserves what its
    /// header says it needs). Clones share it: scans given the same budget
    /// (the web service's, a trace's) stay within it together.
    pub decode_budget: DecodeBudget,
}

/// The default decode memory budget: 1 GiB.
pub const DEFAULT_DECODE_MEMORY: u64 = 1024 * 1024 * 1024;

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            follow_pages: false,
            max_pages: 200,
            refresh: false,
            batch_size: 32,
            decode_workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            fetch_workers: 64,
            decode_limits: DecodeLimits::default(),
            decode_budget: DecodeBudget::new(DEFAULT_DECODE_MEMORY),
        }
    }
}

/// What a scan needs from outside.
#[derive(Clone)]
pub struct Services {
    /// Where results go.
    pub store: Arc<dyn Store>,
    /// How images and pages are fetched.
    pub fetcher: Fetcher,
    /// The model; `None` hashes only.
    pub embedder: Option<Arc<dyn Embedder>>,
}

/// Why a scan stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The search provider failed.
    #[error(transparent)]
    Search(#[from] SearchError),
    /// The store failed (it may have gone away); the scan cannot go on.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The user interrupted the scan.
    #[error("interrupted")]
    Interrupted,
    /// A stage task died.
    #[error("internal error in a scan stage: {0}")]
    Task(String),
}

/// How a scan ended.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScanSummary {
    /// The scan's id in the store.
    pub scan_id: ScanId,
    /// Whether an unfinished earlier run was resumed.
    pub resumed: bool,
    /// Final state.
    pub status: ScanStatus,
    /// Counters.
    #[serde(flatten)]
    pub progress: ProgressSnapshot,
    /// Wall time.
    pub elapsed_secs: f64,
}

/// Shared by every stage of one scan.
pub(crate) struct StageContext {
    store: Arc<dyn Store>,
    fetcher: Fetcher,
    embedder: Option<Arc<dyn Embedder>>,
    scan_id: ScanId,
    options: ScanOptions,
    progress: Arc<Progress>,
    /// Bytes being decoded or embedded now, with the candidates waiting on them.
    pending: std::sync::Mutex<std::collections::HashMap<[u8; 32], Vec<stages::Waiting>>>,
    /// Where the counters go after every stored batch.
    report: Report,
}

/// Where a run's counters go while it runs.
#[derive(Clone)]
enum Report {
    /// The scan's own row: the run is the whole scan.
    ScanRow,
    /// Somewhere else: the run is one part (a queued batch) of a scan.
    Part(Arc<dyn PartReport>),
}

/// Takes the counters of a run that is one part of a scan (a batch a
/// worker runs), after every stored batch of images.
#[async_trait::async_trait]
pub trait PartReport: Send + Sync {
    /// The part's counters so far.
    async fn progress(&self, counts: &crate::model::ScanCounts) -> Result<(), StoreError>;
}

/// Candidates waiting for a download slot (small values).
const CANDIDATE_QUEUE: usize = 256;

/// A scan recorded in the store, ready to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenedScan {
    /// Its id.
    pub scan_id: ScanId,
    /// An unfinished earlier run of the same scan is resumed.
    pub resumed: bool,
}

/// Records a scan (or finds the unfinished one it resumes), binding the
/// store to the model first: what [`run_scan`] does before running, for
/// callers that need the id at once (the web service).
pub async fn open_scan(services: &Services, record: &NewScan) -> Result<OpenedScan, ScanError> {
    let store = &services.store;
    if let Some(embedder) = &services.embedder {
        store.bind_model(embedder.model()).await?;
    }
    Ok(match store.resumable_scan(record).await? {
        Some(scan_id) => OpenedScan {
            scan_id,
            resumed: true,
        },
        None => OpenedScan {
            scan_id: store.start_scan(record).await?,
            resumed: false,
        },
    })
}

/// Runs a scan to its end, to the first store error, or until `cancel`.
/// The scan row is updated with the counters after every stored batch and
/// with its final state at the end.
pub async fn run_scan(
    services: &Services,
    seed: Seed,
    record: NewScan,
    options: ScanOptions,
    progress: Arc<Progress>,
    cancel: CancellationToken,
) -> Result<ScanSummary, ScanError> {
    let opened = open_scan(services, &record).await?;
    run_opened_scan(services, seed, opened, options, progress, cancel).await
}

/// Runs a scan [`open_scan`] recorded (see [`run_scan`]).
pub async fn run_opened_scan(
    services: &Services,
    seed: Seed,
    opened: OpenedScan,
    options: ScanOptions,
    progress: Arc<Progress>,
    cancel: CancellationToken,
) -> Result<ScanSummary, ScanError> {
    let started = Instant::now();
    let store = services.store.clone();
    let OpenedScan { scan_id, resumed } = opened;
    let ctx = stage_context(
        services,
        scan_id,
        options,
        progress.clone(),
        Report::ScanRow,
    );
    let outcome = run_stages(ctx, seed, cancel).await;
    let status = match &outcome {
        Ok(()) => ScanStatus::Completed,
        Err(ScanError::Interrupted) => ScanStatus::Interrupted,
        Err(_) => ScanStatus::Failed,
    };
    let snapshot = progress.snapshot();
    let saved = store
        .update_scan(scan_id, status, &snapshot.counts, Some(Utc::now()))
        .await;
    match outcome {
        Err(ScanError::Interrupted) | Ok(()) => saved?,
        Err(e) => return Err(e),
    }
    Ok(ScanSummary {
        scan_id,
        resumed,
        status,
        progress: snapshot,
        elapsed_secs: started.elapsed().as_secs_f64(),
    })
}

/// Runs one part of scan `scan_id` (a batch of a queued scan) through the
/// same stages, leaving the scan's row alone: `report` takes the counters
/// (which `progress` also holds at the end).
pub async fn run_scan_part(
    services: &Services,
    seed: Seed,
    scan_id: ScanId,
    options: ScanOptions,
    progress: Arc<Progress>,
    cancel: CancellationToken,
    report: Arc<dyn PartReport>,
) -> Result<(), ScanError> {
    if let Some(embedder) = &services.embedder {
        services.store.bind_model(embedder.model()).await?;
    }
    let ctx = stage_context(services, scan_id, options, progress, Report::Part(report));
    run_stages(ctx, seed, cancel).await
}

fn stage_context(
    services: &Services,
    scan_id: ScanId,
    options: ScanOptions,
    progress: Arc<Progress>,
    report: Report,
) -> Arc<StageContext> {
    Arc::new(StageContext {
        store: services.store.clone(),
        fetcher: services.fetcher.clone(),
        embedder: services.embedder.clone(),
        scan_id,
        options,
        progress,
        pending: Default::default(),
        report,
    })
}

/// The stages, joined, until their end, the first error or `cancel`.
async fn run_stages(
    ctx: Arc<StageContext>,
    seed: Seed,
    cancel: CancellationToken,
) -> Result<(), ScanError> {
    // Queues hold whole files after the fetch stage and model inputs after
    // decoding: keep them just deep enough to keep the next stage busy, so
    // memory is bounded by the settings, not by the number of candidates.
    let fetched_queue = ctx.options.decode_workers.max(1) * 2;
    let prepared_queue = ctx.options.batch_size.max(1) * 2;
    let (candidates_tx, candidates_rx) = mpsc::channel::<ImageCandidate>(CANDIDATE_QUEUE);
    let (fetched_tx, fetched_rx) = mpsc::channel::<Fetched>(fetched_queue);
    let (prepared_tx, prepared_rx) = mpsc::channel::<Prepared>(prepared_queue);
    let mut tasks = JoinSet::new();
    tasks.spawn(seed::produce_candidates(ctx.clone(), seed, candidates_tx));
    tasks.spawn(fetch_stage(ctx.clone(), candidates_rx, fetched_tx));
    tasks.spawn(prepare_stage(ctx.clone(), fetched_rx, prepared_tx));
    let storing = embed_and_store_stage(ctx.clone(), prepared_rx);

    let outcome = tokio::select! {
        result = join_stages(storing, &mut tasks) => result,
        () = cancel.cancelled() => Err(ScanError::Interrupted),
    };
    tasks.abort_all();
    outcome
}

async fn join_stages(
    storing: impl std::future::Future<Output = Result<(), ScanError>>,
    tasks: &mut JoinSet<Result<(), ScanError>>,
) -> Result<(), ScanError> {
    let others = async {
        while let Some(joined) = tasks.join_next().await {
            joined.map_err(|e| ScanError::Task(e.to_string()))??;
        }
        Ok(())
    };
    tokio::try_join!(storing, others).map(|_| ())
}

async fn fetch_stage(
    ctx: Arc<StageContext>,
    rx: mpsc::Receiver<ImageCandidate>,
    tx: mpsc::Sender<Fetched>,
) -> Result<(), ScanError> {
    let workers = ctx.options.fetch_workers.max(1);
    ReceiverStream::new(rx)
        .map(|candidate| in_own_task(stages::fetch_one(ctx.clone(), candidate)))
        .buffer_unordered(workers)
        .try_for_each(|fetched| forward(&tx, fetched))
        .await
}

async fn prepare_stage(
    ctx: Arc<StageContext>,
    rx: mpsc::Receiver<Fetched>,
    tx: mpsc::Sender<Prepared>,
) -> Result<(), ScanError> {
    let workers = ctx.options.decode_workers.max(1);
    ReceiverStream::new(rx)
        .map(|fetched| in_own_task(stages::prepare_one(ctx.clone(), fetched)))
        .buffer_unordered(workers)
        .try_for_each(|prepared| forward(&tx, prepared))
        .await
}

/// Runs one item's work as a task of its own. Inside `buffer_unordered`
/// alone, in-flight work is only polled while the stage is not waiting for
/// room in the next channel: work holding a pooled store connection then
/// sits on it, the next stage cannot get one to drain the channel, and the
/// scan stalls until the pool times out (and fetch timeouts fire while the
/// bytes wait unread). As a task it runs on, and is aborted with the stage.
async fn in_own_task<T: Send + 'static>(
    work: impl std::future::Future<Output = Result<T, ScanError>> + Send + 'static,
) -> Result<T, ScanError> {
    struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);
    impl<T> Drop for AbortOnDrop<T> {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let mut task = AbortOnDrop(tokio::spawn(work));
    (&mut task.0)
        .await
        .map_err(|e| ScanError::Task(e.to_string()))?
}

/// Passes an item to the next stage. A closed channel means the next stage
/// stopped (and reports why), so it is not an error here.
async fn forward<T>(tx: &mpsc::Sender<T>, item: Option<T>) -> Result<(), ScanError> {
    if let Some(item) = item {
        let _ = tx.send(item).await;
    }
    Ok(())
}

async fn embed_and_store_stage(
    ctx: Arc<StageContext>,
    rx: mpsc::Receiver<Prepared>,
) -> Result<(), ScanError> {
    let mut batches = ReceiverStream::new(rx).ready_chunks(ctx.options.batch_size.max(1));
    while let Some(mut batch) = batches.next().await {
        let vectors = stages::embed_batch(&ctx, &mut batch).await?;
        for (item, vector) in batch.into_iter().zip(vectors) {
            stages::store_one(&ctx, item, vector).await?;
        }
        let counts = ctx.progress.snapshot().counts;
        match &ctx.report {
            Report::ScanRow => {
                ctx.store
                    .update_scan(ctx.scan_id, ScanStatus::Running, &counts, None)
                    .await?
            }
            Report::Part(part) => part.progress(&counts).await?,
        }
    }
    Ok(())
}
