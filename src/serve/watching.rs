//! While `serve` runs, the watches that are due run on their own: every
//! minute the due ones are scanned (the scan shows on the scans page like
//! one started there), their postings re-checked, and the webhook told —
//! what `provenance watch run` does from cron.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::state::AppState;
use crate::model::{ScanId, ScanStatus, WatchRecord};
use crate::scan::{self, ScanOptions, Services};
use crate::search::{api_client, search_retry_policy};
use crate::watch::{self, Webhook};

/// How `serve` runs watches.
#[derive(Debug, Clone)]
pub struct Watching {
    /// Failed re-checks in a row that make a posting gone.
    pub gone_after: u32,
    /// Told of the changes after each run.
    pub webhook: Option<Webhook>,
    /// How often due watches are looked for.
    pub every: Duration,
}

/// Runs due watches until the server stops.
pub(super) fn spawn(state: Arc<AppState>, watching: Watching) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            run_due(&state, &watching).await;
            tokio::time::sleep(watching.every).await;
        }
    })
}

/// One pass: every due watch, one after another; a failure is logged and
/// the watch stays due.
pub(super) async fn run_due(state: &AppState, watching: &Watching) {
    let due = match state.store.watches().await {
        Ok(all) => watch::due(all, Utc::now(), false),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the watches");
            return;
        }
    };
    for w in due {
        let scan_id = match scan_for(state, &w).await {
            Ok(id) => id,
            Err(why) => {
                tracing::warn!(watch = w.id, %why, "a watch's scan did not run");
                None
            }
        };
        match watch::finish_run(
            &*state.store,
            &state.fetcher,
            &w,
            scan_id,
            watching.gone_after,
        )
        .await
        {
            Ok(run) => tracing::info!(
                watch = w.id,
                new = run.new,
                gone = run.gone,
                changed = run.changed,
                "watch ran"
            ),
            Err(e) => tracing::warn!(watch = w.id, error = %e, "a watch's run failed"),
        }
    }
    if let Some(webhook) = &watching.webhook {
        if let Err(e) = webhook.deliver(&*state.store).await {
            tracing::warn!(error = %e, "the webhook was not told");
        }
    }
}

/// Runs a watch's scan to its end, as the scans page would; its id.
async fn scan_for(state: &AppState, w: &WatchRecord) -> Result<Option<ScanId>, String> {
    let embedder = if state.embedder.is_some() {
        "clip"
    } else {
        "none"
    };
    let image = state
        .store
        .watch_image(w.id)
        .await
        .map_err(|e| e.to_string())?;
    let request = watch::scan::scan_request(&w.scan, image, embedder.into())?;
    let client = api_client().map_err(|e| e.to_string())?;
    let planned = request
        .plan(&*state.env, client, search_retry_policy())
        .map_err(|e| e.to_string())?;
    let services = Services {
        store: state.store.clone(),
        fetcher: state.fetcher.clone(),
        embedder: state.embedder.clone(),
    };
    let opened = scan::open_scan(&services, &planned.record)
        .await
        .map_err(|e| e.to_string())?;
    let options = ScanOptions {
        follow_pages: request.follow_pages,
        max_pages: request.max_pages,
        decode_limits: state.settings.lookup.decode_limits,
        ..state.settings.scans.clone()
    };
    let live = state.scans.start(services, planned.seed, opened, options);
    let mut ended = live.ended.clone();
    let status = loop {
        if let Some(end) = ended.borrow().clone() {
            break end.status;
        }
        if ended.changed().await.is_err() {
            return Err("the scan's task ended without a word".into());
        }
    };
    match status {
        ScanStatus::Interrupted => Err("the scan was cancelled".into()),
        _ => Ok(Some(opened.scan_id)),
    }
}
