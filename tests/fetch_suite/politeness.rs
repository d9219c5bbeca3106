//! Politeness: robots.txt, `X-Robots-Tag`, `Retry-After`, back-off on 5xx,
//! per-host and global concurrency limits, the User-Agent.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use provenance::fetch::{FetchError, FetchSettings};

use crate::support::{fetcher, retries, serve, settings, url, InFlight};

fn robots_settings() -> FetchSettings {
    FetchSettings {
        respect_robots_txt: true,
        ..settings()
    }
}

/// A site whose robots.txt answers `status` with `body`, counting its fetches.
async fn site_with_robots(
    status: StatusCode,
    body: &'static str,
) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let robots_hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&robots_hits);
    let router = Router::new()
        .route(
            "/robots.txt",
            get(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async move { (status, body) }
            }),
        )
        .fallback(|| async { "pixels" });
    (serve(router).await, robots_hits)
}

#[tokio::test]
async fn robots_txt_disallow_is_a_polite_skip_and_fetched_once() {
    let robots =
        "User-agent: *\nDisallow: /private/\n\nUser-agent: provenance\nDisallow: /no-provenance/\n";
    let (addr, robots_hits) = site_with_robots(StatusCode::OK, robots).await;
    let fetcher = fetcher(robots_settings());
    let err = fetcher
        .fetch_image(&url(addr, "/no-provenance/a.jpg"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, FetchError::RobotsDisallowed { .. }),
        "{err:?}"
    );
    assert!(err.is_skip());
    assert_eq!(err.stage().as_str(), "robots");
    // Our own group applies, not the `*` one.
    assert!(fetcher
        .fetch_image(&url(addr, "/private/a.jpg"))
        .await
        .is_ok());
    assert!(fetcher
        .clone()
        .fetch_image(&url(addr, "/public/a.jpg"))
        .await
        .is_ok());
    assert_eq!(
        robots_hits.load(Ordering::SeqCst),
        1,
        "robots.txt cached per origin"
    );
}

#[tokio::test]
async fn robots_txt_server_error_disallows_and_missing_allows() {
    let (broken, _) = site_with_robots(StatusCode::SERVICE_UNAVAILABLE, "busy").await;
    let err = fetcher(robots_settings())
        .fetch_image(&url(broken, "/a.jpg"))
        .await
        .unwrap_err();
    assert!(err.is_skip(), "{err:?}");
    let (missing, hits) = site_with_robots(StatusCode::NOT_FOUND, "nothing").await;
    assert!(fetcher(robots_settings())
        .fetch_image(&url(missing, "/a.jpg"))
        .await
        .is_ok());
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    // Turned off, robots.txt is not even asked for.
    let (ignored, hits) = site_with_robots(StatusCode::OK, "User-agent: *\nDisallow: /\n").await;
    assert!(fetcher(settings())
        .fetch_image(&url(ignored, "/a.jpg"))
        .await
        .is_ok());
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn x_robots_tag_noai_is_a_polite_skip() {
    let router = Router::new()
        .route(
            "/noai.jpg",
            get(|| async { ([("x-robots-tag", "noindex, noai")], "pixels") }),
        )
        .route(
            "/noimageai.jpg",
            get(|| async { ([("x-robots-tag", "provenance: noimageai")], "pixels") }),
        )
        .route(
            "/other.jpg",
            get(|| async { ([("x-robots-tag", "otherbot: noai")], "pixels") }),
        );
    let addr = serve(router).await;
    let polite = fetcher(settings());
    for path in ["/noai.jpg", "/noimageai.jpg"] {
        let err = polite.fetch_image(&url(addr, path)).await.unwrap_err();
        assert!(
            matches!(err, FetchError::NoAiTag { .. }) && err.is_skip(),
            "{path}: {err:?}"
        );
    }
    assert!(polite.fetch_image(&url(addr, "/other.jpg")).await.is_ok());
    let ignoring = fetcher(FetchSettings {
        respect_x_robots_tag: false,
        ..settings()
    });
    assert!(ignoring.fetch_image(&url(addr, "/noai.jpg")).await.is_ok());
}

/// A route answering the statuses in `script` in turn, then 200.
fn scripted(script: Vec<(StatusCode, Option<&'static str>)>) -> (Router, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let router = Router::new().route(
        "/a.jpg",
        get(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let (status, retry_after) = script.get(n).copied().unwrap_or((StatusCode::OK, None));
            async move {
                let mut headers = HeaderMap::new();
                if let Some(value) = retry_after {
                    headers.insert(header::RETRY_AFTER, value.parse().unwrap());
                }
                (status, headers, "pixels").into_response()
            }
        }),
    );
    (router, hits)
}

