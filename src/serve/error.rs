//! One error shape for the whole API —
//! `{"error": {"code": "not_an_image", "message": "…"}}` — with a stable,
//! machine-readable `code` and a sentence for people; and the same errors
//! as pages for the UI.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;

use super::pages;
use crate::lookup::LookupError;
use crate::store::StoreError;

/// An API error: its status, a stable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code, e.g. `not_an_image`.
    pub code: &'static str,
    /// What went wrong and what to do, in words.
    pub message: String,
}

impl ApiError {
    /// An error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 with a sentence.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 404 for `what`.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
        )
    }

    /// 500: the details go to the log, never to the caller.
    pub fn internal(context: &str, e: &dyn std::fmt::Display) -> Self {
        tracing::error!("{context}: {e}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("{context}; see the server's log"),
        )
    }

    /// The same error as an HTML page.
    pub fn page(self) -> PageError {
        PageError(self)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store",
            format!("the store failed: {e}"),
        )
    }
}

impl From<LookupError> for ApiError {
    fn from(e: LookupError) -> Self {
        match e {
            LookupError::Invalid(m) => Self::bad_request(m),
            LookupError::EmptyStore => {
                Self::new(StatusCode::CONFLICT, "empty_store", e.to_string())
            }
            LookupError::NoVectors => Self::new(StatusCode::CONFLICT, "no_vectors", e.to_string()),
            LookupError::Decode(ref source) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "not_an_image",
                format!("{e}: {source}"),
            ),
            LookupError::Store(s) => s.into(),
            LookupError::Embed(_) | LookupError::Task(_) => Self::internal("matching failed", &e),
        }
    }
}

/// An error shown as a page.
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        Self(e.into())
    }
}

impl From<LookupError> for PageError {
    fn from(e: LookupError) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let e = self.0;
        (e.status, Html(pages::error_page(e.status, &e.message))).into_response()
    }
}
