//! `provenance scan` and `provenance index`: build the seed and services from
//! the flags, run the pipeline with progress on stderr, stop cleanly on
//! Ctrl-C, and print the summary (JSON on stdout with `--format json`).

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use tokio_util::sync::CancellationToken;

use super::args::{IndexArgs, IngestArgs, ProviderArg, ReachArgs, ScanArgs, ScanTargetArgs};
use super::{exit, settings, setup};
use crate::config::{Config, ConfigError, OutputFormat};
use crate::local;
use crate::model::{NewScan, ScanStatus};
use crate::report::{progress_line, scan_summary, SummaryOf};
use crate::scan::{
    self, sources, Progress, RequestError, ScanInput, ScanOptions, ScanRequest, ScanSummary, Seed,
    Services,
};
use crate::search::{ProviderKind, SearchError};
use crate::store::{self, Store};

/// Largest URL list read (a million URLs take ~100 MB; lists are read whole).
const URL_LIST_MAX_BYTES: u64 = 256 * 1024 * 1024;
/// Largest picture sent for reverse search (TinEye takes up to 20 MB).
const UPLOAD_MAX_BYTES: u64 = 20 * 1024 * 1024;

/// Runs `scan`.
pub async fn run_scan(config: &Config, args: ScanArgs, quiet: bool) -> anyhow::Result<u8> {
    let (search_client, retry) = setup::search_client(&args.reach, args.fetch.contact.as_deref())?;
    let embedder = format!("{:?}", args.ingest.model.embedder).to_lowercase();
    let request = scan_request(&args.target, &args.reach, embedder)?;
    let planned = request
        .plan(&env, search_client, retry)
        .map_err(request_error)?;
    if let Some(notice) = planned.notice.as_deref().filter(|_| !quiet) {
        eprintln!("note: {notice}");
    }
    if let ScanInput::UrlList { name, .. } = &request.input {
        for line in &planned.bad_lines {
            tracing::warn!("{name}:{}: {}", line.line, line.reason);
        }
    }
    if args.queue.enqueue {
        return super::worker::enqueue(config, planned.seed, planned.record, &args.queue).await;
    }
    let fetcher = setup::fetcher(&args.fetch, &args.ingest)?;
    let scan_options = ScanOptions {
        follow_pages: args.reach.follow_pages,
        max_pages: args.reach.max_pages,
        fetch_workers: args.fetch.concurrency,
        ..settings::scan_options(&args.ingest)
    };
    run(
        config,
        &args.ingest,
        fetcher,
        planned.seed,
        planned.record,
        scan_options,
        quiet,
    )
    .await
}

/// Runs `index`.
pub async fn run_index(config: &Config, args: IndexArgs, quiet: bool) -> anyhow::Result<u8> {
    let folder = std::path::absolute(&args.folder)
        .with_context(|| format!("cannot resolve {}", args.folder.display()))?;
    if !folder.is_dir() {
        return Err(ConfigError::Invalid(format!("{} is not a folder", folder.display())).into());
    }
    let fetcher = crate::fetch::Fetcher::new(crate::fetch::FetchSettings::default())
        .context("cannot set up the HTTP client")?;
    let record = NewScan {
        keyphrase: folder.display().to_string(),
        provider: sources::LOCAL_PROVIDER.into(),
        options: serde_json::json!({
            "embedder": format!("{:?}", args.ingest.model.embedder).to_lowercase(),
        }),
        started_at: Utc::now(),
    };
    let options = settings::scan_options(&args.ingest);
    run(
        config,
        &args.ingest,
        fetcher,
        Seed::Folder(folder),
        record,
        options,
        quiet,
    )
    .await
}

/// A missing key or a bad provider setting is the user's to fix: exit 2.
pub(super) fn request_error(e: RequestError) -> anyhow::Error {
    match e {
        RequestError::Invalid(m) => ConfigError::Invalid(m).into(),
        RequestError::Provider(
            e @ (SearchError::MissingKey { .. } | SearchError::InvalidSetting(_)),
        ) => ConfigError::Invalid(e.to_string()).into(),
        RequestError::Provider(other) => other.into(),
    }
}

pub(super) fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The scan the flags ask for (a URL list is read here).
pub(super) fn scan_request(
    args: &ScanTargetArgs,
    reach: &ReachArgs,
    embedder: String,
) -> anyhow::Result<ScanRequest> {
    let input = if let Some(raw) = &args.image_url {
        if url::Url::parse(raw.trim()).is_err() && std::path::Path::new(raw).exists() {
            return Err(ConfigError::Invalid(format!(
                "{raw} is a local file, not a URL: search by upload with --image {raw} (TinEye), or give --image-url a public image URL"
            ))
            .into());
        }
        ScanInput::ImageUrl(raw.clone())
    } else if let Some(path) = &args.image {
        picture_file(path)?
    } else if let Some(path) = &args.urls {
        let bytes =
            local::read_capped(path, URL_LIST_MAX_BYTES).context("cannot read the URL list")?;
        let text = String::from_utf8(bytes)
            .with_context(|| format!("the URL list {} is not UTF-8 text", path.display()))?;
        ScanInput::UrlList {
            name: path.display().to_string(),
            text,
        }
    } else {
        ScanInput::Keyphrase(args.keyphrase.clone().unwrap_or_default())
    };
    Ok(ScanRequest {
        input,
        providers: reach.provider.iter().copied().map(provider_kind).collect(),
        max_results: reach.max_results,
        follow_pages: reach.follow_pages,
        max_pages: reach.max_pages,
        exact_matches: !args.no_exact_matches,
        embedder,
    })
}

