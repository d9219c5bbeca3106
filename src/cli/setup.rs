//! Turning flag groups into the library's settings and services: the fetcher,
//! the embedder (with a download progress bar), decode limits. Shared by
//! `scan`, `index`, `match` and `search`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use super::args::{EmbedderArg, FetchArgs, IngestArgs, ModelArgs};
use crate::config::ConfigError;
use crate::decode::DecodeLimits;
use crate::embed::{
    ClipEmbedder, DeviceChoice, Embedder, ModelFiles, ModelSettings, ModelSource, Precision,
};
use crate::fetch::{FetchSettings, Fetcher};

const MIB: u64 = 1024 * 1024;

/// Fetcher settings from the flags.
pub fn fetch_settings(
    args: &FetchArgs,
    max_image_bytes: u64,
) -> Result<FetchSettings, ConfigError> {
    if args.concurrency == 0 || args.per_host == 0 {
        return Err(ConfigError::Invalid(
            "--concurrency and --per-host must be at least 1".into(),
        ));
    }
    Ok(FetchSettings {
        user_agent: FetchSettings::user_agent_for(args.contact.as_deref()),
        max_image_bytes,
        total_timeout: Duration::from_secs(args.timeout.max(1)),
        read_timeout: Duration::from_secs(args.read_timeout.max(1)),
        retries: args.retries,
        concurrency: args.concurrency,
        per_host_concurrency: args.per_host,
        allow_private_addresses: args.allow_private_addresses,
        respect_robots_txt: !args.ignore_robots,
        respect_x_robots_tag: !args.ignore_noai,
        ..FetchSettings::default()
    })
}

/// The fetcher for a scan.
pub fn fetcher(args: &FetchArgs, ingest: &IngestArgs) -> anyhow::Result<Fetcher> {
    let settings = fetch_settings(args, ingest.max_image_mb.saturating_mul(MIB))?;
    Fetcher::new(settings).context("cannot set up the HTTP client")
}

/// Decode limits from the flags.
pub fn decode_limits(ingest: &IngestArgs) -> DecodeLimits {
    DecodeLimits {
        max_pixels: ingest.max_megapixels.saturating_mul(1_000_000),
        max_bytes: ingest.max_image_mb.saturating_mul(MIB),
        ..DecodeLimits::default()
    }
}

/// Model settings from the flags; the cache lives in `DATA_DIR/models`.
pub fn model_settings(args: &ModelArgs, data_dir: &Path) -> Result<ModelSettings, ConfigError> {
    let device: DeviceChoice = args.device.parse().map_err(ConfigError::Invalid)?;
    let precision: Precision = args.precision.parse().map_err(ConfigError::Invalid)?;
    if args.batch_size == 0 {
        return Err(ConfigError::Invalid(
            "--batch-size must be at least 1".into(),
        ));
    }
    let source = match &args.model_dir {
        Some(dir) => ModelSource::LocalDir(dir.clone()),
        None => ModelSource::Hub {
            endpoint: url::Url::parse(&args.hub_url).map_err(|e| {
                ConfigError::Invalid(format!("--hub-url {:?} is not a URL: {e}", args.hub_url))
            })?,
            repo: args.model.clone(),
            revision: args.model_revision.clone(),
        },
    };
    Ok(ModelSettings {
        source,
        offline: args.offline,
        device,
        precision,
        batch_size: args.batch_size,
        cache_dir: data_dir.join("models"),
    })
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
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(120))
        .build()
        .context("cannot set up the HTTP client for the model hub")?;
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template("{msg} {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let on_progress = |p: crate::embed::hub::DownloadProgress| {
        bar.set_message(format!("downloading {}", p.file));
        bar.set_length(p.total.unwrap_or(p.done));
        bar.set_position(p.done);
    };
    let files = ModelFiles::resolve(&settings, &client, &on_progress)
        .await
        .context("cannot get the CLIP model (use --model-dir for a local copy, or --embedder none to hash only)")?;
    bar.finish_and_clear();
    let model = tokio::task::spawn_blocking(move || ClipEmbedder::from_files(&files, &settings))
        .await
        .context("model loading crashed")?
        .context("cannot load the CLIP model")?;
    Ok(Some(Arc::new(model)))
}
