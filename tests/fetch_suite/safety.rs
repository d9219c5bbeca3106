//! The SSRF guard end to end: what the default settings refuse, at the first
//! hop and after redirects, and that nothing was even connected to.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::http::{header, StatusCode};
use axum::routing::get;
use axum::Router;
use provenance::fetch::{FetchError, FetchSettings};

use crate::support::{fetcher, raw_server, serve, serve_on, settings, url, write};

/// Loopback-test settings with the guard back on (its default).
fn guarded() -> FetchSettings {
    FetchSettings {
        allow_private_addresses: false,
        ..settings()
    }
}

fn redirect_to(location: String) -> Router {
    Router::new().route(
        "/start",
        get(move || {
            let location = location.clone();
            async move { (StatusCode::FOUND, [(header::LOCATION, location)]) }
        }),
    )
}

async fn counting_server() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    raw_server(|mut stream| async move {
        write(
            &mut stream,
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
        )
        .await;
    })
    .await
}

#[tokio::test]
async fn default_refuses_literal_loopback_without_connecting() {
    let (addr, connections) = counting_server().await;
    let err = fetcher(guarded())
        .fetch_image(&url(addr, "/a.jpg"))
        .await
        .unwrap_err();
    match &err {
        FetchError::BlockedAddress(blocked) => {
            assert_eq!(blocked.addr.to_string(), "127.0.0.1");
            assert_eq!(blocked.reason, "loopback");
        }
        other => panic!("expected BlockedAddress, got {other:?}"),
    }
    assert_eq!(err.stage().as_str(), "ssrf");
    assert!(!err.is_skip());
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "must not connect at all"
    );
    // The same server is reachable once private addresses are allowed.
    assert!(fetcher(settings())
        .fetch_image(&url(addr, "/a.jpg"))
        .await
        .is_ok());
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn default_refuses_a_name_resolving_to_loopback() {
    let (addr, connections) = counting_server().await;
    let target = url::Url::parse(&format!("http://localhost:{}/a.jpg", addr.port())).unwrap();
    let err = fetcher(guarded()).fetch_image(&target).await.unwrap_err();
    match &err {
        FetchError::BlockedAddress(blocked) => {
            assert_eq!(blocked.host, "localhost");
            assert!(blocked.addr.is_loopback(), "{blocked}");
        }
        other => panic!("expected BlockedAddress, got {other:?}"),
    }
    assert_eq!(connections.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn redirect_to_cloud_metadata_is_refused() {
    let addr = serve(redirect_to(
        "http://169.254.169.254/latest/meta-data/".into(),
    ))
    .await;
    // Only the test server's own address is let through.
    let settings = FetchSettings {
        allowed_networks: vec!["127.0.0.1/32".parse().unwrap()],
        ..guarded()
    };
    let started = Instant::now();
    let err = fetcher(settings)
        .fetch_image(&url(addr, "/start"))
        .await
        .unwrap_err();
    match &err {
        FetchError::BlockedAddress(blocked) => {
            assert_eq!(blocked.addr.to_string(), "169.254.169.254");
            assert_eq!(blocked.reason, "link-local");
        }
        other => panic!("expected BlockedAddress, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "refused before any connection attempt"
    );
}

#[tokio::test]
async fn redirect_to_a_name_resolving_to_loopback_is_refused() {
    // The first hop lives on 127.0.0.2 (allowed); the redirect goes to
    // `localhost` (127.0.0.1 / ::1), which is not.
    let (target, connections) = counting_server().await;
    let location = format!("http://localhost:{}/a.jpg", target.port());
    let addr = serve_on("127.0.0.2:0", redirect_to(location)).await;
    let settings = FetchSettings {
        allowed_networks: vec!["127.0.0.2/32".parse().unwrap()],
        ..guarded()
    };
    let err = fetcher(settings)
        .fetch_image(&url(addr, "/start"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, FetchError::BlockedAddress(ref b) if b.host == "localhost"),
        "{err:?}"
    );
    assert_eq!(connections.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn redirect_to_another_scheme_is_refused() {
    let addr = serve(redirect_to("file:///etc/passwd".into())).await;
    let err = fetcher(settings())
        .fetch_image(&url(addr, "/start"))
        .await
        .unwrap_err();
    assert_eq!(err.stage().as_str(), "url", "{err:?}");
}

#[tokio::test]
async fn default_refuses_ipv6_loopback_and_mapped_literals() {
    let fetcher = fetcher(guarded());
    for target in [
        "http://[::1]:9/a.jpg",
        "http://[::ffff:127.0.0.1]:9/a.jpg",
        "http://[::ffff:a9fe:a9fe]/latest",
    ] {
        let err = fetcher
            .fetch_image(&url::Url::parse(target).unwrap())
            .await
            .unwrap_err();
        assert!(
            matches!(err, FetchError::BlockedAddress(_)),
            "{target}: {err:?}"
        );
    }
}