pub(super) fn provider_kind(arg: ProviderArg) -> ProviderKind {
    match arg {
        ProviderArg::Serpapi => ProviderKind::SerpApi,
        ProviderArg::Brave => ProviderKind::Brave,
        ProviderArg::Serper => ProviderKind::Serper,
        ProviderArg::Searxng => ProviderKind::SearXng,
        ProviderArg::Openverse => ProviderKind::Openverse,
        ProviderArg::Commons => ProviderKind::Commons,
        ProviderArg::Tineye => ProviderKind::TinEye,
    }
}

/// A local picture for reverse search by upload, refused (exit 2) when it
/// is too large for TinEye or not a picture at all.
pub(super) fn picture_file(path: &std::path::Path) -> anyhow::Result<ScanInput> {
    let bytes = local::read_capped(path, UPLOAD_MAX_BYTES)
        .with_context(|| format!("cannot read the picture {}", path.display()))?;
    if crate::decode::sniff_format(&bytes).is_none() {
        return Err(ConfigError::Invalid(format!(
            "{} is not a picture this tool recognises (JPEG, PNG, GIF, WebP, BMP, TIFF, …)",
            path.display()
        ))
        .into());
    }
    let name = path
        .file_name()
        .map_or_else(|| "picture".into(), |n| n.to_string_lossy().into_owned());
    Ok(ScanInput::ImageFile { name, bytes })
}

async fn run(
    config: &Config,
    ingest: &IngestArgs,
    fetcher: crate::fetch::Fetcher,
    seed: Seed,
    record: NewScan,
    options: ScanOptions,
    quiet: bool,
) -> anyhow::Result<u8> {
    let of = match seed {
        Seed::Folder(_) => SummaryOf::Folder,
        _ => SummaryOf::Web,
    };
    let services = open_services(config, ingest, fetcher, quiet).await?;
    let summary = scan_with_progress(&services, seed, record, options, of, quiet).await?;
    print_summary(&summary, of, config.format)?;
    Ok(match summary.status {
        ScanStatus::Interrupted => exit::INTERRUPTED,
        _ => exit::SUCCESS,
    })
}

/// The store, fetcher and embedder a scan works with.
pub(super) async fn open_services(
    config: &Config,
    ingest: &IngestArgs,
    fetcher: crate::fetch::Fetcher,
    quiet: bool,
) -> anyhow::Result<Services> {
    let store: Arc<dyn Store> = store::open(&config.store)
        .await
        .with_context(|| format!("cannot open the store at {}", config.store))?
        .into();
    let embedder = setup::embedder(&ingest.model, &config.data_dir, quiet).await?;
    Ok(Services {
        store,
        fetcher,
        embedder,
    })
}

/// Runs one scan with its progress on stderr, stopping cleanly on Ctrl-C.
pub(super) async fn scan_with_progress(
    services: &Services,
    seed: Seed,
    record: NewScan,
    options: ScanOptions,
    of: SummaryOf,
    quiet: bool,
) -> anyhow::Result<ScanSummary> {
    let progress = Arc::new(Progress::default());
    let cancel = CancellationToken::new();
    let on_interrupt = cancel.clone();
    let watcher = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_interrupt.cancel();
        }
    });
    let bar = progress_bar(quiet);
    let drawer = tokio::spawn(draw_progress(bar.clone(), progress.clone(), of));
    let result = scan::run_scan(services, seed, record, options, progress, cancel).await;
    drawer.abort();
    watcher.abort();
    bar.finish_and_clear();
    let summary = result
        .context("the scan stopped; rerun the same command to resume (nothing stored is lost)")?;
    if !quiet && summary.progress.all_refused_private() {
        eprintln!("{ALL_PRIVATE_HINT}");
    }
    Ok(summary)
}

/// Said once when every candidate was refused for a private address.
const ALL_PRIVATE_HINT: &str = "note: every candidate was refused because it points at a private or internal address; to scan an intranet, add --allow-private-addresses";

fn progress_bar(quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar
}

/// Counters beside a spinner until the number of candidates is known,
/// then a bar with that total, the rate and the time left (indicatif's
/// conventions); redrawn five times a second.
async fn draw_progress(bar: ProgressBar, progress: Arc<Progress>, of: SummaryOf) {
    let started = std::time::Instant::now();
    loop {
        let s = progress.snapshot();
        if let (Some(total), None) = (progress.total(), bar.length()) {
            bar.set_length(total);
            bar.set_style(
                ProgressStyle::with_template("{wide_bar} {pos}/{len} {elapsed}<{eta} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
        }
        if let Some(total) = bar.length() {
            bar.set_position(progress.settled().min(total));
        }
        let rate = s.counts.fetched as f64 / started.elapsed().as_secs_f64().max(0.001);
        bar.set_message(progress_line(&s, of, rate));
        bar.tick();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Human summary on stderr, JSON on stdout.
fn print_summary(summary: &ScanSummary, of: SummaryOf, format: OutputFormat) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", serde_json::to_string_pretty(summary)?)?;
        }
        OutputFormat::Human => eprint!("{}", scan_summary(summary, of)),
    }
    Ok(())
}
