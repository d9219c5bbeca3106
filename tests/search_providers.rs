//! Providers against a local server replaying their saved responses:
//! request shape (path, parameters, headers, body), paging, error mapping,
//! retries, key redaction, and keyphrase → candidates → dedupe.

#[path = "search_providers/mock.rs"]
mod mock;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mock::{fixture, MockServer, Recorded, Reply};
use provenance::config::Secret;
use provenance::scrape::{candidates_from_page, extract_images};
use provenance::search::{
    dedupe, provider, Candidate, ImageSearch, Lens, ProviderKind, ProviderSettings, RetryPolicy,
    SearchError, SearchQuery,
};
use serde_json::json;
use url::Url;

const KEY: &str = "sk-test-0123456789abcdef";

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 2,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
    }
}

fn search_with(kind: ProviderKind, server: &MockServer) -> Box<dyn ImageSearch> {
    let settings = match kind {
        ProviderKind::SearXng => ProviderSettings::resolve(kind, None, Some(server.url.as_str())),
        _ => ProviderSettings::resolve(kind, Some(KEY), Some(server.url.as_str())),
    }
    .expect("settings");
    provider(settings, reqwest::Client::new(), fast_retry())
}

fn query(keyphrase: &str, max_results: usize) -> SearchQuery {
    SearchQuery {
        keyphrase: keyphrase.into(),
        max_results,
    }
}

/// The error's message, Debug form and source chain: none may hold the key.
fn assert_no_key(err: &SearchError) {
    let mut texts = vec![err.to_string(), format!("{err:?}")];
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        texts.push(cause.to_string());
        source = cause.source();
    }
    for text in texts {
        assert!(!text.contains(KEY), "key leaked: {text}");
    }
}

/// A `google_images` page of 100 results for paging past 100.
fn serpapi_generated_page(ijn: usize, last_page: usize) -> String {
    let results: Vec<_> = (0..100)
        .map(|i| {
            json!({
                "position": i + 1,
                "thumbnail": format!("https://serpapi.com/searches/abc/images/{ijn}-{i}.jpeg"),
                "source": "Example Photos",
                "title": format!("Fox photo {ijn}-{i}"),
                "link": format!("https://photos.example.com/fox/{ijn}/{i}"),
                "original": format!("https://photos.example.com/img/fox-{ijn}-{i}.jpg"),
                "original_width": 1600,
                "original_height": 1200
            })
        })
        .collect();
    let mut page = json!({
        "search_metadata": {"status": "Success"},
        "search_parameters": {"engine": "google_images", "ijn": ijn.to_string()},
        "images_results": results,
        "serpapi_pagination": {"current": ijn}
    });
    if ijn < last_page {
        page["serpapi_pagination"]["next"] = json!(format!(
            "https://serpapi.com/search.json?engine=google_images&ijn={}",
            ijn + 1
        ));
    }
    page.to_string()
}

fn ijn_of(request: &Recorded) -> usize {
    request
        .param("ijn")
        .and_then(|n| n.parse().ok())
        .expect("ijn")
}

#[tokio::test]
async fn serpapi_pages_with_ijn_past_100() {
    let server = MockServer::start(|request, _| {
        Reply::json(200, serpapi_generated_page(ijn_of(request), 9))
    })
    .await;
    let found = search_with(ProviderKind::SerpApi, &server)
        .search(&query("red fox in snow", 250))
        .await
        .unwrap();
    assert_eq!(found.len(), 250);
    assert_eq!(
        found.iter().map(|c| c.rank).collect::<Vec<_>>(),
        (1..=250).collect::<Vec<u32>>()
    );
    assert_eq!(
        found[249].image_url.as_str(),
        "https://photos.example.com/img/fox-2-49.jpg"
    );
    let requests = server.requests();
    assert_eq!(
        requests.iter().map(ijn_of).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    for request in &requests {
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            ("GET", "/search.json")
        );
        assert_eq!(request.param("engine"), Some("google_images"));
        assert_eq!(request.param("q"), Some("red fox in snow"));
        assert_eq!(request.param("api_key"), Some(KEY));
    }
}

