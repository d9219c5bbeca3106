//! `provenance trace FILE`: the one-shot answer for a person holding a
//! picture — a reverse search by upload (TinEye, when its key is set),
//! scans of any keyphrases given, then the match and its report. Each
//! search is an ordinary scan (recorded, resumable); one that fails is
//! named and the others still count; the match runs on what is stored.

use super::args::TraceArgs;
use super::scan::{
    env, open_services, picture_file, provider_kind, request_error, scan_with_progress,
};
use super::{exit, lookup, settings, setup};
use crate::config::{Config, ConfigError};
use crate::model::ScanStatus;
use crate::scan::{PlannedScan, ScanInput, ScanOptions, ScanRequest};

/// Said when no reverse search can run and keyphrases will have to do.
const NO_REVERSE: &str = "no reverse search by upload: TINEYE_API_KEY is not set; only the keyphrase scans run (a key from https://services.tineye.com/TinEyeAPI adds every posting TinEye knows)";

/// Runs `trace`.
pub async fn run_trace(config: &Config, args: TraceArgs, quiet: bool) -> anyhow::Result<u8> {
    let options = settings::lookup_options(&args.lookup)?;
    let query = lookup::read_query(&args.image, &options).await?;
    let requests = requests(&args, quiet)?;
    let (client, retry) = setup::search_client(&args.reach, args.fetch.contact.as_deref())?;
    // Every search is planned before any runs: a missing key or an unknown
    // provider stops the trace before it has spent anything.
    let planned: Vec<PlannedScan> = requests
        .iter()
        .map(|r| r.plan(&env, client.clone(), retry))
        .collect::<Result<_, _>>()
        .map_err(request_error)?;
    let fetcher = setup::fetcher(&args.fetch, &args.ingest)?;
    let services = open_services(config, &args.ingest, fetcher, quiet).await?;
    let scan_options = ScanOptions {
        follow_pages: args.reach.follow_pages,
        max_pages: args.reach.max_pages,
        fetch_workers: args.fetch.concurrency,
        ..settings::scan_options(&args.ingest)
    };
    let mut said: Vec<String> = Vec::new();
    for scan in planned {
        if let Some(notice) = scan.notice.filter(|n| !quiet && !said.contains(n)) {
            eprintln!("note: {notice}");
            said.push(notice);
        }
        let what = format!("{} ({})", scan.record.keyphrase, scan.record.provider);
        let ran = scan_with_progress(
            &services,
            scan.seed,
            scan.record,
            scan_options.clone(),
            crate::report::SummaryOf::Web,
            quiet,
        )
        .await;
        match ran {
            Ok(summary) if summary.status == ScanStatus::Interrupted => {
                eprintln!("trace interrupted during the search for {what}; rerun to resume");
                return Ok(exit::INTERRUPTED);
            }
            Ok(summary) => {
                if !quiet {
                    let counts = &summary.progress.counts;
                    eprintln!(
                        "searched {what}: {} candidates, {} new pictures, {} failed",
                        counts.candidates, counts.new_images, counts.failed
                    );
                }
            }
            Err(e) => eprintln!("the search for {what} failed and is left out: {e:#}"),
        }
    }
    let steps = lookup::MatchSteps {
        model: &args.ingest.model,
        options: &options,
        report: &args.report,
        archive: &args.archive,
    };
    lookup::match_and_deliver(config, &query, &steps, quiet).await
}

/// The scans a trace runs: the reverse search first (when a key allows),
/// then one per keyphrase. Neither possible is a usage error.
fn requests(args: &TraceArgs, quiet: bool) -> anyhow::Result<Vec<ScanRequest>> {
    let has_key = env("TINEYE_API_KEY").is_some_and(|k| !k.trim().is_empty());
    let reverse = !args.no_reverse && has_key;
    if !reverse && args.keyphrases.is_empty() {
        let why = if args.no_reverse {
            "--no-reverse leaves nothing to search"
        } else {
            "TINEYE_API_KEY is not set, so no reverse search by upload can run"
        };
        return Err(ConfigError::Invalid(format!(
            "trace needs something to search with: {why}; give --keyphrase WORDS (words seen with the picture), or set TINEYE_API_KEY"
        ))
        .into());
    }
    if !reverse && !args.no_reverse && !quiet {
        eprintln!("note: {NO_REVERSE}");
    }
    let request = |input, providers| ScanRequest {
        input,
        providers,
        max_results: args.reach.max_results,
        follow_pages: args.reach.follow_pages,
        max_pages: args.reach.max_pages,
        exact_matches: true,
        embedder: format!("{:?}", args.ingest.model.embedder).to_lowercase(),
    };
    let mut requests = Vec::new();
    if reverse {
        let input = picture_file(&args.image)?;
        requests.push(request(input, vec![crate::search::ProviderKind::TinEye]));
    }
    let providers: Vec<_> = args
        .reach
        .provider
        .iter()
        .copied()
        .map(provider_kind)
        .collect();
    for words in &args.keyphrases {
        requests.push(request(
            ScanInput::Keyphrase(words.clone()),
            providers.clone(),
        ));
    }
    Ok(requests)
}
