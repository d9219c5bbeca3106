//! Hostile and broken servers: bodies that lie about their length, never
//! end, dribble, or are gzip bombs; resets; redirect loops; error statuses.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::routing::get;
use axum::Router;
use provenance::fetch::{FetchError, FetchSettings, TimeoutPhase};

use crate::support::{fetcher, jpeg_bytes, raw_server, retries, serve, settings, url, write};

const CAP: u64 = 1024 * 1024;

#[tokio::test]
async fn image_bytes_are_hashed_and_validators_kept() {
    let jpeg = jpeg_bytes();
    let body = jpeg.clone();
    let router = Router::new().route(
        "/a.jpg",
        get(move || {
            let body = body.clone();
            async move {
                (
                    [
                        (header::CONTENT_TYPE, "image/jpeg"),
                        (header::LAST_MODIFIED, "Wed, 21 Oct 2015 07:28:00 GMT"),
                        (header::ETAG, "\"v1\""),
                    ],
                    body,
                )
            }
        }),
    );
    let addr = serve(router).await;
    let image = fetcher(settings())
        .fetch_image(&url(addr, "/a.jpg"))
        .await
        .unwrap();
    assert_eq!(image.bytes.as_ref(), jpeg.as_slice());
    assert_eq!(image.sha256, provenance::hash::sha256(&jpeg));
    assert_eq!(image.etag.as_deref(), Some("\"v1\""));
    assert_eq!(
        image.last_modified.unwrap().to_rfc3339(),
        "2015-10-21T07:28:00+00:00"
    );
    assert_eq!(image.content_type.as_deref(), Some("image/jpeg"));
    assert_eq!(image.sniffed_format(), Some(image::ImageFormat::Jpeg));
    assert_eq!(image.final_url, url(addr, "/a.jpg"));
}

