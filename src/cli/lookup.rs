//! `provenance match IMAGE` and `provenance search TEXT`: flags → options →
//! one call into [`crate::lookup`] → the report written and shown. The
//! algorithm itself lives in the library, where the web service calls it too.

use std::io::Write;

use anyhow::Context;

use super::args::{
    ArchiveArgs, EmbedderArg, MatchArgs, ModelArgs, ReportArgs, SearchArgs, SearchBy,
};
use super::batch::{self, BatchSummary, PicturesError};
use super::{exit, settings, setup};
use crate::archive::{add_archive_evidence, ArchiveOptions, Wayback};
use crate::config::{Config, ConfigError, OutputFormat};
use crate::local;
use crate::lookup::{self, LookupError, MatchIndex, QueryPicture};
use crate::model::TextQuery;
use crate::report::{
    match_overview, postings_overview, render_json, render_json_line, render_postings_json,
    write_reports, Report,
};
use crate::store::{self, Store};

/// Runs `match`: one picture as before, or a batch (several files, a
/// folder, `-`) with one report per picture and a summary.
pub async fn run_match(config: &Config, args: MatchArgs, quiet: bool) -> anyhow::Result<u8> {
    let mut options = settings::lookup_options(&args.lookup)?;
    if let Some(text) = &args.text {
        let words =
            TextQuery::parse(text).map_err(|e| ConfigError::Invalid(format!("--text: {e}")))?;
        options.words = Some(words);
    }
    let pictures = batch::expand(&args.images, std::io::stdin().lock()).map_err(|e| match e {
        PicturesError::StdinTwice => anyhow::Error::from(ConfigError::Invalid(e.to_string())),
        other => other.into(),
    })?;
    let steps = MatchSteps {
        model: &args.model,
        options: &options,
        report: &args.report,
        archive: &args.archive,
    };
    if !pictures.batch {
        let query = read_query(&pictures.paths[0], &options).await?;
        return match_and_deliver(config, &query, &steps, quiet).await;
    }
    match_batch(config, &pictures, &steps, quiet).await
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
    let label = batch::label(path);
    let limits = options.decode_limits;
    tokio::task::spawn_blocking(move || QueryPicture::decode(label, &bytes, &limits))
        .await
        .context("decoding the query crashed")?
        .map_err(|e| match e {
            LookupError::Decode(why) => anyhow::Error::new(why).context(format!(
                "{} is not an image provenance can read",
                path.display()
            )),
            other => other.into(),
        })
}

/// Finds `query` among stored pictures, writes the reports and prints the
/// overview (the end of `match` and of `trace`).
pub(super) async fn match_and_deliver(
    config: &Config,
    query: &QueryPicture,
    steps: &MatchSteps<'_>,
    quiet: bool,
) -> anyhow::Result<u8> {
    let matcher = Matcher::open(config, steps.model, quiet).await?;
    let found = matcher.report(config, query, steps).await?;
    deliver(config, &found, steps.report)
}

/// Matches every picture of a batch against the store opened once: per
/// picture its overview (or one JSON line) on stdout and its report files,
/// then the summary. A picture that cannot be read is said on stderr and
/// counted; the batch goes on and ends with exit code 1.
async fn match_batch(
    config: &Config,
    pictures: &batch::Pictures,
    steps: &MatchSteps<'_>,
    quiet: bool,
) -> anyhow::Result<u8> {
    let matcher = Matcher::open(config, steps.model, quiet).await?;
    let mut summary = BatchSummary::default();
    let mut out = std::io::stdout();
    for (path, reason) in &pictures.unlisted {
        summary.add_unreadable();
        unreadable(config, &mut out, path, reason)?;
    }
    for path in &pictures.paths {
        let query = match read_query(path, steps.options).await {
            Ok(query) => query,
            Err(e) => {
                summary.add_unreadable();
                unreadable(config, &mut out, path, &format!("{e:#}"))?;
                continue;
            }
        };
        let found = matcher.report(config, &query, steps).await?;
        summary.add(&found);
        let paths = write_report_files(config, &found, steps.report)?;
        match config.format {
            OutputFormat::Json => {
                let line = serde_json::json!({
                    "picture": batch::label(path),
                    "report": found,
                    "report_files": paths,
                });
                writeln!(out.lock(), "{}", render_json_line(&line))?;
            }
            OutputFormat::Human => writeln!(out.lock(), "{}", match_overview(&found))?,
        }
        print_paths(&paths);
    }
    match config.format {
        OutputFormat::Json => writeln!(
            out.lock(),
            "{}",
            render_json_line(&serde_json::json!({ "summary": summary }))
        )?,
        OutputFormat::Human => writeln!(out.lock(), "{}", summary.line())?,
    }
    if summary.unreadable > 0 {
        anyhow::bail!(
            "{} of {} could not be read (named above); the others were matched",
            summary.unreadable,
            batch::pictures(summary.pictures)
        );
    }
    Ok(exit::SUCCESS)
}