#[tokio::test]
async fn serpapi_stops_when_there_is_no_next_page() {
    let server = MockServer::start(|request, _| match ijn_of(request) {
        0 => Reply::json(200, fixture("serpapi_images_ijn0.json")),
        1 => Reply::json(200, fixture("serpapi_images_ijn1.json")),
        other => panic!("ijn {other} must not be asked for"),
    })
    .await;
    let found = search_with(ProviderKind::SerpApi, &server)
        .search(&query("red fox in snow", 500))
        .await
        .unwrap();
    assert_eq!(found.len(), 10);
    assert_eq!(
        found[6].image_url.as_str(),
        "https://i.redd.it/8x7c6v5b4n3m.jpeg"
    );
    assert_eq!(found[6].rank, 7);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn serpapi_zero_results_is_ok_and_empty() {
    let server =
        MockServer::start(|_, _| Reply::json(200, fixture("serpapi_no_results.json"))).await;
    let found = search_with(ProviderKind::SerpApi, &server)
        .search(&query("zxqv fox qwrtz 8891", 100))
        .await
        .unwrap();
    assert!(found.is_empty());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn serpapi_quota_exhausted_with_429_or_200_is_not_retried() {
    for status in [429, 200] {
        let server =
            MockServer::start(move |_, _| Reply::json(status, fixture("serpapi_quota.json"))).await;
        let err = search_with(ProviderKind::SerpApi, &server)
            .search(&query("fox", 10))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                SearchError::QuotaExhausted {
                    provider: "serpapi",
                    ..
                }
            ),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains("run out of searches") && text.contains("--provider searxng"),
            "{text}"
        );
        assert_eq!(server.requests().len(), 1, "status {status}");
        assert_no_key(&err);
    }
}

#[tokio::test]
async fn serpapi_invalid_key_is_unauthorized_without_the_key() {
    let server =
        MockServer::start(|_, _| Reply::json(401, fixture("serpapi_invalid_key.json"))).await;
    let err = search_with(ProviderKind::SerpApi, &server)
        .search(&query("fox", 10))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SearchError::Unauthorized { status: 401, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("SERPAPI_API_KEY"), "{err}");
    assert_no_key(&err);
}

#[tokio::test]
async fn malformed_json_is_a_clear_error() {
    let server =
        MockServer::start(|_, _| Reply::json(200, fixture("serpapi_truncated.json"))).await;
    let err = search_with(ProviderKind::SerpApi, &server)
        .search(&query("fox", 10))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SearchError::Malformed {
                provider: "serpapi",
                ..
            }
        ),
        "{err:?}"
    );
    let server =
        MockServer::start(|_, _| Reply::json(200, r#"{"images_results": {"oops": 1}}"#)).await;
    let err = search_with(ProviderKind::SerpApi, &server)
        .search(&query("fox", 10))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("`images_results` is not an array"),
        "{err}"
    );
}

#[tokio::test]
async fn partial_results_skip_only_broken_entries() {
    let server =
        MockServer::start(|_, _| Reply::json(200, fixture("serpapi_images_partial.json"))).await;
    let found = search_with(ProviderKind::SerpApi, &server)
        .search(&query("fox den", 10))
        .await
        .unwrap();
    let urls: Vec<&str> = found.iter().map(|c| c.image_url.as_str()).collect();
    assert_eq!(
        urls,
        vec![
            "https://images.example.net/fox-den.jpg",
            "https://cdn.example.org/fox2.png"
        ]
    );
    assert_eq!(found.iter().map(|c| c.rank).collect::<Vec<_>>(), vec![1, 2]);
}

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
        .unwrap();
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
        .unwrap();
    assert!(found.is_empty());
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn brave_sends_token_header_and_count_up_to_200() {
    let server = MockServer::start(|_, _| Reply::json(200, fixture("brave_images.json"))).await;
    let found = search_with(ProviderKind::Brave, &server)
        .search(&query("red fox in snow", 500))
        .await
        .unwrap();
    assert_eq!(found.len(), 3);
    assert!(found.iter().all(|c| c.provider == "brave"));
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("GET", "/res/v1/images/search")
    );
    assert_eq!(request.param("q"), Some("red fox in snow"));
    assert_eq!(request.param("count"), Some("200"));
    assert_eq!(request.header("x-subscription-token"), Some(KEY));
    assert_eq!(request.param("api_key"), None);
    let small = search_with(ProviderKind::Brave, &server)
        .search(&query("fox", 2))
        .await
        .unwrap();
    assert_eq!(small.len(), 2);
    assert_eq!(server.requests()[1].param("count"), Some("2"));
}

#[tokio::test]
async fn brave_quota_and_bad_token() {
    let server = MockServer::start(|_, _| Reply::json(429, fixture("brave_quota.json"))).await;
    let err = search_with(ProviderKind::Brave, &server)
        .search(&query("fox", 10))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SearchError::QuotaExhausted {
                provider: "brave",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 1);
    let server =
        MockServer::start(|_, _| Reply::json(422, fixture("brave_unauthorized.json"))).await;
    let err = search_with(ProviderKind::Brave, &server)
        .search(&query("fox", 10))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SearchError::Unauthorized {
                provider: "brave",
                status: 422,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("BRAVE_API_KEY"), "{err}");
}

