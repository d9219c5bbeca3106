//! The HTTP API under `/api/v1` (and `/healthz`): JSON in and out, errors
//! as [`ApiError`]. The match report is the one `match --format json`
//! prints.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use futures::Stream;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::matcher;
use super::state::AppState;
use crate::model::{Decision, ImageId, NewReview, ScanId, MAX_NOTE_CHARS};
use crate::report::render_json;
use crate::scan::{self, ScanInput, ScanOptions, ScanRequest, Services};
use crate::search::{api_client, search_retry_policy, SearchError};

/// `GET /healthz`: the server answers and the store is reachable.
pub(super) async fn healthz(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    let last = state.store.last_image_id().await?;
    Ok(Json(json!({"status": "ok", "pictures": last.is_some()})))
}

/// `GET /api/v1/session`: the CSRF token state-changing requests carry in
/// `X-CSRF-Token` (a page on another site cannot read it).
pub(super) async fn session(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(json!({"csrf_token": state.csrf}))
}

/// Any unknown `/api` path.
pub(super) async fn not_found() -> ApiError {
    ApiError::not_found("API route")
}

/// A picture uploaded as multipart field `image`, read within the limit.
pub(super) async fn read_upload(
    state: &AppState,
    mut form: Multipart,
) -> Result<(String, Vec<u8>, Vec<(String, String)>), ApiError> {
    let max = state.settings.upload_max_bytes;
    let mut picture = None;
    let mut fields = Vec::new();
    while let Some(mut field) = form.next_field().await.map_err(multipart_error(max))? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "image" {
            let label = field.file_name().unwrap_or("upload").to_string();
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(multipart_error(max))? {
                if (bytes.len() + chunk.len()) as u64 > max {
                    return Err(matcher::too_large(max));
                }
                bytes.extend_from_slice(&chunk);
            }
            if !bytes.is_empty() {
                picture = Some((label, bytes));
            }
        } else {
            let text = field.text().await.map_err(multipart_error(max))?;
            fields.push((name, text));
        }
    }
    let (label, bytes) = picture.unwrap_or_default();
    Ok((label, bytes, fields))
}

/// A request the framework could not read, with its status.
pub(super) fn rejected(e: impl IntoResponse + std::fmt::Display) -> ApiError {
    let message = e.to_string();
    let status = e.into_response().status();
    let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "too_large"
    } else {
        "bad_request"
    };
    ApiError::new(status, code, message)
}

fn multipart_error(max: u64) -> impl Fn(axum::extract::multipart::MultipartError) -> ApiError {
    move |e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            matcher::too_large(max)
        } else {
            ApiError::bad_request(format!("cannot read the upload: {}", e.body_text()))
        }
    }
}

/// `POST /api/v1/match` (multipart field `image`): the match report.
pub(super) async fn match_upload(
    State(state): State<Arc<AppState>>,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let form = form.map_err(rejected)?;
    let (label, bytes, _) = read_upload(&state, form).await?;
    if bytes.is_empty() {
        return Err(ApiError::bad_request(
            "send the picture as the multipart field `image`",
        ));
    }
    let query = matcher::decode(&state, label.clone(), bytes.clone()).await?;
    matcher::keep(&state, &label, &bytes).await?;
    let report = matcher::find(&state, &query).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        render_json(&report),
    )
        .into_response())
}

fn image_id(raw: &str) -> Result<ImageId, ApiError> {
    raw.parse::<ImageId>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::not_found("picture"))
}

/// `GET /api/v1/images/{id}`: a stored picture and every sighting.
pub(super) async fn image(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = image_id(&id)?;
    let record = state
        .store
        .image(id)
        .await?
        .ok_or_else(|| ApiError::not_found("picture"))?;
    let sightings = state.store.sightings(id).await?;
    Ok(Json(json!({"image": record, "sightings": sightings})))
}

/// `GET /api/v1/changes`'s query string.
#[derive(Debug, Deserialize)]
pub(super) struct ChangesQuery {
    since: Option<String>,
    watch: Option<crate::model::WatchId>,
}

