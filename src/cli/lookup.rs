//! `provenance match IMAGE` and `provenance search TEXT`: flags → options →
//! one call into [`crate::lookup`] → the report written and shown. The
//! algorithm itself lives in the library, where the web service calls it too.

use std::io::Write;

use anyhow::Context;

use super::args::{ArchiveArgs, EmbedderArg, MatchArgs, ModelArgs, ReportArgs, SearchArgs};
use super::{exit, settings, setup};
use crate::archive::{add_archive_evidence, ArchiveOptions, Wayback};
use crate::config::{Config, ConfigError, OutputFormat};
use crate::local;
use crate::lookup::{self, LookupError, MatchIndex, QueryPicture};
use crate::report::{match_overview, render_json, write_reports, Report};
use crate::store::{self, Store};

/// Runs `match`.
pub async fn run_match(config: &Config, args: MatchArgs, quiet: bool) -> anyhow::Result<u8> {
    let options = settings::lookup_options(&args.lookup)?;
    let query = read_query(&args.image, &options).await?;
    let steps = MatchSteps {
        model: &args.model,
        options: &options,
        report: &args.report,
        archive: &args.archive,
    };
    match_and_deliver(config, &query, &steps, quiet).await
}

/// What `match` (and `trace` after its searches) does with a query.
pub(super) struct MatchSteps<'a> {
    /// The embedder the store was built with.
    pub model: &'a ModelArgs,
    /// How matches are found.
    pub options: &'a lookup::LookupOptions,
    /// Where reports go.
    pub report: &'a ReportArgs,
    /// Whether the web archive is asked.
    pub archive: &'a ArchiveArgs,
}

/// Reads and decodes a picture to look for; one that cannot be read is
/// named.
pub(super) async fn read_query(
    path: &std::path::Path,
    options: &lookup::LookupOptions,
) -> anyhow::Result<QueryPicture> {
    let bytes = local::read_capped(path, options.decode_limits.max_bytes)?;
    let label = path.display().to_string();
    let limits = options.decode_limits;
    tokio::task::spawn_blocking(move || QueryPicture::decode(label, &bytes, &limits))
        .await
        .context("decoding the query crashed")?
        .with_context(|| format!("{} is not an image provenance can read", path.display()))
}

/// Finds `query` among stored pictures, writes the reports and prints the
/// overview (the end of `match` and of `trace`).
pub(super) async fn match_and_deliver(
    config: &Config,
    query: &QueryPicture,
    steps: &MatchSteps<'_>,
    quiet: bool,
) -> anyhow::Result<u8> {
    let model = steps.model;
    let store = open(config).await?;
    let embedder = if lookup::vectors_in_use(&*store).await.map_err(at(config))?
        && model.embedder != EmbedderArg::None
    {
        let stored = store.model().await.map_err(LookupError::from)?;
        let model = setup::model_of_store(model, stored.as_ref())?;
        setup::embedder(&model, &config.data_dir, quiet).await?
    } else {
        None
    };
    let index = MatchIndex::default();
    setup::index_missing_terms(&*store, &index, quiet).await?;
    let mut found = lookup::find_image(&*store, embedder, &index, query, steps.options)
        .await
        .map_err(at(config))?;
    if !steps.archive.no_archive {
        ask_the_archive(&mut found, &*store, steps.archive, model.offline).await?;
    }
    deliver(config, &found, steps.report)
}

/// Adds the web archive's dates to the report's postings (none asked
/// `--offline`: only answers kept from earlier runs).
async fn ask_the_archive(
    report: &mut Report,
    store: &dyn Store,
    args: &ArchiveArgs,
    offline: bool,
) -> anyhow::Result<()> {
    let client = crate::search::api_client().context("cannot set up the HTTP client")?;
    let wayback = Wayback::new(
        args.wayback_url.clone(),
        client,
        std::time::Duration::from_millis(args.archive_interval_ms),
    );
    let options = ArchiveOptions {
        max_postings: args.archive_max,
        ..ArchiveOptions::default()
    };
    let archive = (!offline).then_some(&wayback);
    add_archive_evidence(report, store, archive, &options).await;
    Ok(())
}

/// Runs `search`.
pub async fn run_search(config: &Config, args: SearchArgs, quiet: bool) -> anyhow::Result<u8> {
    if args.top == 0 {
        return Err(ConfigError::Invalid("--top must be at least 1".into()).into());
    }
    if args.model.embedder == EmbedderArg::None {
        return Err(ConfigError::Invalid(
            "text search needs the CLIP model; drop --embedder none".into(),
        )
        .into());
    }
    let store = open(config).await?;
    if !lookup::vectors_in_use(&*store).await.map_err(at(config))? {
        return Err(LookupError::NoVectors.into());
    }
    let stored = store.model().await.map_err(LookupError::from)?;
    let model = setup::model_of_store(&args.model, stored.as_ref())?;
    let embedder = setup::embedder(&model, &config.data_dir, quiet)
        .await?
        .context("no embedder was loaded")?;
    let report = lookup::find_text(&*store, embedder, &args.text, args.top, args.min_similarity)
        .await
        .map_err(at(config))?;
    deliver(config, &report, &args.report)
}

async fn open(config: &Config) -> anyhow::Result<Box<dyn Store>> {
    store::open(&config.store)
        .await
        .with_context(|| format!("cannot open the store at {}", config.store))
}

/// A lookup error, naming the store when it is about the store.
fn at(config: &Config) -> impl Fn(LookupError) -> anyhow::Error + '_ {
    move |e| match e {
        LookupError::EmptyStore => anyhow::anyhow!(
            "the store at {} is empty: run `provenance scan` or `provenance index` first",
            config.store
        ),
        other => other.into(),
    }
}

/// Writes the report files and prints: JSON, or a short summary with the
/// scores, on stdout; the file paths on stderr.
fn deliver(config: &Config, report: &Report, args: &ReportArgs) -> anyhow::Result<u8> {
    let paths = if args.no_report {
        Vec::new()
    } else {
        let dir = args
            .report_dir
            .clone()
            .unwrap_or_else(|| config.data_dir.join("reports"));
        write_reports(&dir, report, &args.report_format)
            .with_context(|| format!("cannot write the reports in {}", dir.display()))?
    };
    match config.format {
        OutputFormat::Json => writeln!(std::io::stdout().lock(), "{}", render_json(report))?,
        OutputFormat::Human => write!(std::io::stdout().lock(), "{}", match_overview(report))?,
    }
    for path in paths {
        eprintln!("report: {}", path.display());
    }
    Ok(exit::SUCCESS)
}
