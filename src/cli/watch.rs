//! `provenance watch add|list|remove|run` and `provenance changes`: flags
//! → the store and [`crate::watch`] → text or JSON.

use std::io::Write;

use anyhow::Context;
use chrono::Utc;

use super::args::{ChangesArgs, WatchAddArgs, WatchCommand, WatchRunArgs};
use super::scan::{env, open_services, request_error, scan_request, scan_with_progress};
use super::{exit, settings, setup};
use crate::config::{Config, ConfigError, OutputFormat};
use crate::model::{ChangeKind, ChangeRecord, NewWatch, ScanStatus, WatchRecord};
use crate::scan::ScanOptions;
use crate::store::{self, Store};
use crate::watch::{self, changes_json, RunSummary};

/// Runs a `watch` subcommand.
pub async fn run_watch(config: &Config, command: WatchCommand, quiet: bool) -> anyhow::Result<u8> {
    match command {
        WatchCommand::Add(args) => add(config, args).await,
        WatchCommand::List => list(config).await,
        WatchCommand::Remove { id } => remove(config, id).await,
        WatchCommand::Run(args) => run(config, args, quiet).await,
    }
}

async fn open(config: &Config) -> anyhow::Result<Box<dyn Store>> {
    store::open(&config.store)
        .await
        .with_context(|| format!("cannot open the store at {}", config.store))
}

async fn add(config: &Config, args: WatchAddArgs) -> anyhow::Result<u8> {
    let every = watch::parse_every(&args.every)
        .map_err(|e| ConfigError::Invalid(format!("--every: {e}")))?;
    let request = scan_request(&args.target, &args.reach, String::new())?;
    let (scan, image) = watch::scan::watched_scan(&request);
    let store = open(config).await?;
    let id = store
        .add_watch(&NewWatch {
            scan,
            image,
            every_secs: every,
            created_at: Utc::now(),
        })
        .await?;
    let added = store.watches().await?.into_iter().find(|w| w.id == id);
    let mut out = std::io::stdout().lock();
    match (config.format, added) {
        (OutputFormat::Json, Some(w)) => writeln!(out, "{}", serde_json::json!({ "watch": w }))?,
        (_, Some(w)) => writeln!(
            out,
            "watch {id}: {}, every {}; its first run is due now (provenance watch run)",
            w.scan.input.label(),
            watch::every_words(w.every_secs)
        )?,
        (_, None) => writeln!(out, "watch {id}")?,
    }
    Ok(exit::SUCCESS)
}

async fn list(config: &Config) -> anyhow::Result<u8> {
    let watches = open(config).await?.watches().await?;
    let mut out = std::io::stdout().lock();
    if config.format == OutputFormat::Json {
        writeln!(out, "{}", serde_json::json!({ "watches": watches }))?;
        return Ok(exit::SUCCESS);
    }
    if watches.is_empty() {
        writeln!(
            out,
            "No watches. Add one: provenance watch add \"KEYPHRASE\" --every 1d"
        )?;
    }
    for w in &watches {
        writeln!(out, "{}", watch_line(w))?;
    }
    Ok(exit::SUCCESS)
}

/// `  3  “red fox”  every 1d  next 2026-12-04 08:00 UTC  12 postings  last run …`.
fn watch_line(w: &WatchRecord) -> String {
    let last = w.last_run_at.map_or_else(
        || "never run".to_string(),
        |t| format!("last run {}", crate::report::words::when(&t)),
    );
    format!(
        "{:>3}  {}  every {}  next {}  {} postings  {last}",
        w.id,
        w.scan
            .input
            .label()
            .chars()
            .filter(|c| !c.is_control())
            .collect::<String>(),
        watch::every_words(w.every_secs),
        crate::report::words::when(&w.next_run_at),
        w.postings
    )
}

async fn remove(config: &Config, id: i64) -> anyhow::Result<u8> {
    if !open(config).await?.remove_watch(id).await? {
        return Err(ConfigError::Invalid(format!(
            "there is no watch {id} (see provenance watch list)"
        ))
        .into());
    }
    if config.format == OutputFormat::Human {
        println!("removed watch {id}; the changes it found are kept");
    }
    Ok(exit::SUCCESS)
}