/// `GET /api/v1/changes?since=…&watch=…`: what the watches found, as
/// `changes --format json` prints it.
pub(super) async fn changes(
    State(state): State<Arc<AppState>>,
    query: Result<Query<ChangesQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let since = q
        .since
        .as_deref()
        .map(|text| crate::watch::parse_since(text, Utc::now()))
        .transpose()
        .map_err(ApiError::bad_request)?;
    let found = state.store.changes(since, q.watch).await?;
    Ok(Json(crate::watch::changes_json(&found)))
}

/// `GET /api/v1/watches`: every watch.
pub(super) async fn watches(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({"watches": state.store.watches().await?})))
}

/// `GET /api/v1/postings`'s query string.
#[derive(Debug, Deserialize)]
pub(super) struct PostingsQuery {
    q: String,
    #[serde(default = "default_postings_limit")]
    limit: usize,
}

fn default_postings_limit() -> usize {
    20
}

/// Most postings one answer holds.
const MAX_POSTINGS: usize = 500;

/// `GET /api/v1/postings?q=…&limit=…`: the postings whose words hold
/// every word of `q`, most relevant first, the words marked in each
/// snippet (as `search --in-pages --format json`).
pub(super) async fn postings(
    State(state): State<Arc<AppState>>,
    query: Result<Query<PostingsQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    if q.limit == 0 || q.limit > MAX_POSTINGS {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {MAX_POSTINGS}"
        )));
    }
    let hits = crate::lookup::find_postings(&*state.store, &q.q, q.limit).await?;
    Ok(Json(json!({"query": q.q, "postings": hits})))
}

/// `GET /api/v1/images/{id}/thumbnail`: its stored JPEG preview.
pub(super) async fn thumbnail(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = image_id(&id)?;
    let jpeg = state
        .store
        .thumbnail(id)
        .await?
        .ok_or_else(|| ApiError::not_found("thumbnail"))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        jpeg,
    )
        .into_response())
}

