//! Brave, Serper and SearXNG: request shape, paging and error answers.

use super::*;

#[tokio::test]
async fn brave_sends_token_header_and_count_up_to_200() {
    let server = MockServer::start(|_, _| Reply::json(200, fixture("brave_images.json"))).await;
    let found = search_with(ProviderKind::Brave, &server)
        .search(&query("red fox in snow", 500))
        .await
        .unwrap()
        .candidates;
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
        .unwrap()
        .candidates;
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
        .unwrap()
        .candidates;
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
    let found = provider(settings, api_client().unwrap(), fast_retry())
        .search(&query("red fox in snow", 100))
        .await
        .unwrap()
        .candidates;
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