/// Runs the due watches (all with `--all`), one after another: each
/// scan, then the re-checks. A watch whose scan cannot run is named and
/// the others still run; the exit code is then 1.
async fn run(config: &Config, args: WatchRunArgs, quiet: bool) -> anyhow::Result<u8> {
    let (client, retry) = setup::search_client_with(
        args.search_timeout,
        args.search_retries,
        args.fetch.contact.as_deref(),
    )?;
    let fetcher = setup::fetcher(&args.fetch, &args.ingest)?;
    let webhook = setup::webhook(args.watching.webhook_url.as_deref(), &fetcher)?;
    let services = open_services(config, &args.ingest, fetcher.clone(), quiet).await?;
    let store = services.store.clone();
    let due = watch::due(store.watches().await?, Utc::now(), args.all);
    let embedder = format!("{:?}", args.ingest.model.embedder).to_lowercase();
    let mut runs: Vec<RunSummary> = Vec::new();
    let mut failed = false;
    for w in due {
        let image = store.watch_image(w.id).await?;
        let planned = watch::scan::scan_request(&w.scan, image, embedder.clone())
            .map_err(|e| anyhow::anyhow!(e))
            .and_then(|r| r.plan(&env, client.clone(), retry).map_err(request_error));
        let scan_id = match planned {
            Err(e) => {
                eprintln!(
                    "watch {} cannot scan ({e:#}); its postings are still re-checked",
                    w.id
                );
                failed = true;
                None
            }
            Ok(planned) => {
                let scan_options = ScanOptions {
                    follow_pages: w.scan.follow_pages,
                    max_pages: w.scan.max_pages,
                    fetch_workers: args.fetch.concurrency,
                    ..settings::scan_options(&args.ingest)
                };
                let ran = scan_with_progress(
                    &services,
                    planned.seed,
                    planned.record,
                    scan_options,
                    crate::report::SummaryOf::Web,
                    quiet,
                )
                .await;
                match ran {
                    Ok(summary) if summary.status == ScanStatus::Interrupted => {
                        eprintln!(
                            "watch {} interrupted during its scan; run it again to resume",
                            w.id
                        );
                        return Ok(exit::INTERRUPTED);
                    }
                    Ok(summary) => Some(summary.scan_id),
                    Err(e) => {
                        eprintln!(
                            "watch {}: the scan failed ({e:#}); its postings are still re-checked",
                            w.id
                        );
                        failed = true;
                        None
                    }
                }
            }
        };
        let summary =
            watch::finish_run(&*store, &fetcher, &w, scan_id, args.watching.gone_after).await?;
        if config.format == OutputFormat::Human {
            println!("{}", run_line(&w, &summary));
        }
        runs.push(summary);
    }
    let mut told = None;
    if let Some(webhook) = &webhook {
        match webhook.deliver(&*store).await {
            Ok(sent) => {
                told = Some(sent);
                if !quiet && config.format == OutputFormat::Human {
                    eprintln!("told the webhook at {} of {sent} changes", webhook.host());
                }
            }
            Err(e) => {
                eprintln!("{e}");
                failed = true;
            }
        }
    }
    match config.format {
        OutputFormat::Json => println!(
            "{}",
            serde_json::json!({ "runs": runs, "webhook_sent": told })
        ),
        OutputFormat::Human if runs.is_empty() && !failed => {
            println!("No watch is due (provenance watch run --all runs them all).")
        }
        OutputFormat::Human => {}
    }
    Ok(if failed { exit::FAILURE } else { exit::SUCCESS })
}

/// `watch 3 (“red fox”): 2 new, 0 back, 1 gone, 0 changed; 5 re-checked: …`.
fn run_line(w: &WatchRecord, s: &RunSummary) -> String {
    format!(
        "watch {} ({}): {} new, {} back, {} gone, {} changed; {} re-checked: {} there, {} did not answer, {} not asked",
        w.id,
        w.scan.input.label().chars().filter(|c| !c.is_control()).collect::<String>(),
        s.new,
        s.back,
        s.gone,
        s.changed,
        s.checked,
        s.there,
        s.failed,
        s.skipped
    )
}

/// Runs `changes`.
pub async fn run_changes(config: &Config, args: ChangesArgs) -> anyhow::Result<u8> {
    let since = args
        .since
        .as_deref()
        .map(|text| watch::parse_since(text, Utc::now()))
        .transpose()
        .map_err(|e| ConfigError::Invalid(format!("--since: {e}")))?;
    let changes = open(config).await?.changes(since, args.watch).await?;
    let mut out = std::io::stdout().lock();
    match config.format {
        OutputFormat::Json => writeln!(out, "{}", changes_json(&changes))?,
        OutputFormat::Human => write!(out, "{}", changes_text(&changes))?,
    }
    Ok(exit::SUCCESS)
}

/// Each kind under its heading, a line per change: when, site, page (or
/// picture), why.
fn changes_text(changes: &[ChangeRecord]) -> String {
    if changes.is_empty() {
        return "No changes.\n".into();
    }
    let mut text = String::new();
    for (kind, heading) in [
        (ChangeKind::New, "New postings"),
        (ChangeKind::Gone, "Gone"),
        (ChangeKind::Changed, "Picture replaced"),
    ] {
        let of: Vec<&ChangeRecord> = changes.iter().filter(|c| c.kind == kind).collect();
        if of.is_empty() {
            continue;
        }
        text.push_str(&format!("{heading} ({}):\n", of.len()));
        for c in of {
            let place = c.page_url.as_deref().unwrap_or(&c.image_url);
            let why = c
                .detail
                .as_deref()
                .map_or_else(String::new, |d| format!(" — {d}"));
            let line = format!(
                "  {}  {}  {place}  (picture {}){why}",
                crate::report::words::when(&c.at),
                c.site.as_deref().unwrap_or("?"),
                c.image_id
            );
            text.push_str(
                &line
                    .chars()
                    .filter(|ch| !ch.is_control())
                    .collect::<String>(),
            );
            text.push('\n');
        }
    }
    text
}
