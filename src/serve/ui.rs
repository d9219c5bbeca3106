//! The UI's routes: each reads what it shows through the library and
//! renders a page ([`super::pages`]); state changes answer with a redirect
//! (so reloading never repeats them), or JSON when the page's script asked.

use std::sync::Arc;

use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use url::Url;

use super::api::{self, ScanBody};
use super::error::{ApiError, PageError};
use super::matcher;
use super::pages;
use super::security::{random_token, SESSION_COOKIE};
use super::state::AppState;
use crate::model::{BatchProgress, ImageId};
use crate::report::view::View;

type Page = Result<Html<String>, PageError>;

/// `GET /`: the upload form.
pub(super) async fn home(State(state): State<Arc<AppState>>) -> Page {
    let last = state.store.last_image_id().await?;
    Ok(Html(pages::home_page(
        &state.csrf,
        last,
        state.settings.upload_max_bytes,
    )))
}

/// Any unknown page.
pub(super) async fn not_found() -> PageError {
    ApiError::not_found("page").page()
}

/// `POST /match`: a file (field `image`) or a URL (field `image_url`) kept
/// as a case, then its results.
pub(super) async fn upload(
    State(state): State<Arc<AppState>>,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let form = form.map_err(api::rejected)?;
    let (mut label, mut bytes, fields) = api::read_upload(&state, form)
        .await
        .map_err(ApiError::page)?;
    if bytes.is_empty() {
        let url = fields
            .iter()
            .find(|(k, _)| k == "image_url")
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::bad_request("choose a picture, drop one, or give its URL"))?;
        bytes = fetch_picture(&state, &url).await?;
        label = url;
    }
    matcher::decode(&state, label.clone(), bytes.clone()).await?;
    let case = matcher::keep(&state, &label, &bytes).await?;
    Ok(Redirect::to(&format!("/cases/{case}")).into_response())
}

/// A picture by URL, under the scan's rules (public addresses only, the
/// size limit, robots.txt).
async fn fetch_picture(state: &AppState, raw: &str) -> Result<Vec<u8>, ApiError> {
    let url = Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| ApiError::bad_request(format!("{raw:?} is not an http(s) URL")))?;
    let fetched = state.fetcher.fetch_image(&url).await.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "fetch",
            format!("cannot fetch the picture: {e}"),
        )
    })?;
    if fetched.bytes.len() as u64 > state.settings.upload_max_bytes {
        return Err(matcher::too_large(state.settings.upload_max_bytes));
    }
    Ok(fetched.bytes.to_vec())
}

/// `GET /cases`.
pub(super) async fn cases(State(state): State<Arc<AppState>>) -> Page {
    let cases = state.cases.clone();
    let list = matcher::blocking(move || cases.list())
        .await
        .map_err(|e| ApiError::internal("cannot list the cases", &e))?;
    Ok(Html(pages::cases_page(&state.csrf, &list)))
}

/// `GET /cases/{sha256}`: the matches, as the query string's view asks.
pub(super) async fn results(
    State(state): State<Arc<AppState>>,
    Path(case): Path<String>,
    view: Result<Query<View>, QueryRejection>,
) -> Page {
    let view = view.map(|Query(v)| v).unwrap_or_default();
    let (id, meta, _, report) = matcher::case_report(&state, &case).await?;
    Ok(Html(pages::results_page(
        &state.csrf,
        id,
        &meta,
        &report,
        &view,
    )))
}

