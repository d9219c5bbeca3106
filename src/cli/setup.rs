//! Building the services the flags ask for: the fetcher, and the embedder
//! (with a download progress bar on stderr). Shared by `scan`, `index`,
//! `match` and `search`.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use super::args::{EmbedderArg, FetchArgs, IngestArgs, ModelArgs, ReachArgs};
use super::settings::{fetch_settings, model_settings, MIB};
use crate::config::ConfigError;
use crate::embed::hub::DownloadProgress;
use crate::embed::DEFAULT_REVISION;
use crate::embed::{ClipEmbedder, Embedder};
use crate::fetch::Fetcher;
use crate::http::RetryPolicy;
use crate::lookup::MatchIndex;
use crate::model::ModelInfo;
use crate::search::{api_client_with_contact, search_retry_policy};
use crate::store::Store;

/// The model a command reading `stored`'s vectors must load: the one the
/// store records when the flags leave the hub default in place (a store
/// built from another hub model needs no flags); for a store built from a
/// local directory, `--model-dir`, which it cannot guess (one sentence
/// says so instead of trying a download).
pub fn model_of_store(
    args: &ModelArgs,
    stored: Option<&ModelInfo>,
) -> Result<ModelArgs, ConfigError> {
    let Some(stored) = stored else {
        return Ok(args.clone());
    };
    let defaults =
        args.model == crate::embed::DEFAULT_REPO && args.model_revision == DEFAULT_REVISION;
    if args.model_dir.is_some() || !defaults {
        return Ok(args.clone());
    }
    if stored.id.starts_with("local/") {
        return Err(ConfigError::Invalid(format!(
            "this store's vectors come from the local model {}; pass --model-dir with that model's directory",
            stored.id
        )));
    }
    let Some((repo, revision)) = stored.id.rsplit_once('@') else {
        return Ok(args.clone());
    };
    Ok(ModelArgs {
        model: repo.to_owned(),
        model_revision: revision.to_owned(),
        ..args.clone()
    })
}

/// The search API client and retry policy `reach` asks for, with the
/// fetcher's contact in its User-Agent.
pub fn search_client(
    reach: &ReachArgs,
    contact: Option<&str>,
) -> anyhow::Result<(reqwest::Client, RetryPolicy)> {
    search_client_with(reach.search_timeout, reach.search_retries, contact)
}

/// The search API client taking `timeout_secs` a request and `retries`
/// retries after 429/5xx.
pub fn search_client_with(
    timeout_secs: u64,
    retries: u32,
    contact: Option<&str>,
) -> anyhow::Result<(reqwest::Client, RetryPolicy)> {
    let client = api_client_with_contact(contact, std::time::Duration::from_secs(timeout_secs))
        .context("cannot set up the HTTP client for the search API")?;
    let retry = RetryPolicy {
        retries,
        ..search_retry_policy()
    };
    Ok((client, retry))
}

/// The webhook at `url` (`--webhook-url`), reached under the fetcher's
/// rules on addresses; a bad URL is a usage error.
pub fn webhook(
    url: Option<&str>,
    fetcher: &Fetcher,
) -> anyhow::Result<Option<crate::watch::Webhook>> {
    let Some(url) = url.filter(|u| !u.trim().is_empty()) else {
        return Ok(None);
    };
    let settings = fetcher.settings();
    let policy = crate::fetch::guard::AddressPolicy {
        allow_private: settings.allow_private_addresses,
        allowed_networks: settings.allowed_networks.clone(),
    };
    crate::watch::Webhook::new(url, policy, settings.user_agent.clone())
        .map(Some)
        .map_err(|e| crate::config::ConfigError::Invalid(format!("--webhook-url: {e}")).into())
}

/// The fetcher for a scan.
pub fn fetcher(args: &FetchArgs, ingest: &IngestArgs) -> anyhow::Result<Fetcher> {
    let settings = fetch_settings(args, ingest.max_image_mb.saturating_mul(MIB))?;
    Fetcher::new(settings).context("cannot set up the HTTP client")
}

/// Files in the copy index the pictures stored before it existed (their
/// terms are computed from their stored keypoints, once), with a counter on
/// stderr while it runs.
pub async fn index_missing_terms(
    store: &dyn Store,
    index: &MatchIndex,
    quiet: bool,
) -> anyhow::Result<u64> {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {pos} pictures ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message("adding pictures stored earlier to the copy index:");
    let done = index
        .index_missing(store, &|n| bar.set_position(n))
        .await
        .context("cannot build the copy index")?;
    bar.finish_and_clear();
    if done > 0 {
        tracing::info!(pictures = done, "added to the copy index");
    }
    Ok(done)
}

/// Loads the embedder the flags ask for (`None` for `--embedder none`),
/// downloading the model on first use with a progress bar on stderr.
pub async fn embedder(
    args: &ModelArgs,
    data_dir: &Path,
    quiet: bool,
) -> anyhow::Result<Option<Arc<dyn Embedder>>> {
    if args.embedder == EmbedderArg::None {
        return Ok(None);
    }
    let settings = model_settings(args, data_dir)?;
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template("{msg} {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let on_progress = |p: DownloadProgress| {
        bar.set_message(format!("downloading {}", p.file));
        bar.set_length(p.total.unwrap_or(p.done));
        bar.set_position(p.done);
    };
    let model = ClipEmbedder::load(&settings, &on_progress)
        .await
        .context("cannot get the CLIP model (use --model-dir for a local copy, or --embedder none to hash only)")?;
    bar.finish_and_clear();
    Ok(Some(Arc::new(model)))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        model: ModelArgs,
    }

    fn flags(args: &[&str]) -> ModelArgs {
        Flags::parse_from(std::iter::once("t").chain(args.iter().copied())).model
    }

    fn stored(id: &str) -> ModelInfo {
        ModelInfo {
            id: id.into(),
            dim: 512,
        }
    }

    #[test]
    fn the_stores_hub_model_is_used_unless_another_is_asked_for() {
        let chosen = model_of_store(&flags(&[]), Some(&stored("acme/clip-big@abc123"))).unwrap();
        assert_eq!(
            (chosen.model.as_str(), chosen.model_revision.as_str()),
            ("acme/clip-big", "abc123")
        );
        let asked = flags(&["--model", "other/clip"]);
        let kept = model_of_store(&asked, Some(&stored("acme/clip-big@abc123"))).unwrap();
        assert_eq!(
            kept.model, "other/clip",
            "an explicit choice stands (the store then refuses it)"
        );
        assert_eq!(
            model_of_store(&flags(&[]), None).unwrap().model,
            crate::embed::DEFAULT_REPO
        );
    }

    #[test]
    fn a_local_model_must_be_named() {
        let local = stored("local/tiny@config-0123456789ab-42");
        let err = model_of_store(&flags(&[]), Some(&local)).unwrap_err();
        assert!(err.to_string().contains("--model-dir"), "{err}");
        let given = flags(&["--model-dir", "/models/tiny"]);
        assert!(model_of_store(&given, Some(&local)).is_ok());
    }
}