/// Says that a picture of a batch could not be read: on stderr always, and
/// as a JSON line with `--format json`.
fn unreadable(
    config: &Config,
    out: &mut std::io::Stdout,
    path: &std::path::Path,
    reason: &str,
) -> anyhow::Result<()> {
    eprintln!("error: {reason}");
    if config.format == OutputFormat::Json {
        let line = serde_json::json!({ "picture": batch::label(path), "error": reason });
        writeln!(out.lock(), "{}", render_json_line(&line))?;
    }
    Ok(())
}

/// The store, the embedder it was built with and the copy index, opened
/// once for every picture matched.
struct Matcher {
    store: Box<dyn Store>,
    embedder: Option<std::sync::Arc<dyn crate::embed::Embedder>>,
    index: MatchIndex,
}

impl Matcher {
    async fn open(config: &Config, model: &ModelArgs, quiet: bool) -> anyhow::Result<Self> {
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
        Ok(Self {
            store,
            embedder,
            index,
        })
    }

    /// The report for one picture, with the web archive's dates unless
    /// `--no-archive`.
    async fn report(
        &self,
        config: &Config,
        query: &QueryPicture,
        steps: &MatchSteps<'_>,
    ) -> anyhow::Result<Report> {
        let store = &*self.store;
        let mut found = lookup::find_image(
            store,
            self.embedder.clone(),
            &self.index,
            query,
            steps.options,
        )
        .await
        .map_err(at(config))?;
        if !steps.archive.no_archive {
            ask_the_archive(&mut found, store, steps.archive, steps.model.offline).await?;
        }
        Ok(found)
    }
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

/// Runs `search`: pictures that fit the text (CLIP and the words of their
/// pages, fused), or with `--in-pages` the postings whose words hold it.
pub async fn run_search(config: &Config, args: SearchArgs, quiet: bool) -> anyhow::Result<u8> {
    if args.top == 0 {
        return Err(ConfigError::Invalid("--top must be at least 1".into()).into());
    }
    if args.in_pages || args.by == SearchBy::Pages {
        TextQuery::parse(&args.text).map_err(|e| ConfigError::Invalid(e.to_string()))?;
    }
    let wants_pictures = !args.in_pages && args.by != SearchBy::Pages;
    if args.by == SearchBy::Picture && args.model.embedder == EmbedderArg::None {
        return Err(ConfigError::Invalid(
            "--by picture needs the CLIP model; drop --embedder none".into(),
        )
        .into());
    }
    let store = open(config).await?;
    if args.in_pages {
        let hits = lookup::find_postings(&*store, &args.text, args.top)
            .await
            .map_err(at(config))?;
        let mut out = std::io::stdout().lock();
        match config.format {
            OutputFormat::Json => writeln!(out, "{}", render_postings_json(&args.text, &hits))?,
            OutputFormat::Human => write!(out, "{}", postings_overview(&args.text, &hits))?,
        }
        return Ok(exit::SUCCESS);
    }
    let vectors = lookup::vectors_in_use(&*store).await.map_err(at(config))?;
    if args.by == SearchBy::Picture && !vectors {
        return Err(LookupError::NoVectors.into());
    }
    let embedder = match wants_pictures && vectors && args.model.embedder != EmbedderArg::None {
        true => {
            let stored = store.model().await.map_err(LookupError::from)?;
            let model = setup::model_of_store(&args.model, stored.as_ref())?;
            setup::embedder(&model, &config.data_dir, quiet).await?
        }
        false => None,
    };
    let search = lookup::TextSearch {
        top: args.top,
        min_similarity: args.min_similarity,
        pictures: wants_pictures,
        page_words: args.by != SearchBy::Picture,
    };
    let report = lookup::find_text(&*store, embedder, &args.text, &search)
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
    let paths = write_report_files(config, report, args)?;
    match config.format {
        OutputFormat::Json => writeln!(std::io::stdout().lock(), "{}", render_json(report))?,
        OutputFormat::Human => write!(std::io::stdout().lock(), "{}", match_overview(report))?,
    }
    print_paths(&paths);
    Ok(exit::SUCCESS)
}

/// Writes the report files (none with `--no-report`); returns their paths.
fn write_report_files(
    config: &Config,
    report: &Report,
    args: &ReportArgs,
) -> anyhow::Result<Vec<std::path::PathBuf>> {
    if args.no_report {
        return Ok(Vec::new());
    }
    let dir = args
        .report_dir
        .clone()
        .unwrap_or_else(|| config.data_dir.join("reports"));
    write_reports(&dir, report, &args.report_format)
        .with_context(|| format!("cannot write the reports in {}", dir.display()))
}

/// Names the report files written, on stderr.
fn print_paths(paths: &[std::path::PathBuf]) {
    for path in paths {
        eprintln!("report: {}", path.display());
    }
}