#[tokio::test]
async fn serper_posts_json_with_key_header_and_pages() {
    let server = MockServer::start(|request, _| {
        let page = request.json()["page"].as_u64().expect("page");
        if page == 1 {
            return Reply::json(200, fixture("serper_images_page1.json"));
        }
        let images: Vec<_> = (0..5)
            .map(|i| json!({"title": format!("p{page} {i}"), "imageUrl": format!("https://img.example.com/{page}/{i}.jpg"), "link": "https://img.example.com/", "position": i + 1}))
            .collect();
        Reply::json(200, json!({"searchParameters": {"page": page}, "images": images, "credits": 1}).to_string())
    })
    .await;
    let found = search_with(ProviderKind::Serper, &server)
        .search(&query("red fox in snow", 5))
        .await
        .unwrap();
    assert_eq!(found.len(), 5);
    assert_eq!(
        found[4].image_url.as_str(),
        "https://img.example.com/2/0.jpg"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for (request, page) in requests.iter().zip([1, 2]) {
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            ("POST", "/images")
        );
        assert_eq!(request.header("x-api-key"), Some(KEY));
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(
            request.json(),
            json!({"q": "red fox in snow", "num": 5, "page": page})
        );
    }
}

#[tokio::test]
async fn serper_out_of_credits() {
    let server =
        MockServer::start(|_, _| Reply::json(400, fixture("serper_no_credits.json"))).await;
    let err = search_with(ProviderKind::Serper, &server)
        .search(&query("fox", 10))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SearchError::QuotaExhausted {
                provider: "serper",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("Not enough credits"), "{err}");
}

#[tokio::test]
async fn searxng_pages_without_a_key_under_a_path_prefix() {
    let server = MockServer::start(|request, _| match request.param("pageno") {
        Some("1") => Reply::json(200, fixture("searxng_page1.json")),
        _ => Reply::json(200, fixture("searxng_empty.json")),
    })
    .await;
    let instance = server.url.join("searx").unwrap();
    let settings =
        ProviderSettings::resolve(ProviderKind::SearXng, Some(instance.as_str()), None).unwrap();
    let found = provider(settings, reqwest::Client::new(), fast_retry())
        .search(&query("red fox in snow", 100))
        .await
        .unwrap();
    assert_eq!(found.len(), 4);
    let thumb = found[1].thumbnail_url.as_ref().unwrap();
    assert_eq!(
        (thumb.host_str(), thumb.port(), thumb.path()),
        (server.url.host_str(), server.url.port(), "/image_proxy")
    );
    let requests = server.requests();
    assert_eq!(
        requests
            .iter()
            .map(|r| r.param("pageno").unwrap())
            .collect::<Vec<_>>(),
        vec!["1", "2"]
    );
    for request in &requests {
        assert_eq!(request.path, "/searx/search");
        assert_eq!(request.param("format"), Some("json"));
        assert_eq!(request.param("categories"), Some("images"));
        assert_eq!(request.param("q"), Some("red fox in snow"));
    }
}

#[tokio::test]
async fn searxng_without_json_format_says_how_to_enable_it() {
    let server =
        MockServer::start(|_, _| Reply::json(403, "<html><title>403 Forbidden</title></html>"))
            .await;
    let err = search_with(ProviderKind::SearXng, &server)
        .search(&query("fox", 10))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("settings.yml"), "{err}");
}

