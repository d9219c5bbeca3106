//! A loopback image server: `GET /NAME` answers the file `DIR/NAME` as
//! `image/jpeg`; anything else (robots.txt included) is 404. Files are read
//! from disk (the page cache) on each request, as a static file server does.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

async fn file(State(dir): State<Arc<PathBuf>>, Path(name): Path<String>) -> Response {
    if name.contains('/') || name.contains("..") || !name.ends_with(".jpg") {
        return StatusCode::NOT_FOUND.into_response();
    }
    match tokio::fs::read(dir.join(&name)).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, "image/jpeg")], bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Serves `dir` on 127.0.0.1:`port` until killed.
pub fn serve(dir: PathBuf, port: u16, threads: usize) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let app = Router::new()
            .route("/{name}", get(file))
            .with_state(Arc::new(dir));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
        eprintln!("serving on http://127.0.0.1:{port}/");
        axum::serve(listener, app).await.map_err(|e| e.to_string())
    })
}
