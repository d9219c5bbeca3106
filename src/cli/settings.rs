//! "High args": the flag groups of `cli::args` validated into the
//! library's settings, in one place. A value out of range is a
//! [`ConfigError`] (exit 2) before anything runs.

use std::path::Path;
use std::time::Duration;

use super::args::{FetchArgs, IngestArgs, LookupArgs, ModelArgs};
use crate::config::ConfigError;
use crate::decode::DecodeLimits;
use crate::embed::{DeviceChoice, ModelSettings, ModelSource, Precision};
use crate::fetch::FetchSettings;
use crate::http::RetryPolicy;
use crate::lookup::LookupOptions;
use crate::matching::Thresholds;
use crate::scan::{DecodeBudget, ScanOptions};

/// One mebibyte, the unit of `--max-image-mb`.
pub const MIB: u64 = 1024 * 1024;

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
        user_agent: crate::http::user_agent(args.contact.as_deref()),
        max_image_bytes,
        total_timeout: Duration::from_secs(args.timeout.max(1)),
        read_timeout: Duration::from_secs(args.read_timeout.max(1)),
        retry: RetryPolicy {
            retries: args.retries,
            max: Duration::from_secs(args.max_retry_wait),
            ..RetryPolicy::default()
        },
        host_strikes: args.host_strikes,
        concurrency: args.concurrency,
        per_host_concurrency: args.per_host,
        allow_private_addresses: args.allow_private_addresses,
        respect_robots_txt: !args.ignore_robots,
        respect_x_robots_tag: !args.ignore_noai,
        ..FetchSettings::default()
    })
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
        retry: ModelSettings::HUB_RETRY,
    })
}

/// How a scan or an index run works, from the ingest flags.
pub fn scan_options(ingest: &IngestArgs) -> ScanOptions {
    let defaults = ScanOptions::default();
    ScanOptions {
        refresh: ingest.refresh,
        batch_size: ingest.model.batch_size.max(1),
        decode_workers: ingest
            .decode_workers
            .unwrap_or(defaults.decode_workers)
            .max(1),
        decode_limits: decode_limits(ingest),
        decode_budget: DecodeBudget::new(ingest.decode_memory_mb.saturating_mul(1024 * 1024)),
        ..defaults
    }
}

/// `match`'s flags as lookup options; a bad value is a usage error.
pub fn lookup_options(args: &LookupArgs) -> Result<LookupOptions, ConfigError> {
    let mut thresholds = Thresholds {
        min_verified_inliers: args.min_inliers,
        ..Thresholds::default()
    };
    if let Some(min) = args.min_similarity {
        thresholds = thresholds.with_min_similarity(min);
    }
    let options = LookupOptions {
        top: args.top,
        thresholds,
        verify_top: args.verify_top,
        neighbours: None,
        ..LookupOptions::default()
    };
    options
        .validate()
        .map_err(|e| ConfigError::Invalid(e.to_string()))?;
    Ok(options)
}