/// `GET /api/v1/cases/{sha256}/compare/{id}`: how the pair lines up.
pub(super) async fn compare(
    State(state): State<Arc<AppState>>,
    Path((case, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = image_id(&id)?;
    let (_, _, query) = matcher::open_case(&state, &case).await?;
    let comparison = crate::lookup::compare(&*state.store, &query, id)
        .await?
        .ok_or_else(|| ApiError::not_found("picture"))?;
    Ok(Json(json!(comparison)))
}

/// The body of `POST /api/v1/reviews`.
#[derive(Debug, Deserialize)]
pub(super) struct ReviewBody {
    query_sha256: String,
    image_id: ImageId,
    decision: String,
    #[serde(default)]
    note: Option<String>,
}

/// Checks and records a decision.
pub(super) async fn record_review(
    state: &AppState,
    query_sha256: &str,
    image_id: ImageId,
    decision: &str,
    note: Option<String>,
) -> Result<crate::model::ReviewRecord, ApiError> {
    let mut sha = [0u8; 32];
    hex::decode_to_slice(query_sha256.trim(), &mut sha)
        .map_err(|_| ApiError::bad_request("query_sha256 must be 64 hex digits"))?;
    let decision = Decision::parse(decision).ok_or_else(|| {
        ApiError::bad_request("decision must be \"confirmed\", \"not_a_copy\" or \"ignored\"")
    })?;
    let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
    {
        return Err(ApiError::bad_request(format!(
            "the note is longer than {MAX_NOTE_CHARS} characters"
        )));
    }
    let review = NewReview {
        query_sha256: sha,
        image_id,
        decision,
        note,
        at: Utc::now(),
    };
    state
        .store
        .put_review(&review)
        .await?
        .ok_or_else(|| ApiError::not_found("picture"))
}

/// `POST /api/v1/reviews`: records (or changes) a decision.
pub(super) async fn put_review(
    State(state): State<Arc<AppState>>,
    body: Result<Json<ReviewBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body.map_err(rejected)?;
    let record = record_review(
        &state,
        &body.query_sha256,
        body.image_id,
        &body.decision,
        body.note,
    )
    .await?;
    Ok(Json(json!(record)))
}

/// The query of `GET /api/v1/reviews`.
#[derive(Debug, Deserialize)]
pub(super) struct ReviewsQuery {
    query_sha256: String,
}

/// `GET /api/v1/reviews?query_sha256=…`: the decisions about a query.
pub(super) async fn reviews(
    State(state): State<Arc<AppState>>,
    query: Result<Query<ReviewsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) =
        query.map_err(|_| ApiError::bad_request("give ?query_sha256=<64 hex digits>"))?;
    let mut sha = [0u8; 32];
    hex::decode_to_slice(q.query_sha256.trim(), &mut sha)
        .map_err(|_| ApiError::bad_request("query_sha256 must be 64 hex digits"))?;
    Ok(Json(json!({"reviews": state.store.reviews(&sha).await?})))
}

/// The body of `POST /api/v1/scans`: one of `keyphrase`, `image_url`,
/// `urls` (the lines of a URL list).
#[derive(Debug, Default, Deserialize)]
pub(super) struct ScanBody {
    #[serde(default)]
    pub keyphrase: Option<String>,
    #[serde(default)]
    pub image_url: Option<String>,
    #[serde(default)]
    pub urls: Option<String>,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub max_results: Option<usize>,
    #[serde(default)]
    pub follow_pages: bool,
    #[serde(default)]
    pub max_pages: Option<usize>,
}

/// Largest `max_results` and `max_pages` accepted from the web.
const MAX_SCAN_RESULTS: usize = 10_000;

impl ScanBody {
    /// The request it makes, the same as the CLI's flags would.
    pub fn request(&self, embedder: &str) -> Result<ScanRequest, ApiError> {
        let given = |s: &Option<String>| s.as_ref().filter(|v| !v.trim().is_empty()).cloned();
        let input = match (
            given(&self.keyphrase),
            given(&self.image_url),
            given(&self.urls),
        ) {
            (Some(k), None, None) => ScanInput::Keyphrase(k),
            (None, Some(u), None) => ScanInput::ImageUrl(u),
            (None, None, Some(list)) => {
                if scan::sources::parse_url_list(&list).0.is_empty() {
                    return Err(ApiError::bad_request(
                        "the URL list holds no http(s) image URL",
                    ));
                }
                ScanInput::UrlList {
                    name: "URL list from the web UI".into(),
                    text: list,
                }
            }
            (None, None, None) => {
                return Err(ApiError::bad_request(
                    "give a keyphrase, an image_url or a list of urls",
                ))
            }
            _ => {
                return Err(ApiError::bad_request(
                    "give only one of keyphrase, image_url and urls",
                ))
            }
        };
        let providers = match given(&self.provider) {
            None => Vec::new(),
            Some(list) => scan::request::providers_by_name(&list)
                .map_err(|e| ApiError::bad_request(e.to_string()))?,
        };
        let max_results = self.max_results.unwrap_or(100);
        let max_pages = self.max_pages.unwrap_or(50);
        if max_results == 0 || max_results > MAX_SCAN_RESULTS || max_pages > MAX_SCAN_RESULTS {
            return Err(ApiError::bad_request(format!(
                "max_results must be 1 to {MAX_SCAN_RESULTS}, max_pages at most {MAX_SCAN_RESULTS}"
            )));
        }
        Ok(ScanRequest {
            input,
            providers,
            max_results,
            follow_pages: self.follow_pages,
            max_pages,
            exact_matches: true,
            embedder: embedder.into(),
        })
    }
}

/// Starts a scan; its id and whether it resumes an earlier run.
pub(super) async fn launch(state: &AppState, body: &ScanBody) -> Result<(ScanId, bool), ApiError> {
    let embedder = if state.embedder.is_some() {
        "clip"
    } else {
        "none"
    };
    let request = body.request(embedder)?;
    let client =
        api_client().map_err(|e| ApiError::internal("cannot set up the HTTP client", &e))?;
    let planned = request
        .plan(&*state.env, client, search_retry_policy())
        .map_err(|e| match e {
            scan::RequestError::Invalid(m) => ApiError::bad_request(m),
            scan::RequestError::Provider(
                e @ (SearchError::MissingKey { .. } | SearchError::InvalidSetting(_)),
            ) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "provider_not_configured",
                e.to_string(),
            ),
            scan::RequestError::Provider(e) => ApiError::internal("the search provider failed", &e),
        })?;
    let services = Services {
        store: state.store.clone(),
        fetcher: state.fetcher.clone(),
        embedder: state.embedder.clone(),
    };
    let opened = scan::open_scan(&services, &planned.record)
        .await
        .map_err(|e| ApiError::internal("cannot record the scan", &e))?;
    let options = ScanOptions {
        follow_pages: request.follow_pages,
        max_pages: request.max_pages,
        decode_limits: state.settings.lookup.decode_limits,
        ..state.settings.scans.clone()
    };
    state.scans.start(services, planned.seed, opened, options);
    Ok((opened.scan_id, opened.resumed))
}

