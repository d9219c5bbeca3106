//! Who may do what: the exposure rule (loopback, or a token), the Host
//! check, authentication (bearer token or login cookie), CSRF tokens, and
//! the headers every response carries.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::state::AppState;

/// Name of the login cookie.
pub(super) const SESSION_COOKIE: &str = "provenance_session";
/// Header carrying the CSRF token.
pub(super) const CSRF_HEADER: &str = "x-csrf-token";
/// Query parameter carrying the CSRF token (forms).
pub(super) const CSRF_PARAM: &str = "csrf_token";
/// Shortest accepted API token.
pub const MIN_TOKEN_CHARS: usize = 16;

/// Every page's policy: nothing from elsewhere, no inline script or style,
/// no framing, forms only to this server.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

/// The secret that opens the server to other machines
/// (`PROVENANCE_API_TOKEN`). Never shown: its `Debug` is redacted.
#[derive(Clone)]
pub struct ApiToken(Arc<[u8; 32]>);

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

impl ApiToken {
    /// Keeps only the token's digest; too short a token is refused.
    pub fn new(token: &str) -> Result<Self, ExposureError> {
        if token.trim().chars().count() < MIN_TOKEN_CHARS {
            return Err(ExposureError::WeakToken);
        }
        Ok(Self(Arc::new(digest(token.trim()))))
    }

    /// Whether `given` is the token (compared by digest, so the time taken
    /// says nothing about the token).
    pub fn accepts(&self, given: &str) -> bool {
        digest(given.trim()) == *self.0
    }
}

fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

/// Why the server will not start on an address.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExposureError {
    /// Another address than loopback without a token.
    #[error("refusing to listen on {0} without a token: set PROVENANCE_API_TOKEN (at least 16 characters) or listen on 127.0.0.1")]
    NoToken(SocketAddr),
    /// A token too short to resist guessing.
    #[error("PROVENANCE_API_TOKEN is too short: use at least 16 characters")]
    WeakToken,
}

/// Whether the server may listen on `addr`: loopback always, any other
/// address only with a token.
pub fn check_exposure(addr: SocketAddr, token: Option<&ApiToken>) -> Result<(), ExposureError> {
    if addr.ip().is_loopback() || token.is_some() {
        Ok(())
    } else {
        Err(ExposureError::NoToken(addr))
    }
}

/// 32 random bytes, hex: CSRF tokens and login sessions.
pub(super) fn random_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
    Ok(hex::encode(bytes))
}

/// How a request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    /// No token is configured (loopback).
    Local,
    /// `Authorization: Bearer` with the token: not a browser's ambient
    /// credential, so no CSRF token is asked.
    Bearer,
    /// The login cookie.
    Session,
    /// Nothing valid.
    Anonymous,
}

/// Runs before every route: Host, authentication, CSRF, then the security
/// headers on whatever answers.
pub(super) async fn guard(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let mut response = match refusal(&state, &request) {
        None => next.run(request).await,
        Some(refused) => refused,
    };
    if api {
        response = in_error_shape(response);
    }
    add_headers(response.headers_mut());
    response
}

/// An API error answered by the framework itself (a body it could not
/// read, a method the route lacks, a timeout) in the API's one error shape.
fn in_error_shape(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let reason = status.canonical_reason().unwrap_or("error").to_lowercase();
    ApiError::new(
        status,
        code,
        format!("{reason}: see the API's documentation (docs/openapi.json)"),
    )
    .into_response()
}

/// Why a request may not go on, as the answer to send; `None` when it may.
fn refusal(state: &AppState, request: &Request) -> Option<Response> {
    let path = request.uri().path();
    let api = path.starts_with("/api/");
    if state.settings.loopback_only && !loopback_host(request.headers()) {
        return Some(
            ApiError::new(
                StatusCode::MISDIRECTED_REQUEST,
                "bad_host",
                "this server answers only to 127.0.0.1, localhost and [::1]",
            )
            .into_response(),
        );
    }
    if is_public(path) {
        return None;
    }
    let caller = caller(state, request.headers());
    if caller == Caller::Anonymous {
        return Some(if api || request.method() != Method::GET {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a valid token is required: send Authorization: Bearer <PROVENANCE_API_TOKEN>, or log in",
            )
            .into_response()
        } else {
            Redirect::to("/login").into_response()
        });
    }
    if changes_state(request.method()) && caller != Caller::Bearer && !csrf_ok(state, request) {
        return Some(ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "missing or wrong CSRF token: send the X-CSRF-Token header (from GET /api/v1/session) or reload the page",
        )
        .into_response());
    }
    None
}

/// Routes open to anyone who reaches the server.
fn is_public(path: &str) -> bool {
    path == "/healthz" || path == "/login" || path.starts_with("/assets/")
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn caller(state: &AppState, headers: &HeaderMap) -> Caller {
    let Some(token) = &state.settings.token else {
        return Caller::Local;
    };
    if let Some(given) = bearer(headers) {
        return if token.accepts(given) {
            Caller::Bearer
        } else {
            Caller::Anonymous
        };
    }
    match cookie(headers, SESSION_COOKIE) {
        Some(session) if state.sessions.lock().is_ok_and(|s| s.contains(session)) => {
            Caller::Session
        }
        _ => Caller::Anonymous,
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// One cookie's value.
pub(super) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The CSRF token from the header or the query string, compared with this
/// process's.
fn csrf_ok(state: &AppState, request: &Request) -> bool {
    let from_header = request
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok());
    let from_query = request.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == CSRF_PARAM)
            .map(|(_, v)| v.into_owned())
    });
    let given = from_header.map(str::to_string).or(from_query);
    given.is_some_and(|g| digest(&g) == digest(&state.csrf))
}

/// The Host header names a loopback address (any port).
fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn add_headers(headers: &mut HeaderMap) {
    let set = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn only_loopback_hosts_pass_the_rebinding_check() {
        for ok in [
            "127.0.0.1:8080",
            "localhost:1",
            "LOCALHOST",
            "[::1]:80",
            "127.5.0.1",
        ] {
            assert!(loopback_host(&host(ok)), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8080",
            "10.0.0.1:80",
            "localhost.evil.example",
            "[::2]:80",
        ] {
            assert!(!loopback_host(&host(bad)), "{bad}");
        }
        assert!(!loopback_host(&HeaderMap::new()));
    }

    #[test]
    fn any_other_address_needs_a_token() {
        let token = ApiToken::new("0123456789abcdef-secret").unwrap();
        let public: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(
            check_exposure(public, None),
            Err(ExposureError::NoToken(public))
        );
        assert!(check_exposure(public, Some(&token)).is_ok());
        assert!(check_exposure(local, None).is_ok());
        assert_eq!(
            ApiToken::new("short").unwrap_err(),
            ExposureError::WeakToken
        );
        assert!(token.accepts("0123456789abcdef-secret"));
        assert!(!token.accepts("0123456789abcdef-secreT"));
        assert_eq!(format!("{token:?}"), "ApiToken(<redacted>)");
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; provenance_session=xyz; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
