//! A replaying HTTP server on 127.0.0.1 for provider tests: records every
//! request (method, path, query, headers, body) and answers with whatever
//! the test's responder returns.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use url::Url;

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: String,
}

impl Recorded {
    /// The first value of query parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Header `name` as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("request body is JSON")
    }
}

/// What to answer.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Reply {
    /// A JSON answer with `status`.
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.into(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

type Responder = dyn Fn(&Recorded, usize) -> Reply + Send + Sync;

struct Shared {
    requests: Mutex<Vec<Recorded>>,
    respond: Box<Responder>,
}

/// A running mock server; stops when dropped with the test's runtime.
pub struct MockServer {
    pub url: Url,
    shared: Arc<Shared>,
}

impl MockServer {
    /// Starts a server answering each request with `respond(request, n)`,
    /// `n` being how many requests came before it.
    pub async fn start(
        respond: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let shared = Arc::new(Shared {
            requests: Mutex::new(Vec::new()),
            respond: Box::new(respond),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        let addr = crate::common::serve::serve(app).await;
        Self {
            url: Url::parse(&format!("http://{addr}/")).expect("server URL"),
            shared,
        }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().expect("lock").clone()
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let query = url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let recorded = Recorded {
        method: method.to_string(),
        path: uri.path().to_string(),
        query,
        headers,
        body,
    };
    let reply = {
        let mut requests = shared.requests.lock().expect("lock");
        let reply = (shared.respond)(&recorded, requests.len());
        requests.push(recorded);
        reply
    };
    let mut response =
        Response::builder().status(StatusCode::from_u16(reply.status).expect("valid status"));
    for (name, value) in reply.headers {
        response = response.header(name, value);
    }
    response
        .body(Body::from(reply.body))
        .expect("valid response")
}

/// A saved provider response from tests/fixtures/search.
pub fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/search/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
