//! Openverse and Wikimedia Commons: request shape, paging, pacing, and
//! the answers they give when throttled, down or lying.

use super::*;

fn keyless(kind: ProviderKind, server: &MockServer) -> Box<dyn ImageSearch> {
    logs();
    let settings = ProviderSettings::resolve(kind, None, Some(server.url.as_str())).unwrap();
    provider(settings, api_client().unwrap(), fast_retry())
}

/// An Openverse page of `size` results out of `pages`.
fn openverse_page(page: usize, pages: usize, size: usize) -> String {
    let results: Vec<_> = (0..size)
        .map(|i| {
            json!({
                "id": format!("{page}-{i}"),
                "url": format!("https://img.example.org/{page}/{i}.jpg"),
                "foreign_landing_url": format!("https://www.flickr.com/photos/x/{page}{i}"),
                "creator": format!("Creator {i}"),
                "license": "by", "license_version": "4.0",
                "indexed_on": "2021-01-02T03:04:05Z"
            })
        })
        .collect();
    json!({"result_count": pages * size, "page_count": pages, "page_size": size, "page": page, "results": results})
        .to_string()
}

#[tokio::test]
async fn openverse_pages_twenty_at_a_time_a_second_apart() {
    let server = MockServer::start(|request, _| {
        let page: usize = request.param("page").unwrap().parse().unwrap();
        Reply::json(200, openverse_page(page, 3, 20))
    })
    .await;
    let started = Instant::now();
    let found = keyless(ProviderKind::Openverse, &server)
        .search(&query("red fox", 45))
        .await
        .unwrap()
        .candidates;
    let took = started.elapsed();
    assert_eq!(found.len(), 45);
    assert_eq!(found[44].rank, 45);
    assert_eq!(found[0].facts.creator.as_deref(), Some("Creator 0"));
    assert_eq!(found[0].facts.license.as_deref(), Some("CC BY 4.0"));
    assert_eq!(found[0].site.as_deref(), Some("flickr.com"));
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    for (request, page) in requests.iter().zip(["1", "2", "3"]) {
        assert_eq!(request.path, "/v1/images/");
        assert_eq!(request.param("q"), Some("red fox"));
        assert_eq!(request.param("page"), Some(page));
        assert_eq!(request.param("page_size"), Some("20"));
        assert_eq!(request.header("authorization"), None, "anonymous");
    }
    assert!(
        took >= Duration::from_secs(2),
        "three requests at most one a second: {took:?}"
    );
}

#[tokio::test]
async fn openverse_stops_at_its_last_page() {
    let server = MockServer::start(|request, _| {
        let page: usize = request.param("page").unwrap().parse().unwrap();
        Reply::json(200, openverse_page(page, 1, 7))
    })
    .await;
    let found = keyless(ProviderKind::Openverse, &server)
        .search(&query("fox", 100))
        .await
        .unwrap()
        .candidates;
    assert_eq!((found.len(), server.requests().len()), (7, 1));
}

