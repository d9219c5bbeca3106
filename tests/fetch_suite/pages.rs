//! Pages: HTML only, charset decoded, cut at the page cap.

use axum::http::header;
use axum::routing::get;
use axum::Router;
use provenance::fetch::{FetchError, FetchSettings};

use crate::support::{fetcher, serve, settings, url};

fn site() -> Router {
    Router::new()
        .route(
            "/latin1",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/html; charset=ISO-8859-1")],
                    b"<html><title>Caf\xE9</title></html>".to_vec(),
                )
            }),
        )
        .route(
            "/meta",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/html")],
                    b"<html><head><meta charset=windows-1252></head><p>\x80 5</p>".to_vec(),
                )
            }),
        )
        .route(
            "/untyped",
            get(|| async { b"<!DOCTYPE html><html><p>sniffed</p>".to_vec() }),
        )
        .route(
            "/image",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "image/png")],
                    b"\x89PNG\r\n\x1a\n".to_vec(),
                )
            }),
        )
        .route(
            "/binary",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/octet-stream")],
                    vec![0u8, 1, 2, 3],
                )
            }),
        )
        .route(
            "/huge",
            get(|| async {
                let mut page = b"<html><body>".to_vec();
                page.extend(
                    std::iter::repeat_n(b"<div><img src=a.jpg></div>".iter().copied(), 10_000)
                        .flatten(),
                );
                ([(header::CONTENT_TYPE, "text/html")], page)
            }),
        )
}

#[tokio::test]
async fn pages_are_decoded_from_their_charset() {
    let addr = serve(site()).await;
    let fetcher = fetcher(settings());
    let page = fetcher.fetch_page(&url(addr, "/latin1")).await.unwrap();
    assert!(page.html.contains("Café"), "{}", page.html);
    assert!(!page.truncated);
    let page = fetcher.fetch_page(&url(addr, "/meta")).await.unwrap();
    assert!(page.html.contains("€ 5"), "{}", page.html);
    let page = fetcher.fetch_page(&url(addr, "/untyped")).await.unwrap();
    assert!(page.html.contains("sniffed"));
}

#[tokio::test]
async fn non_html_is_refused() {
    let addr = serve(site()).await;
    let fetcher = fetcher(settings());
    for path in ["/image", "/binary"] {
        let err = fetcher.fetch_page(&url(addr, path)).await.unwrap_err();
        assert!(matches!(err, FetchError::NotHtml { .. }), "{path}: {err:?}");
        assert_eq!(err.stage().as_str(), "not-html");
    }
}

#[tokio::test]
async fn huge_pages_are_cut_at_the_cap() {
    let addr = serve(site()).await;
    let settings = FetchSettings {
        max_page_bytes: 4096,
        ..settings()
    };
    let page = fetcher(settings)
        .fetch_page(&url(addr, "/huge"))
        .await
        .unwrap();
    assert!(page.truncated);
    assert!(page.html.len() <= 4096);
    assert!(page.html.starts_with("<html><body><div>"));
}
