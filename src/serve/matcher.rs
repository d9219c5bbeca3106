//! Matching for the web: the query decoded off the async threads, at most
//! `max_concurrent_matches` at once (the others wait their turn), through
//! the same library call as `provenance match`.

use axum::http::StatusCode;

use super::cases::{CaseId, CaseMeta};
use super::error::ApiError;
use super::state::AppState;
use crate::lookup::{self, QueryPicture};
use crate::report::Report;

/// Decodes a query within the decoder's limits (pixel count checked
/// before any pixel is decoded) and within the server's decode memory
/// budget, shared with its scans: uploads decoded at once wait until what
/// their headers say they need fits.
pub(super) async fn decode(
    state: &AppState,
    label: String,
    bytes: Vec<u8>,
) -> Result<QueryPicture, ApiError> {
    let limits = state.settings.lookup.decode_limits;
    let reserved = state.settings.scans.decode_budget.reserve(&bytes).await;
    let decoded =
        tokio::task::spawn_blocking(move || QueryPicture::decode(label, &bytes, &limits)).await;
    drop(reserved);
    decoded
        .map_err(|e| ApiError::internal("decoding the picture crashed", &e))?
        .map_err(ApiError::from)
}

/// Matches a decoded query against the store.
pub(super) async fn find(state: &AppState, query: &QueryPicture) -> Result<Report, ApiError> {
    let _turn = state
        .matches
        .acquire()
        .await
        .map_err(|e| ApiError::internal("the server is stopping", &e))?;
    let report = lookup::find_image(
        &*state.store,
        state.embedder.clone(),
        &state.index,
        query,
        &state.settings.lookup,
    )
    .await?;
    Ok(report)
}

/// A kept case's picture and what is known of it, by its id as given in
/// a route (anything but 64 hex digits is no case).
pub(super) async fn load_case(
    state: &AppState,
    case: &str,
) -> Result<(CaseId, Vec<u8>, CaseMeta), ApiError> {
    let id: CaseId = case
        .parse()
        .map_err(|()| ApiError::not_found("case (a case is the SHA-256 of an uploaded picture)"))?;
    let cases = state.cases.clone();
    let (bytes, meta) = blocking(move || cases.load(id))
        .await
        .map_err(|e| ApiError::internal("cannot read the uploaded picture", &e))?
        .ok_or_else(|| ApiError::not_found("case"))?;
    Ok((id, bytes, meta))
}

/// A kept case: its picture, what is known of it, the picture decoded.
pub(super) async fn open_case(
    state: &AppState,
    case: &str,
) -> Result<(CaseId, CaseMeta, QueryPicture), ApiError> {
    let (id, bytes, meta) = load_case(state, case).await?;
    let query = decode(state, meta.label.clone(), bytes).await?;
    Ok((id, meta, query))
}

/// A kept case matched afresh, with its decisions.
pub(super) async fn case_report(
    state: &AppState,
    case: &str,
) -> Result<(CaseId, CaseMeta, QueryPicture, Report), ApiError> {
    let (id, meta, query) = open_case(state, case).await?;
    let report = find(state, &query).await?;
    Ok((id, meta, query, report))
}

/// Keeps an uploaded picture as a case (after checking it decodes).
pub(super) async fn keep(state: &AppState, label: &str, bytes: &[u8]) -> Result<CaseId, ApiError> {
    let (cases, label, bytes) = (state.cases.clone(), label.to_string(), bytes.to_vec());
    blocking(move || cases.save(&bytes, &label))
        .await
        .map_err(|e| ApiError::internal("cannot keep the uploaded picture", &e))
}

/// File work off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(std::io::Error::other)?
}

/// An upload over the size limit.
pub(super) fn too_large(max: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("the picture is larger than the {max} bytes this server accepts"),
    )
}