#[tokio::test]
async fn openverse_throttling_is_waited_out_then_reported() {
    let server = MockServer::start(|_, n| match n {
        0 => Reply::json(429, r#"{"detail":"Request was throttled."}"#)
            .with_header("retry-after", "0"),
        _ => Reply::json(200, openverse_page(1, 1, 2)),
    })
    .await;
    let found = keyless(ProviderKind::Openverse, &server)
        .search(&query("fox", 10))
        .await
        .unwrap()
        .candidates;
    assert_eq!((found.len(), server.requests().len()), (2, 2));

    let server = MockServer::start(|_, _| {
        Reply::json(429, r#"{"detail":"Request was throttled."}"#).with_header("retry-after", "0")
    })
    .await;
    let err = keyless(ProviderKind::Openverse, &server)
        .search(&query("fox", 10))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SearchError::RateLimited {
                provider: "openverse",
                attempts: 3,
                ..
            }
        ),
        "{err:?}"
    );
    let server = MockServer::start(|_, _| Reply::json(401, r#"{"detail":"page_size"}"#)).await;
    let err = keyless(ProviderKind::Openverse, &server)
        .search(&query("fox", 10))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("anonymous use allows 20 results"),
        "{err}"
    );
}

#[tokio::test]
async fn lying_answers_are_errors_or_skipped_results_never_panics() {
    for body in ["<html>maintenance</html>", "[]", r#"{"results": "none"}"#] {
        let server = MockServer::start(move |_, _| Reply::json(200, body)).await;
        let err = keyless(ProviderKind::Openverse, &server)
            .search(&query("fox", 10))
            .await
            .unwrap_err();
        assert!(
            matches!(err, SearchError::Malformed { .. }),
            "{body}: {err:?}"
        );
    }
    let hostile = json!({"page": 1, "page_count": 1, "results": [
        {"url": "javascript:alert(1)", "creator": "x"},
        {"url": "https://img.example.org/ok.jpg", "creator": "<script>alert(1)</script>",
         "creator_url": "javascript:alert(1)", "indexed_on": "2999-01-01T00:00:00Z",
         "license": "by", "title": "t".repeat(100_000)},
        {"url": 42}
    ]})
    .to_string();
    let server = MockServer::start(move |_, _| Reply::json(200, hostile.clone())).await;
    let found = keyless(ProviderKind::Openverse, &server)
        .search(&query("fox", 10))
        .await
        .unwrap()
        .candidates;
    assert_eq!(found.len(), 1);
    let facts = &found[0].facts;
    assert_eq!(facts.creator_url, None, "only http(s) links are kept");
    assert_eq!(facts.date, None, "a date in the future is a lie");
    assert_eq!(
        facts.creator.as_deref(),
        Some("<script>alert(1)</script>"),
        "kept as text; every renderer escapes it"
    );
}

/// A Commons answer of `count` files starting at `offset`, with a
/// continuation unless it is the last.
fn commons_page(offset: usize, count: usize, last: bool) -> String {
    let pages: Vec<_> = (0..count)
        .map(|i| {
            let n = offset + i;
            json!({
                "pageid": 1000 + n, "ns": 6, "title": format!("File:Fox {n}.jpg"), "index": n + 1,
                "imageinfo": [{
                    "url": format!("https://upload.wikimedia.org/fox/{n}.jpg"),
                    "descriptionurl": format!("https://commons.wikimedia.org/wiki/File:Fox_{n}.jpg"),
                    "timestamp": "2015-05-05T05:05:05Z", "user": "U", "mime": "image/jpeg"
                }]
            })
        })
        .collect();
    let mut answer = json!({"batchcomplete": true, "query": {"pages": pages}});
    if !last {
        answer["continue"] = json!({"gsroffset": offset + count, "continue": "gsroffset||"});
    }
    answer.to_string()
}

#[tokio::test]
async fn commons_searches_files_and_follows_the_continuation() {
    let server = MockServer::start(|request, _| {
        let offset: usize = request.param("gsroffset").unwrap().parse().unwrap();
        Reply::json(200, commons_page(offset, 50, offset >= 50))
    })
    .await;
    let found = keyless(ProviderKind::Commons, &server)
        .search(&query("red fox", 500))
        .await
        .unwrap()
        .candidates;
    assert_eq!(found.len(), 100, "two pages, the second the last");
    assert_eq!(found[0].page_title.as_deref(), Some("Fox 0.jpg"));
    assert_eq!(found[99].rank, 100);
    let uploaded = found[0].facts.date.unwrap();
    assert_eq!(uploaded.at.to_rfc3339(), "2015-05-05T05:05:05+00:00");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for (request, offset) in requests.iter().zip(["0", "50"]) {
        assert_eq!(request.path, "/w/api.php");
        assert_eq!(request.param("action"), Some("query"));
        assert_eq!(request.param("generator"), Some("search"));
        assert_eq!(request.param("gsrsearch"), Some("red fox"));
        assert_eq!(request.param("gsrnamespace"), Some("6"));
        assert_eq!(request.param("gsroffset"), Some(offset));
        assert_eq!(request.param("prop"), Some("imageinfo"));
        assert!(request.param("iiprop").unwrap().contains("extmetadata"));
        let agent = request.header("user-agent").unwrap();
        assert!(agent.starts_with("provenance/"), "{agent}");
    }
}

#[tokio::test]
async fn commons_errors_are_named() {
    let server = MockServer::start(|_, _| {
        Reply::json(
            200,
            r#"{"error":{"code":"ratelimited","info":"You've exceeded your rate limit."}}"#,
        )
    })
    .await;
    let err = keyless(ProviderKind::Commons, &server)
        .search(&query("fox", 10))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("commons returned an error: ratelimited"),
        "{err}"
    );
}

#[tokio::test]
async fn several_sources_at_once_merge_their_pages_and_facts() {
    let openverse = MockServer::start(|_, _| {
        Reply::json(
            200,
            json!({"page": 1, "page_count": 1, "results": [{
                "url": "https://upload.wikimedia.org/fox/0.jpg",
                "foreign_landing_url": "https://commons.wikimedia.org/wiki/File:Fox_0.jpg",
                "license": "by-sa", "license_version": "4.0", "creator": "Openverse name"
            }]})
            .to_string(),
        )
    })
    .await;
    let commons = MockServer::start(|_, _| Reply::json(200, commons_page(0, 2, true))).await;
    let providers = vec![
        keyless(ProviderKind::Openverse, &openverse),
        keyless(ProviderKind::Commons, &commons),
    ];
    let gathered = gather(&providers, &query("fox", 10)).await;
    assert!(gathered.failures.is_empty());
    assert_eq!(gathered.images.len(), 2);
    let fox = &gathered.images[0];
    assert_eq!(fox.providers, ["openverse", "commons"]);
    assert_eq!(fox.pages.len(), 1, "the same file page, once");
    let facts = &fox.pages[0].facts;
    assert_eq!(facts.creator.as_deref(), Some("Openverse name"));
    assert_eq!(facts.license.as_deref(), Some("CC BY-SA 4.0"));
    assert!(facts.date.is_some(), "Commons' upload date fills the gap");
}
