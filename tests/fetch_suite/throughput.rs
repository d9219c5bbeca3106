//! Fetch-only throughput from a loopback server (ignored by default; it
//! prints a rate, it does not judge):
//!
//! `cargo test --release --test fetch_suite throughput -- --ignored --nocapture`

use std::time::{Duration, Instant};

use axum::http::header;
use axum::routing::get;
use axum::Router;
use futures::StreamExt;
use provenance::fetch::FetchSettings;

use crate::support::{fetcher, jpeg_bytes, serve, settings, url};

const IMAGES: usize = 2_000;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "measurement: prints images per second"]
async fn throughput_fetch_only() {
    let jpeg = bytes::Bytes::from(jpeg_bytes());
    let size = jpeg.len();
    let router = Router::new().route(
        "/img/{n}",
        get(move || {
            let jpeg = jpeg.clone();
            async move { ([(header::CONTENT_TYPE, "image/jpeg")], jpeg) }
        }),
    );
    let addr = serve(router).await;
    for (concurrency, per_host) in [(8, 8), (32, 32), (64, 64), (32, 4)] {
        let settings = FetchSettings {
            concurrency,
            per_host_concurrency: per_host,
            total_timeout: Duration::from_secs(30),
            ..settings()
        };
        let fetcher = fetcher(settings);
        let started = Instant::now();
        let fetched = futures::stream::iter(0..IMAGES)
            .map(|n| {
                let fetcher = fetcher.clone();
                async move { fetcher.fetch_image(&url(addr, &format!("/img/{n}"))).await }
            })
            .buffer_unordered(concurrency * 2)
            .filter(|result| futures::future::ready(result.is_ok()))
            .count()
            .await;
        let seconds = started.elapsed().as_secs_f64();
        assert_eq!(fetched, IMAGES);
        println!(
            "concurrency {concurrency:>2}, per host {per_host:>2}: {IMAGES} images of {size} B in {seconds:.2} s = {:.0} images/s",
            IMAGES as f64 / seconds
        );
    }
}