#[tokio::test]
async fn too_many_requests_waits_for_retry_after_then_succeeds() {
    let (router, hits) = scripted(vec![(StatusCode::TOO_MANY_REQUESTS, Some("1"))]);
    let addr = serve(router).await;
    let settings = FetchSettings {
        retry: retries(2),
        ..settings()
    };
    let started = Instant::now();
    let image = fetcher(settings)
        .fetch_image(&url(addr, "/a.jpg"))
        .await
        .unwrap();
    assert_eq!(image.bytes.as_ref(), b"pixels");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn retry_after_longer_than_the_limit_gives_up_at_once() {
    let (router, hits) = scripted(vec![(StatusCode::TOO_MANY_REQUESTS, Some("3600"))]);
    let addr = serve(router).await;
    let settings = FetchSettings {
        retry: retries(5),
        ..settings()
    };
    let err = fetcher(settings)
        .fetch_image(&url(addr, "/a.jpg"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, FetchError::RateLimited { retry_after, .. } if retry_after.as_secs() == 3600),
        "{err:?}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn server_error_burst_is_retried_with_backoff() {
    let burst = vec![
        (StatusCode::SERVICE_UNAVAILABLE, None),
        (StatusCode::INTERNAL_SERVER_ERROR, None),
        (StatusCode::BAD_GATEWAY, None),
    ];
    let (router, hits) = scripted(burst.clone());
    let addr = serve(router).await;
    let settings = FetchSettings {
        retry: retries(3),
        ..settings()
    };
    assert!(fetcher(settings.clone())
        .fetch_image(&url(addr, "/a.jpg"))
        .await
        .is_ok());
    assert_eq!(hits.load(Ordering::SeqCst), 4);
    // One retry fewer than the burst: a clear error naming the last status.
    let (router, hits) = scripted(burst);
    let addr = serve(router).await;
    let err = fetcher(FetchSettings {
        retry: retries(2),
        ..settings
    })
    .fetch_image(&url(addr, "/a.jpg"))
    .await
    .unwrap_err();
    assert!(
        matches!(err, FetchError::GaveUp { attempts: 3, .. }),
        "{err:?}"
    );
    assert!(
        matches!(err.root(), FetchError::Status { code: 502, .. }),
        "{err:?}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

/// A slow site counting requests in flight.
async fn slow_site() -> (std::net::SocketAddr, Arc<InFlight>) {
    let in_flight = Arc::new(InFlight::default());
    let tracker = Arc::clone(&in_flight);
    let router = Router::new().fallback(move || {
        let tracker = Arc::clone(&tracker);
        async move {
            tracker.enter();
            tokio::time::sleep(Duration::from_millis(150)).await;
            tracker.leave();
            "pixels"
        }
    });
    (serve(router).await, in_flight)
}

async fn fetch_many(settings: FetchSettings, addr: std::net::SocketAddr, count: usize) {
    let fetcher = fetcher(settings);
    let fetches = (0..count).map(|i| {
        let fetcher = fetcher.clone();
        async move { fetcher.fetch_image(&url(addr, &format!("/{i}.jpg"))).await }
    });
    for result in futures::future::join_all(fetches).await {
        result.unwrap();
    }
}

#[tokio::test]
async fn per_host_concurrency_is_enforced() {
    let (addr, in_flight) = slow_site().await;
    fetch_many(
        FetchSettings {
            per_host_concurrency: 2,
            concurrency: 16,
            ..settings()
        },
        addr,
        10,
    )
    .await;
    assert_eq!(in_flight.peak(), 2);
}

#[tokio::test]
async fn global_concurrency_is_enforced() {
    let (addr, in_flight) = slow_site().await;
    fetch_many(
        FetchSettings {
            per_host_concurrency: 8,
            concurrency: 3,
            ..settings()
        },
        addr,
        10,
    )
    .await;
    assert_eq!(in_flight.peak(), 3);
}

#[tokio::test]
async fn user_agent_names_the_tool_and_contact() {
    let seen = Arc::new(Mutex::new(String::new()));
    let store = Arc::clone(&seen);
    let router = Router::new().fallback(move |headers: HeaderMap| {
        let ua = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        *store.lock().unwrap() = ua;
        async { "pixels" }
    });
    let addr = serve(router).await;
    let user_agent = provenance::http::user_agent(Some("mailto:ops@example.org"));
    fetcher(FetchSettings {
        user_agent,
        ..settings()
    })
    .fetch_image(&url(addr, "/a.jpg"))
    .await
    .unwrap();
    let ua = seen.lock().unwrap().clone();
    assert!(
        ua.starts_with("provenance/") && ua.contains("+mailto:ops@example.org"),
        "{ua}"
    );
}

#[tokio::test]
async fn retry_after_pauses_the_whole_host() {
    let arrivals = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let log = Arc::clone(&arrivals);
    let router = Router::new().fallback(move || {
        let first = {
            let mut log = log.lock().unwrap();
            log.push(Instant::now());
            log.len() == 1
        };
        async move {
            if first {
                (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "1")]).into_response()
            } else {
                "pixels".into_response()
            }
        }
    });
    let addr = serve(router).await;
    let fetcher = fetcher(FetchSettings {
        retry: retries(1),
        ..settings()
    });
    let first = tokio::spawn({
        let fetcher = fetcher.clone();
        async move { fetcher.fetch_image(&url(addr, "/first.jpg")).await }
    });
    // Wait until the 429 was served, then ask for another picture.
    tokio::time::sleep(Duration::from_millis(200)).await;
    fetcher
        .fetch_image(&url(addr, "/second.jpg"))
        .await
        .unwrap();
    first.await.unwrap().unwrap();
    let arrivals = arrivals.lock().unwrap();
    assert_eq!(arrivals.len(), 3);
    for later in &arrivals[1..] {
        let gap = later.duration_since(arrivals[0]);
        assert!(
            gap >= Duration::from_millis(950),
            "a request reached the paused host after {gap:?}"
        );
    }
}

#[tokio::test]
async fn time_queued_for_a_busy_host_is_not_a_timeout() {
    let (addr, in_flight) = slow_site().await;
    // 8 requests of 150 ms one at a time take ~1.2 s, more than the total
    // timeout of one request: queueing must not count.
    let settings = FetchSettings {
        per_host_concurrency: 1,
        total_timeout: Duration::from_millis(600),
        ..settings()
    };
    fetch_many(settings, addr, 8).await;
    assert_eq!(in_flight.peak(), 1);
}

/// Regression (issue 19): a robots.txt that timed out was taken as "allow
/// all"; RFC 9309 §2.3.1.4 says an unreachable robots.txt means stay away.
/// Silent and dripping ones alike; asked once per origin.
#[tokio::test]
async fn a_robots_txt_that_times_out_means_stay_away() {
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&asked);
    let silent = Router::new()
        .route(
            "/robots.txt",
            get(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "User-agent: *\nAllow: /\n"
                }
            }),
        )
        .fallback(|| async { "pixels" });
    let dripping = Router::new()
        .route(
            "/robots.txt",
            get(|| async {
                let drip = futures::stream::unfold(0u32, |n| async move {
                    tokio::time::sleep(Duration::from_millis(150)).await;
                    (n < 40).then(|| {
                        (
                            Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"#")),
                            n + 1,
                        )
                    })
                });
                axum::body::Body::from_stream(drip)
            }),
        )
        .fallback(|| async { "pixels" });
    let quick = FetchSettings {
        total_timeout: Duration::from_millis(600),
        read_timeout: Duration::from_millis(600),
        ..robots_settings()
    };
    for site in [serve(silent).await, serve(dripping).await] {
        let fetcher = fetcher(quick.clone());
        for path in ["/a.jpg", "/b.jpg"] {
            let err = fetcher.fetch_image(&url(site, path)).await.unwrap_err();
            assert!(err.is_skip(), "{err:?}");
            assert_eq!(err.stage().as_str(), "robots");
            assert!(
                err.reason().contains("did not answer in time"),
                "{}",
                err.reason()
            );
        }
    }
    assert_eq!(asked.load(Ordering::SeqCst), 1, "asked once per origin");
}