#[tokio::test]
async fn lens_asks_for_visual_and_exact_matches_of_an_image_url() {
    let server = MockServer::start(|request, _| match request.param("type") {
        Some("exact_matches") => Reply::json(200, fixture("serpapi_lens_exact.json")),
        _ => Reply::json(200, fixture("serpapi_lens_visual.json")),
    })
    .await;
    let image = Url::parse(
        "https://upload.wikimedia.org/wikipedia/commons/1/16/Vulpes_vulpes_laying_in_snow.jpg",
    )
    .unwrap();
    let lens = Lens::new(
        server.url.clone(),
        Secret::new(KEY),
        reqwest::Client::new(),
        fast_retry(),
        true,
    );
    let found = lens.search(&image, 100).await.unwrap();
    let urls: Vec<&str> = found
        .candidates
        .iter()
        .map(|c| c.image_url.as_str())
        .collect();
    assert_eq!(urls.len(), 5, "{urls:#?}");
    assert_eq!(
        urls[0],
        "https://species.example.edu/media/vulpes-vulpes-snow.jpg"
    );
    assert_eq!(
        found.candidates.iter().map(|c| c.rank).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    assert!(found
        .candidates
        .iter()
        .all(|c| c.provider == "serpapi_lens"));
    assert_eq!(found.exact_pages.len(), 2);
    let requests = server.requests();
    let kinds: Vec<&str> = requests.iter().map(|r| r.param("type").unwrap()).collect();
    assert_eq!(kinds, vec!["visual_matches", "exact_matches"]);
    for request in &requests {
        assert_eq!(request.param("engine"), Some("google_lens"));
        assert_eq!(request.param("url"), Some(image.as_str()));
        assert_eq!(request.param("api_key"), Some(KEY));
    }
    let capped = lens.search(&image, 2).await.unwrap();
    assert_eq!(capped.candidates.len(), 2);
}

/// A log sink for checking what the library logs.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_key_never_appears_in_logs_or_errors() {
    let logs = Captured::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start(|_, n| match n {
        0 => Reply::json(429, "{}").with_header("retry-after", "0"),
        1 => Reply::json(500, format!("internal error while handling api_key={KEY}")),
        _ => Reply::json(418, format!("{{\"error\": \"teapot for key {KEY}\"}}")),
    })
    .await;
    let err = search_with(ProviderKind::SerpApi, &server)
        .search(&query("fox", 10))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SearchError::Http { status: 418, .. }),
        "{err:?}"
    );
    assert_no_key(&err);
    assert!(err.to_string().contains("api_key=***"), "{err}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    let settings =
        ProviderSettings::resolve(ProviderKind::SerpApi, Some(KEY), Some(&dead_url)).unwrap();
    let err = provider(settings, reqwest::Client::new(), fast_retry())
        .search(&query("fox", 10))
        .await
        .unwrap_err();
    assert!(matches!(err, SearchError::Transport { .. }), "{err:?}");
    assert_no_key(&err);

    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("api_key=***"),
        "requests are logged, redacted:\n{logged}"
    );
    assert!(!logged.contains(KEY), "key leaked into logs:\n{logged}");
}

#[tokio::test]
async fn keyphrase_to_deduplicated_candidates() {
    let serpapi = MockServer::start(|request, _| match ijn_of(request) {
        0 => Reply::json(200, fixture("serpapi_images_ijn0.json")),
        _ => Reply::json(200, fixture("serpapi_images_ijn1.json")),
    })
    .await;
    let brave = MockServer::start(|_, _| Reply::json(200, fixture("brave_images.json"))).await;
    let wanted = query("red fox in snow", 100);
    let mut all: Vec<Candidate> = Vec::new();
    for (kind, server) in [
        (ProviderKind::SerpApi, &serpapi),
        (ProviderKind::Brave, &brave),
    ] {
        all.extend(search_with(kind, server).search(&wanted).await.unwrap());
    }
    let page_url =
        Url::parse("https://news.example.com/environment/2026/jan/12/winter-wildlife-red-fox")
            .unwrap();
    let html = std::fs::read_to_string(format!(
        "{}/tests/fixtures/pages/news_article.html",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    all.extend(candidates_from_page(
        &extract_images(&html, &page_url),
        &page_url,
    ));
    assert_eq!(all.len(), 10 + 3 + 6);

    let images = dedupe(all);
    assert_eq!(
        images.len(),
        10 + 3 + 6 - 2,
        "the Wikipedia fox comes from 3 results"
    );
    let wiki = images
        .iter()
        .find(|i| {
            i.image_url
                .path()
                .ends_with("Vulpes_vulpes_laying_in_snow.jpg")
        })
        .unwrap();
    assert_eq!(wiki.image_url.scheme(), "https");
    assert_eq!(wiki.best_rank, 1);
    assert_eq!(wiki.providers, vec!["serpapi", "brave"]);
    let pages: Vec<(&str, u32, &str)> = wiki
        .pages
        .iter()
        .map(|p| (p.page_url.as_str(), p.rank, p.provider))
        .collect();
    assert_eq!(
        pages,
        vec![
            ("https://en.wikipedia.org/wiki/Red_fox", 1, "serpapi"),
            (
                "https://fox-wallpapers.example/red-fox-snow-4k",
                8,
                "serpapi"
            ),
        ]
    );
    assert_eq!(
        wiki.pages[0].page_title.as_deref(),
        Some("Red fox - Wikipedia")
    );
    let ranks: Vec<u32> = images.iter().map(|i| i.best_rank).collect();
    assert!(
        ranks.windows(2).all(|w| w[0] <= w[1]),
        "sorted by best rank: {ranks:?}"
    );
    let news_pages = images
        .iter()
        .filter(|i| i.pages.iter().any(|p| p.page_url == page_url))
        .count();
    assert_eq!(news_pages, 6);
}
