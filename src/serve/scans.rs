//! Scans started from the web: each runs as a task of its own with live
//! counters and a cancel switch, kept here while the server runs (the
//! store keeps every scan's record for good).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::model::{ScanId, ScanStatus};
use crate::scan::{self, OpenedScan, Progress, ScanOptions, Seed, Services};

/// How a scan started here ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ended {
    /// Completed, interrupted (cancelled) or failed.
    pub status: ScanStatus,
    /// Why it failed, in words.
    pub error: Option<String>,
}

/// A scan started here.
#[derive(Clone)]
pub(super) struct Live {
    /// Its counters, updated as it goes.
    pub progress: Arc<Progress>,
    /// Stops it (it stays resumable).
    pub cancel: CancellationToken,
    /// `None` while it runs.
    pub ended: watch::Receiver<Option<Ended>>,
}

impl Live {
    /// Whether it still runs.
    pub fn running(&self) -> bool {
        self.ended.borrow().is_none()
    }
}

/// The scans started here.
#[derive(Default)]
pub(super) struct Scans {
    live: Mutex<HashMap<ScanId, Live>>,
}

impl Scans {
    /// Starts an opened scan unless it already runs here (a second request
    /// for the same scan resumes the same record: it is not run twice).
    pub fn start(
        &self,
        services: Services,
        seed: Seed,
        opened: OpenedScan,
        options: ScanOptions,
    ) -> Live {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(running) = live.get(&opened.scan_id).filter(|l| l.running()) {
            return running.clone();
        }
        let progress = Arc::new(Progress::default());
        let cancel = CancellationToken::new();
        let (tx, rx) = watch::channel(None);
        let entry = Live {
            progress: progress.clone(),
            cancel: cancel.clone(),
            ended: rx,
        };
        live.insert(opened.scan_id, entry.clone());
        tokio::spawn(async move {
            let result =
                scan::run_opened_scan(&services, seed, opened, options, progress, cancel).await;
            let ended = match result {
                Ok(summary) => Ended {
                    status: summary.status,
                    error: None,
                },
                Err(scan::ScanError::Interrupted) => Ended {
                    status: ScanStatus::Interrupted,
                    error: None,
                },
                Err(e) => {
                    tracing::warn!(scan = opened.scan_id, "scan failed: {e}");
                    Ended {
                        status: ScanStatus::Failed,
                        error: Some(e.to_string()),
                    }
                }
            };
            let _ = tx.send(Some(ended));
        });
        entry
    }

    /// A scan started here.
    pub fn get(&self, id: ScanId) -> Option<Live> {
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
    }

    /// Cancels every running scan (the server is stopping).
    pub fn cancel_all(&self) {
        for live in self.live.lock().unwrap_or_else(|p| p.into_inner()).values() {
            live.cancel.cancel();
        }
    }
}
