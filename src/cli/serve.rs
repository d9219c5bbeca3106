//! `provenance serve`: flags and environment → the server's settings and
//! state → [`crate::serve::serve`] until Ctrl-C. Everything the server does
//! is in the library; this only sets it up.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use super::args::{EmbedderArg, ServeArgs};
use super::{exit, settings, setup};
use crate::config::{Config, ConfigError};
use crate::lookup::MatchIndex;
use crate::serve::{self, check_exposure, ApiToken, AppState, ServeSettings};
use crate::store::{self, Store};

/// The variable holding the API token.
pub(super) const TOKEN_VARIABLE: &str = "PROVENANCE_API_TOKEN";

/// Runs `serve`.
pub async fn run_serve(config: &Config, args: ServeArgs, quiet: bool) -> anyhow::Result<u8> {
    let token = match std::env::var(TOKEN_VARIABLE) {
        Ok(t) if !t.trim().is_empty() => {
            Some(ApiToken::new(&t).map_err(|e| ConfigError::Invalid(e.to_string()))?)
        }
        _ => None,
    };
    check_exposure(args.listen, token.as_ref()).map_err(|e| ConfigError::Invalid(e.to_string()))?;
    let scans = settings::scan_options(&args.ingest);
    let mut lookup = settings::lookup_options(&args.lookup)?;
    lookup.decode_limits = scans.decode_limits;
    let fetcher = setup::fetcher(&args.fetch, &args.ingest)?;
    let store: Arc<dyn Store> = store::open(&config.store)
        .await
        .with_context(|| format!("cannot open the store at {}", config.store))?
        .into();
    let embedder = if args.ingest.model.embedder == EmbedderArg::None {
        None
    } else {
        setup::embedder(&args.ingest.model, &config.data_dir, quiet).await?
    };
    let index = MatchIndex::default();
    setup::index_missing_terms(&*store, &index, quiet).await?;
    let settings = ServeSettings {
        token,
        loopback_only: args.listen.ip().is_loopback(),
        upload_max_bytes: args.max_upload_mb.saturating_mul(1024 * 1024),
        max_concurrent_matches: args
            .max_concurrent_matches
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        request_timeout: Duration::from_secs(args.request_timeout),
        lookup,
        cases_dir: config.data_dir.join("cases"),
        scans,
        watching: (!args.no_watches)
            .then(|| -> anyhow::Result<_> {
                Ok(crate::serve::Watching {
                    gone_after: args.watching.gone_after,
                    webhook: setup::webhook(args.watching.webhook_url.as_deref(), &fetcher)?,
                    every: Duration::from_secs(60),
                })
            })
            .transpose()?,
    };
    let env = Arc::new(|name: &str| std::env::var(name).ok());
    let state = AppState::new(settings, store, embedder, index, fetcher, env)
        .context("cannot set up the folder of uploaded pictures")?;
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener
        .local_addr()
        .context("cannot read the listening address")?;
    writeln!(
        std::io::stdout().lock(),
        "provenance serve: http://{address}/ (Ctrl-C stops)"
    )?;
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    serve::serve(listener, state, stop)
        .await
        .context("the server stopped")?;
    Ok(exit::SUCCESS)
}
