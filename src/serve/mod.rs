//! `provenance serve`: the web UI and the HTTP API over one store, calling
//! the same library entries as the CLI ([`crate::lookup`], [`crate::scan`]).
//!
//! - **Pages** are rendered on the server ([`pages`], pure functions of the
//!   report and the request) with a little progressive JavaScript
//!   (`assets/app.js`: drag-and-drop, review shortcuts, compare modes, scan
//!   progress). Every page works without it; nothing is loaded from
//!   elsewhere, so the UI works offline and needs no front-end build.
//! - **Cases**: an uploaded picture is kept by its SHA-256 ([`cases`]);
//!   its page matches it afresh against the store each time it is shown,
//!   with the decisions recorded about it ([`crate::model::review`]).
//! - **API** under `/api/v1` ([`api`]): JSON, one error shape
//!   ([`error::ApiError`]), described in `docs/openapi.json` ([`openapi`]).
//! - **Security** ([`security`]): loopback unless a token is set, the Host
//!   checked against DNS rebinding, a bearer token or a login, a CSRF token
//!   on every state-changing request, a Content-Security-Policy on every
//!   response, bounded uploads, decodes, matches and request times.

mod api;
mod assets;
mod cases;
mod error;
mod export;
mod matcher;
pub mod openapi;
mod pages;
mod scans;
mod security;
mod state;
mod ui;
mod watching;

use std::future::Future;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get, post};
use axum::Router;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;

pub use cases::CaseId;
pub use security::{check_exposure, ApiToken, ExposureError};
pub use state::{AppState, ServeSettings};
pub use watching::Watching;

/// Bytes a multipart upload may carry beyond the picture itself (field
/// names, headers, the boundary).
const MULTIPART_OVERHEAD: usize = 64 * 1024;

/// Every route of the UI and the API.
pub fn router(state: Arc<AppState>) -> Router {
    let body_limit =
        usize::try_from(state.settings.upload_max_bytes).unwrap_or(usize::MAX) + MULTIPART_OVERHEAD;
    let timed = Router::new()
        .route("/", get(ui::home))
        .route("/match", post(ui::upload))
        .route("/login", get(ui::login_page).post(ui::login))
        .route("/logout", post(ui::logout))
        .route("/cases", get(ui::cases))
        .route("/cases/{case}", get(ui::results))
        .route("/cases/{case}/query", get(ui::query_image))
        .route("/cases/{case}/compare/{image}", get(ui::compare))
        .route("/cases/{case}/reviews", post(ui::review))
        .route("/cases/{case}/export.csv", get(export::csv))
        .route("/cases/{case}/export.json", get(export::json))
        .route("/cases/{case}/bundle.zip", get(export::bundle))
        .route("/library", get(ui::library))
        .route("/postings", get(ui::postings))
        .route("/watches", get(ui::watches))
        .route("/scans", get(ui::scans).post(ui::start_scan))
        .route("/scans/{scan}", get(ui::scan))
        .route("/scans/{scan}/cancel", post(ui::cancel_scan))
        .route("/images/{image}/thumbnail", get(api::thumbnail))
        .route("/assets/{file}", get(assets::serve))
        .route("/healthz", get(api::healthz))
        .route("/api/v1/session", get(api::session))
        .route("/api/v1/match", post(api::match_upload))
        .route("/api/v1/images/{image}", get(api::image))
        .route("/api/v1/postings", get(api::postings))
        .route("/api/v1/changes", get(api::changes))
        .route("/api/v1/watches", get(api::watches))
        .route("/api/v1/images/{image}/thumbnail", get(api::thumbnail))
        .route("/api/v1/cases/{case}/compare/{image}", get(api::compare))
        .route("/api/v1/cases/{case}/export.csv", get(export::csv))
        .route("/api/v1/cases/{case}/export.json", get(export::json))
        .route("/api/v1/cases/{case}/bundle.zip", get(export::bundle))
        .route("/api/v1/reviews", post(api::put_review).get(api::reviews))
        .route("/api/v1/scans", post(api::start_scan).get(api::scans))
        .route(
            "/api/v1/scans/{scan}",
            get(api::scan).delete(api::cancel_scan),
        )
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            state.settings.request_timeout,
        ));
    // Progress streams last as long as their scan: no request timeout.
    let streams = Router::new()
        .route("/api/v1/scans/{scan}/events", get(api::scan_events))
        .route("/scans/{scan}/events", get(api::scan_events));
    timed
        .merge(streams)
        .route("/api/v1/{*rest}", any(api::not_found))
        .fallback(ui::not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::guard,
        ))
        .with_state(state)
}

/// Serves until `shutdown` resolves; scans still running are cancelled
/// (and resumable: a rerun of the same scan resumes it).
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let scans = state.clone();
    let watches = state
        .settings
        .watching
        .clone()
        .map(|watching| watching::spawn(state.clone(), watching));
    let served = axum::serve(listener, router(state))
        .with_graceful_shutdown(async move {
            shutdown.await;
            scans.scans.cancel_all();
        })
        .await;
    if let Some(task) = watches {
        task.abort();
    }
    served
}
