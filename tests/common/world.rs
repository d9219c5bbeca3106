//! A small web on loopback for end-to-end tests: one axum server that plays
//! the search API (SearXNG JSON), the image hosts and the web pages, serving
//! whatever bytes a test puts at each path, and counting requests per path.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;

/// One thing the server serves.
#[derive(Clone)]
pub struct Served {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// The body.
    pub body: Vec<u8>,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// Waits this long before answering.
    pub delay: Option<std::time::Duration>,
}

impl Served {
    /// 200 with a body of a content type.
    pub fn ok(content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status: 200,
            content_type,
            body: body.into(),
            headers: Vec::new(),
            delay: None,
        }
    }
    /// An empty response with a status.
    pub fn status(status: u16) -> Self {
        Self {
            status,
            content_type: "text/plain",
            body: Vec::new(),
            headers: Vec::new(),
            delay: None,
        }
    }
    /// Answers only after `delay` (a slow server).
    pub fn delayed(mut self, delay: std::time::Duration) -> Self {
        self.delay = Some(delay);
        self
    }
    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

#[derive(Default)]
struct Routes {
    served: HashMap<String, Served>,
    hits: HashMap<String, usize>,
    /// Delayed requests being answered now, and the most there were.
    slow_now: usize,
    slow_most: usize,
}

/// The running server.
#[derive(Clone)]
pub struct World {
    /// Where it listens.
    pub addr: SocketAddr,
    routes: Arc<Mutex<Routes>>,
}

impl World {
    /// Starts an empty world on a free loopback port.
    pub async fn start() -> Self {
        let routes = Arc::new(Mutex::new(Routes::default()));
        let app = axum::Router::new()
            .fallback(serve)
            .with_state(routes.clone());
        let addr = super::serve::serve(app).await;
        Self { addr, routes }
    }

    /// `http://127.0.0.1:PORT` + path.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Serves `served` at `path` (path and query, e.g. `/search?q=x` is
    /// matched on the path only).
    pub fn put(&self, path: &str, served: Served) {
        self.routes
            .lock()
            .unwrap()
            .served
            .insert(path.to_string(), served);
    }

    /// How many requests reached `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.routes
            .lock()
            .unwrap()
            .hits
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

impl World {
    /// The most delayed requests (`Served::delayed`) answered at once
    /// since the start or the last call.
    pub fn take_most_slow_at_once(&self) -> usize {
        let mut routes = self.routes.lock().unwrap();
        let now = routes.slow_now;
        std::mem::replace(&mut routes.slow_most, now)
    }
}

async fn serve(State(routes): State<Arc<Mutex<Routes>>>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    let served = {
        let mut routes = routes.lock().unwrap();
        *routes.hits.entry(path.clone()).or_default() += 1;
        routes.served.get(&path).cloned()
    };
    let served = served.unwrap_or_else(|| Served::status(404));
    if let Some(delay) = served.delay {
        // Counted down when dropped: also when the client goes away.
        struct Slow(Arc<Mutex<Routes>>);
        impl Drop for Slow {
            fn drop(&mut self) {
                self.0.lock().unwrap().slow_now -= 1;
            }
        }
        {
            let mut routes = routes.lock().unwrap();
            routes.slow_now += 1;
            routes.slow_most = routes.slow_most.max(routes.slow_now);
        }
        let _slow = Slow(routes.clone());
        tokio::time::sleep(delay).await;
    }
    let mut response = Response::new(Body::from(served.body));
    *response.status_mut() = StatusCode::from_u16(served.status).unwrap();
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        HeaderValue::from_static(served.content_type),
    );
    for (name, value) in served.headers {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(&value).unwrap(),
        );
    }
    response
}

/// A SearXNG JSON answer listing `(image path, page path, title)` results on `world`.
pub fn searxng_results(world: &World, results: &[(&str, &str, &str)]) -> Vec<u8> {
    let results: Vec<_> = results
        .iter()
        .map(|(image, page, title)| {
            serde_json::json!({
                "template": "images.html",
                "url": world.url(page),
                "title": title,
                "img_src": world.url(image),
                "thumbnail_src": world.url(image),
                "engine": "test",
                "category": "images",
            })
        })
        .collect();
    serde_json::to_vec(
        &serde_json::json!({"query": "q", "number_of_results": results.len(), "results": results}),
    )
    .unwrap()
}