/// `GET /cases/{sha256}/query`: the uploaded picture itself.
pub(super) async fn query_image(
    State(state): State<Arc<AppState>>,
    Path(case): Path<String>,
) -> Result<Response, PageError> {
    let (_, bytes, _) = matcher::load_case(&state, &case).await?;
    let format = image::guess_format(&bytes).ok();
    // Only a picture type is ever sent: never HTML or SVG from an upload.
    let mime = format.map_or("application/octet-stream", |f| f.to_mime_type());
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=3600"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("inline; filename=\"query\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /cases/{sha256}/compare/{id}`.
pub(super) async fn compare(
    State(state): State<Arc<AppState>>,
    Path((case, image)): Path<(String, String)>,
) -> Page {
    let image: ImageId = image.parse().map_err(|_| ApiError::not_found("picture"))?;
    let (id, meta, query, report) = matcher::case_report(&state, &case).await?;
    let comparison = crate::lookup::compare(&*state.store, &query, image)
        .await?
        .ok_or_else(|| ApiError::not_found("picture"))?;
    let m = report.matches.iter().find(|m| m.image.id == image);
    Ok(Html(pages::compare_page(
        &state.csrf,
        id,
        &meta,
        &report,
        m,
        &comparison,
    )))
}

/// The review form.
#[derive(Debug, Deserialize)]
pub(super) struct ReviewForm {
    image_id: ImageId,
    decision: String,
    #[serde(default)]
    note: Option<String>,
}

/// `POST /cases/{sha256}/reviews`: records a decision; back to the match
/// (or JSON for the page's script).
pub(super) async fn review(
    State(state): State<Arc<AppState>>,
    Path(case): Path<String>,
    headers: HeaderMap,
    form: Result<Form<ReviewForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let Form(form) = form.map_err(api::rejected)?;
    let id: super::CaseId = case.parse().map_err(|()| ApiError::not_found("case"))?;
    let record = api::record_review(
        &state,
        &id.to_string(),
        form.image_id,
        &form.decision,
        form.note,
    )
    .await?;
    if wants_json(&headers) {
        return Ok(Json(json!(record)).into_response());
    }
    Ok(Redirect::to(&format!("/cases/{id}#match-{}", form.image_id)).into_response())
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// The library's query string.
#[derive(Debug, Default, Deserialize)]
pub(super) struct LibraryQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    before: Option<ImageId>,
}

/// Pictures shown per library page.
const LIBRARY_PAGE: u32 = 60;

/// `GET /library?q=…`.
pub(super) async fn library(
    State(state): State<Arc<AppState>>,
    query: Result<Query<LibraryQuery>, QueryRejection>,
) -> Page {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let text = q.q.trim();
    let images = state
        .store
        .library((!text.is_empty()).then_some(text), q.before, LIBRARY_PAGE)
        .await?;
    let next = (images.len() == LIBRARY_PAGE as usize)
        .then(|| images.last().map(|i| i.id))
        .flatten();
    Ok(Html(pages::library_page(&state.csrf, text, &images, next)))
}

/// Postings shown for a search of the words of pages.
const POSTINGS_SHOWN: usize = 50;

/// `GET /postings?q=…`: the postings whose words hold the words asked for.
pub(super) async fn postings(
    State(state): State<Arc<AppState>>,
    query: Result<Query<LibraryQuery>, QueryRejection>,
) -> Page {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let text = q.q.trim();
    if text.is_empty() {
        return Ok(Html(pages::postings_page(&state.csrf, text, Ok(&[]))));
    }
    let found = match crate::lookup::find_postings(&*state.store, text, POSTINGS_SHOWN).await {
        Ok(hits) => Ok(hits),
        Err(crate::lookup::LookupError::Invalid(why)) => Err(why),
        Err(crate::lookup::LookupError::EmptyStore) => Ok(Vec::new()),
        Err(other) => return Err(ApiError::from(other).into()),
    };
    let page = pages::postings_page(&state.csrf, text, found.as_deref().map_err(Clone::clone));
    Ok(Html(page))
}

/// Changes shown on the watches page.
const CHANGES_SHOWN: usize = 200;

/// `GET /watches`: the watches and the latest changes.
pub(super) async fn watches(State(state): State<Arc<AppState>>) -> Page {
    let watches = state.store.watches().await.map_err(ApiError::from)?;
    let mut changes = state
        .store
        .changes(None, None)
        .await
        .map_err(ApiError::from)?;
    changes.reverse();
    changes.truncate(CHANGES_SHOWN);
    Ok(Html(pages::watches_page(&state.csrf, &watches, &changes)))
}

/// Failures listed on the scans page.
const FAILURES_SHOWN: u32 = 50;

/// `GET /scans`: start a scan, the latest scans, the latest failures.
pub(super) async fn scans(State(state): State<Arc<AppState>>) -> Page {
    let list = state.store.scans(50).await?;
    let running: Vec<bool> = list
        .iter()
        .map(|s| state.scans.get(s.id).is_some_and(|l| l.running()))
        .collect();
    let ids: Vec<_> = list.iter().map(|s| s.id).collect();
    let batches = BatchProgress::of_each(&list, state.store.batch_progress(&ids).await?);
    let failures = state.store.failures(FAILURES_SHOWN).await?;
    Ok(Html(pages::scans_page(
        &state.csrf,
        &list,
        &running,
        &batches,
        &failures,
    )))
}

/// `POST /scans`: the form's scan started, then its page.
pub(super) async fn start_scan(
    State(state): State<Arc<AppState>>,
    form: Result<Form<ScanForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let Form(form) = form.map_err(api::rejected)?;
    let body = form.into_body();
    let (id, _) = api::launch(&state, &body).await.map_err(ApiError::page)?;
    Ok(Redirect::to(&format!("/scans/{id}")).into_response())
}

/// The scan form (text fields only: a checkbox sends `on`).
#[derive(Debug, Default, Deserialize)]
pub(super) struct ScanForm {
    #[serde(default)]
    what: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    max_results: String,
    #[serde(default)]
    follow_pages: Option<String>,
}

impl ScanForm {
    fn into_body(self) -> ScanBody {
        let text = Some(self.text);
        let (keyphrase, image_url, urls) = match self.what.as_str() {
            "image_url" => (None, text, None),
            "urls" => (None, None, text),
            _ => (text, None, None),
        };
        ScanBody {
            keyphrase,
            image_url,
            urls,
            provider: Some(self.provider),
            max_results: self.max_results.trim().parse().ok(),
            follow_pages: self.follow_pages.is_some(),
            max_pages: None,
        }
    }
}

/// `GET /scans/{id}`: one scan, live.
pub(super) async fn scan(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Page {
    let id = id.parse().map_err(|_| ApiError::not_found("scan"))?;
    let value = api::scan_json(&state, id).await?;
    Ok(Html(pages::scan_page(&state.csrf, id, &value)))
}

/// `POST /scans/{id}/cancel`.
pub(super) async fn cancel_scan(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = id.parse().map_err(|_| ApiError::not_found("scan"))?;
    api::cancel(&state, id).await?;
    Ok(Redirect::to(&format!("/scans/{id}")).into_response())
}

/// `GET /login`.
pub(super) async fn login_page(State(state): State<Arc<AppState>>) -> Response {
    if state.settings.token.is_none() {
        return Redirect::to("/").into_response();
    }
    Html(pages::login_page(false)).into_response()
}

/// Login sessions kept at once (in memory: a restart ends them all).
const MAX_SESSIONS: usize = 1_000;

/// The login form.
#[derive(Debug, Deserialize)]
pub(super) struct LoginForm {
    #[serde(default)]
    token: String,
}

/// `POST /login`: a session cookie for the right token.
pub(super) async fn login(
    State(state): State<Arc<AppState>>,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let Some(token) = &state.settings.token else {
        return Ok(Redirect::to("/").into_response());
    };
    if !token.accepts(&form.token) {
        return Ok((StatusCode::UNAUTHORIZED, Html(pages::login_page(true))).into_response());
    }
    let session = random_token().map_err(|e| ApiError::internal("cannot start a session", &e))?;
    {
        let mut sessions = state.sessions.lock().unwrap_or_else(|p| p.into_inner());
        if sessions.len() >= MAX_SESSIONS {
            // Full: one older session ends (its holder logs in again).
            if let Some(any) = sessions.iter().next().cloned() {
                sessions.remove(&any);
            }
        }
        sessions.insert(session.clone());
    }
    let cookie = format!("{SESSION_COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/");
    let cookie =
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::internal("bad cookie", &e))?;
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response())
}

/// `POST /logout`: ends the session.
pub(super) async fn logout(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Some(session) = super::security::cookie(&headers, SESSION_COOKIE) {
        state
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(session);
    }
    let expired = HeaderValue::from_static("provenance_session=; Max-Age=0; Path=/");
    ([(header::SET_COOKIE, expired)], Redirect::to("/login")).into_response()
}