/// `POST /api/v1/scans`: starts a scan in the background.
pub(super) async fn start_scan(
    State(state): State<Arc<AppState>>,
    body: Result<Json<ScanBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(rejected)?;
    let (id, resumed) = launch(&state, &body).await?;
    let answer = json!({
        "scan_id": id,
        "resumed": resumed,
        "status_url": format!("/api/v1/scans/{id}"),
        "events_url": format!("/api/v1/scans/{id}/events"),
    });
    Ok((StatusCode::ACCEPTED, Json(answer)).into_response())
}

/// A scan as the API shows it: the stored record, and the live counters
/// while it runs here.
pub(super) async fn scan_json(state: &AppState, id: ScanId) -> Result<Value, ApiError> {
    let record = state
        .store
        .scan(id)
        .await?
        .ok_or_else(|| ApiError::not_found("scan"))?;
    let live = state.scans.get(id);
    let mut value = json!(record);
    if let Some((_, batches)) = state.store.batch_progress(&[id]).await?.first() {
        value["batches"] = json!(batches);
    }
    if let Some(live) = &live {
        let ended = live.ended.borrow().clone();
        value["running"] = json!(ended.is_none());
        value["live"] = json!(live.progress.snapshot());
        if let Some(ended) = ended {
            value["status"] = json!(ended.status);
            value["error"] = json!(ended.error);
        }
    } else {
        value["running"] = json!(false);
    }
    Ok(value)
}

/// `GET /api/v1/scans`: the latest scans.
pub(super) async fn scans(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    let mut list = Vec::new();
    for record in state.store.scans(100).await? {
        list.push(scan_json(&state, record.id).await?);
    }
    Ok(Json(json!({"scans": list})))
}

fn scan_id(raw: &str) -> Result<ScanId, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found("scan"))
}

/// `GET /api/v1/scans/{id}`.
pub(super) async fn scan(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(scan_json(&state, scan_id(&id)?).await?))
}

/// `DELETE /api/v1/scans/{id}`: cancels a running scan (it stays
/// resumable: starting the same scan again resumes it).
pub(super) async fn cancel_scan(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = scan_id(&id)?;
    cancel(&state, id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"scan_id": id, "cancelled": true})),
    )
        .into_response())
}

/// Cancels a scan running here.
pub(super) async fn cancel(state: &AppState, id: ScanId) -> Result<(), ApiError> {
    match state.scans.get(id) {
        Some(live) if live.running() => {
            live.cancel.cancel();
            Ok(())
        }
        Some(_) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_running",
            "the scan has ended",
        )),
        None if state.store.scan(id).await?.is_some() => Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_running",
            "the scan is not running in this server",
        )),
        None => Err(ApiError::not_found("scan")),
    }
}

/// How often progress is sent.
const PROGRESS_EVERY: Duration = Duration::from_millis(400);

/// `GET /api/v1/scans/{id}/events`: server-sent events, `progress` with
/// the counters while the scan runs, then one `end` with its state.
pub(super) async fn scan_events(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let id = scan_id(&id)?;
    scan_json(&state, id).await?;
    let stream = futures::stream::unfold(Some(state), move |state| async move {
        let state = state?;
        let value = scan_json(&state, id)
            .await
            .unwrap_or_else(|e| json!({"error": e.message}));
        let running = value["running"].as_bool().unwrap_or(false);
        let event = Event::default()
            .event(if running { "progress" } else { "end" })
            .data(value.to_string());
        if running {
            tokio::time::sleep(PROGRESS_EVERY).await;
            Some((Ok(event), Some(state)))
        } else {
            Some((Ok(event), None))
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