#[tokio::test]
async fn error_status_is_reported_and_404_not_retried() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let router = Router::new().route(
        "/gone.jpg",
        get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async { StatusCode::NOT_FOUND }
        }),
    );
    let addr = serve(router).await;
    let settings = FetchSettings {
        retry: retries(3),
        ..settings()
    };
    let err = fetcher(settings)
        .fetch_image(&url(addr, "/gone.jpg"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, FetchError::Status { code: 404, .. }),
        "{err:?}"
    );
    assert_eq!(err.stage().as_str(), "http-status");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn claimed_length_above_cap_is_refused_before_reading() {
    let (addr, _) = raw_server(|mut stream| async move {
        write(
            &mut stream,
            b"HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\n",
        )
        .await;
        tokio::time::sleep(Duration::from_secs(10)).await;
    })
    .await;
    let started = Instant::now();
    let err = fetcher(settings())
        .fetch_image(&url(addr, "/big.jpg"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, FetchError::TooLarge { limit: CAP }),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn body_longer_than_its_content_length_is_cut_at_the_claimed_length() {
    let (addr, _) = raw_server(|mut stream| async move {
        write(
            &mut stream,
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
        )
        .await;
        write(&mut stream, &vec![b'x'; 4 * CAP as usize]).await;
    })
    .await;
    let image = fetcher(settings())
        .fetch_image(&url(addr, "/liar.jpg"))
        .await
        .unwrap();
    assert_eq!(image.bytes.len(), 10);
}

#[tokio::test]
async fn body_shorter_than_its_content_length_is_an_error_not_a_partial_image() {
    let (addr, _) = raw_server(|mut stream| async move {
        write(
            &mut stream,
            b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
        )
        .await;
        write(&mut stream, &[b'x'; 500]).await;
    })
    .await;
    let err = fetcher(settings())
        .fetch_image(&url(addr, "/short.jpg"))
        .await
        .unwrap_err();
    assert_eq!(err.stage().as_str(), "transfer", "{err:?}");
}

#[tokio::test]
async fn body_without_length_is_capped_while_streaming() {
    let (addr, _) = raw_server(|mut stream| async move {
        write(&mut stream, b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n").await;
        let block = vec![b'x'; 64 * 1024];
        for _ in 0..64 {
            if !write(&mut stream, &block).await {
                break;
            }
        }
    })
    .await;
    let err = fetcher(settings())
        .fetch_image(&url(addr, "/nolength.jpg"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, FetchError::TooLarge { limit: CAP }),
        "{err:?}"
    );
}

#[tokio::test]
async fn endless_chunked_body_is_capped() {
    let router = Router::new().route(
        "/endless.jpg",
        get(|| async {
            let chunk = bytes::Bytes::from(vec![0u8; 16 * 1024]);
            let stream =
                futures::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
            Body::from_stream(stream)
        }),
    );
    let addr = serve(router).await;
    let err = fetcher(settings())
        .fetch_image(&url(addr, "/endless.jpg"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, FetchError::TooLarge { limit: CAP }),
        "{err:?}"
    );
}

#[tokio::test]
async fn gzip_bomb_is_capped_on_decompressed_bytes() {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&vec![0u8; 64 * CAP as usize]).unwrap();
    let bomb = encoder.finish().unwrap();
    assert!(
        bomb.len() < CAP as usize / 4,
        "the compressed body itself is under the cap"
    );
    let router = Router::new().route(
        "/bomb.jpg",
        get(move || {
            let bomb = bomb.clone();
            async move {
                (
                    [
                        (header::CONTENT_ENCODING, "gzip"),
                        (header::CONTENT_TYPE, "image/jpeg"),
                    ],
                    bomb,
                )
            }
        }),
    );
    let addr = serve(router).await;
    let err = fetcher(settings())
        .fetch_image(&url(addr, "/bomb.jpg"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, FetchError::TooLarge { limit: CAP }),
        "{err:?}"
    );
}

#[tokio::test]
async fn slow_loris_body_hits_the_read_timeout() {
    let (addr, _) = raw_server(|mut stream| async move {
        write(
            &mut stream,
            b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
        )
        .await;
        for _ in 0..1000 {
            if !write(&mut stream, b"x").await {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
    .await;
    let started = Instant::now();
    let err = fetcher(settings())
        .fetch_image(&url(addr, "/loris.jpg"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            FetchError::Timeout {
                phase: TimeoutPhase::Read
            }
        ),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn slow_headers_hit_the_header_timeout() {
    let (addr, _) = raw_server(|mut stream| async move {
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" {
            if !write(&mut stream, &[*byte]).await {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
    .await;
    let started = Instant::now();
    let err = fetcher(settings())
        .fetch_image(&url(addr, "/slow.jpg"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            FetchError::Timeout {
                phase: TimeoutPhase::Headers
            }
        ),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn steady_trickle_under_the_read_timeout_hits_the_total_timeout() {
    let (addr, _) = raw_server(|mut stream| async move {
        write(
            &mut stream,
            b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n",
        )
        .await;
        for _ in 0..100_000 {
            if !write(&mut stream, b"x").await {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let settings = FetchSettings {
        total_timeout: Duration::from_millis(1500),
        ..settings()
    };
    let started = Instant::now();
    let err = fetcher(settings)
        .fetch_image(&url(addr, "/trickle.jpg"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            FetchError::Timeout {
                phase: TimeoutPhase::Total
            }
        ),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn connection_reset_is_retried_then_reported() {
    let (addr, connections) = raw_server(|stream| async move {
        // Closing with SO_LINGER 0 sends a TCP reset (the point of the test).
        #[allow(deprecated)]
        let _ = stream.set_linger(Some(Duration::ZERO));
        drop(stream);
    })
    .await;
    let settings = FetchSettings {
        retry: retries(2),
        ..settings()
    };
    let err = fetcher(settings)
        .fetch_image(&url(addr, "/reset.jpg"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, FetchError::GaveUp { attempts: 3, .. }),
        "{err:?}"
    );
    assert_eq!(err.stage().as_str(), "transfer");
    assert_eq!(connections.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn reset_in_the_middle_of_the_body_is_an_error() {
    let (addr, _) = raw_server(|mut stream| async move {
        write(
            &mut stream,
            b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n",
        )
        .await;
        write(&mut stream, &[b'x'; 1000]).await;
        #[allow(deprecated)]
        let _ = stream.set_linger(Some(Duration::ZERO));
    })
    .await;
    let err = fetcher(settings())
        .fetch_image(&url(addr, "/cut.jpg"))
        .await
        .unwrap_err();
    assert_eq!(err.stage().as_str(), "transfer", "{err:?}");
}

#[tokio::test]
async fn redirect_loop_stops_at_the_limit() {
    let hits = Arc::new(AtomicUsize::new(0));
    let (a, b) = (Arc::clone(&hits), Arc::clone(&hits));
    let router = Router::new()
        .route(
            "/a",
            get(move || {
                a.fetch_add(1, Ordering::SeqCst);
                async { (StatusCode::FOUND, [(header::LOCATION, "/b")]) }
            }),
        )
        .route(
            "/b",
            get(move || {
                b.fetch_add(1, Ordering::SeqCst);
                async { (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, "/a")]) }
            }),
        );
    let addr = serve(router).await;
    let settings = FetchSettings {
        max_redirects: 4,
        retry: retries(2),
        ..settings()
    };
    let err = fetcher(settings)
        .fetch_image(&url(addr, "/a"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, FetchError::TooManyRedirects { limit: 4 }),
        "{err:?}"
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        5,
        "4 redirects followed, not retried"
    );
}

#[tokio::test]
async fn redirects_within_the_limit_are_followed() {
    let router = Router::new()
        .route(
            "/old.jpg",
            get(|| async {
                (
                    StatusCode::MOVED_PERMANENTLY,
                    [(header::LOCATION, "/new.jpg")],
                )
            }),
        )
        .route("/new.jpg", get(|| async { "pixels" }));
    let addr = serve(router).await;
    let image = fetcher(settings())
        .fetch_image(&url(addr, "/old.jpg"))
        .await
        .unwrap();
    assert_eq!(image.final_url, url(addr, "/new.jpg"));
    assert_eq!(image.bytes.as_ref(), b"pixels");
}

#[tokio::test]
async fn html_served_as_jpeg_is_not_sniffed_as_an_image() {
    let router = Router::new().route(
        "/fake.jpg",
        get(|| async {
            (
                [(header::CONTENT_TYPE, "image/jpeg")],
                "<!DOCTYPE html><html>login</html>",
            )
        }),
    );
    let addr = serve(router).await;
    let image = fetcher(settings())
        .fetch_image(&url(addr, "/fake.jpg"))
        .await
        .unwrap();
    assert_eq!(image.content_type.as_deref(), Some("image/jpeg"));
    assert_eq!(
        image.sniffed_format(),
        None,
        "the decode stage must refuse it"
    );
}