/// A re-check asks only for a change: the kept `ETag` and `Last-Modified`
/// go as `If-None-Match` and `If-Modified-Since`; a `304` is "unchanged"
/// without a body, and a server that ignores them costs one download.
#[tokio::test]
async fn a_recheck_is_a_conditional_get() {
    use provenance::fetch::{Recheck, Validators};
    type Asked = (Option<String>, Option<String>);
    let seen: Arc<Mutex<Vec<Asked>>> = Arc::default();
    let log = Arc::clone(&seen);
    let router = Router::new().route(
        "/a.jpg",
        get(move |headers: HeaderMap| {
            let log = Arc::clone(&log);
            async move {
                let value = |name| {
                    headers
                        .get(name)
                        .and_then(|v: &header::HeaderValue| v.to_str().ok())
                        .map(str::to_string)
                };
                let (tag, since) = (
                    value(header::IF_NONE_MATCH),
                    value(header::IF_MODIFIED_SINCE),
                );
                log.lock().unwrap().push((tag.clone(), since));
                if tag.as_deref() == Some("\"v1\"") {
                    return StatusCode::NOT_MODIFIED.into_response();
                }
                ([(header::ETAG, "\"v2\"")], "new bytes").into_response()
            }
        }),
    );
    let addr = serve(router).await;
    let fetcher = fetcher(settings());
    let kept = Validators {
        etag: Some("\"v1\"".into()),
        last_modified: Some("2024-05-01T10:00:00Z".parse().unwrap()),
    };
    let same = fetcher
        .recheck_image(&url(addr, "/a.jpg"), &kept)
        .await
        .unwrap();
    assert!(matches!(same, Recheck::Unchanged));
    let stale = Validators {
        etag: Some("\"v0\"".into()),
        last_modified: None,
    };
    match fetcher
        .recheck_image(&url(addr, "/a.jpg"), &stale)
        .await
        .unwrap()
    {
        Recheck::Fetched(image) => {
            assert_eq!(&image.bytes[..], b"new bytes");
            assert_eq!(image.etag.as_deref(), Some("\"v2\""));
        }
        Recheck::Unchanged => panic!("the server sent other bytes"),
    }
    let asked = seen.lock().unwrap().clone();
    assert_eq!(
        asked[0],
        (
            Some("\"v1\"".into()),
            Some("Wed, 01 May 2024 10:00:00 GMT".into())
        )
    );
    assert_eq!(asked[1], (Some("\"v0\"".into()), None));
}
