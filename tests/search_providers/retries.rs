//! Rate limits (429, `Retry-After`) and server errors: bounded retries.

use super::*;

#[tokio::test]
async fn rate_limit_backs_off_then_succeeds() {
    let server = MockServer::start(|_, n| match n {
        0 | 1 => {
            Reply::json(429, fixture("brave_rate_limited.json")).with_header("retry-after", "0")
        }
        _ => Reply::json(200, fixture("brave_images.json")),
    })
    .await;
    let found = search_with(ProviderKind::Brave, &server)
        .search(&query("red fox", 50))
        .await
        .unwrap()
        .candidates;
    assert_eq!(found.len(), 3);
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn rate_limit_gives_up_after_bounded_retries() {
    let server =
        MockServer::start(|_, _| Reply::json(429, fixture("brave_rate_limited.json"))).await;
    let started = Instant::now();
    let err = search_with(ProviderKind::Brave, &server)
        .search(&query("red fox", 50))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SearchError::RateLimited {
                attempts: 3,
                retry_after: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 3);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(
        err.to_string().contains("wait and run the scan again"),
        "{err}"
    );
}

#[tokio::test]
async fn retry_after_beyond_the_cap_gives_up_at_once() {
    let server =
        MockServer::start(|_, _| Reply::json(429, "{}").with_header("retry-after", "3600")).await;
    let err = search_with(ProviderKind::Serper, &server)
        .search(&query("fox", 10))
        .await
        .unwrap_err();
    match &err {
        SearchError::RateLimited {
            retry_after,
            attempts,
            ..
        } => {
            assert_eq!(
                (*retry_after, *attempts),
                (Some(Duration::from_secs(3600)), 1)
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("it asks to wait 3600 s"), "{err}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn server_errors_are_retried() {
    let server = MockServer::start(|_, n| match n {
        0 => Reply::json(503, "<html>upstream unavailable</html>"),
        _ => Reply::json(200, fixture("searxng_empty.json")),
    })
    .await;
    let found = search_with(ProviderKind::SearXng, &server)
        .search(&query("fox", 10))
        .await
        .unwrap()
        .candidates;
    assert!(found.is_empty());
    assert_eq!(server.requests().len(), 2);
}
