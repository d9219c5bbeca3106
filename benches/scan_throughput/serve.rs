//! A loopback image server. `GET /imgNNNNN.jpg` answers the generated file
//! of that name; past the last generated file it answers file
//! `NNNNN mod count` with a JPEG comment segment naming `NNNNN` inserted
//! after the start-of-image marker: new bytes (a new SHA-256, so nothing
//! dedupes) with the same decoding work, so a 10,000-image scan needs only
//! 2,000 generated files. Anything else (robots.txt included) is 404.
//! Files are read from disk (the page cache) on each request, as a static
//! file server does.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::images::file_name;

/// The folder and how many files were generated in it.
struct Files {
    dir: PathBuf,
    count: usize,
}

async fn file(State(files): State<Arc<Files>>, Path(name): Path<String>) -> Response {
    let Some(index) = name
        .strip_prefix("img")
        .and_then(|n| n.strip_suffix(".jpg"))
        .and_then(|n| n.parse::<usize>().ok())
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let path = files.dir.join(file_name(index % files.count.max(1)));
    match tokio::fs::read(path).await {
        Ok(bytes) if index < files.count => jpeg(bytes),
        Ok(bytes) => jpeg(with_comment(&bytes, &format!("variant {index}"))),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

fn jpeg(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "image/jpeg")], bytes).into_response()
}

/// The JPEG with a COM segment holding `text` right after SOI.
fn with_comment(jpeg: &[u8], text: &str) -> Vec<u8> {
    let length = (text.len() + 2) as u16;
    let mut out = Vec::with_capacity(jpeg.len() + text.len() + 4);
    out.extend_from_slice(&jpeg[..2.min(jpeg.len())]);
    out.extend_from_slice(&[0xFF, 0xFE]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(jpeg.get(2..).unwrap_or_default());
    out
}

/// Serves the first `count` generated files of `dir` on 127.0.0.1:`port`
/// until killed.
pub fn serve(dir: PathBuf, count: usize, port: u16, threads: usize) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let app = Router::new()
            .route("/{name}", get(file))
            .with_state(Arc::new(Files { dir, count }));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
        eprintln!("serving on http://127.0.0.1:{port}/");
        axum::serve(listener, app).await.map_err(|e| e.to_string())
    })
}
