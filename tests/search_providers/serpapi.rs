//! SerpApi `google_images` paging, answers and errors, and `google_lens`.

use super::*;

#[tokio::test]
async fn serpapi_pages_with_ijn_past_100() {
    let server = MockServer::start(|request, _| {
        Reply::json(200, serpapi_generated_page(ijn_of(request), 9))
    })
    .await;
    let found = search_with(ProviderKind::SerpApi, &server)
        .search(&query("red fox in snow", 250))
        .await
        .unwrap()
        .candidates;
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
        .unwrap()
        .candidates;
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
        .unwrap()
        .candidates;
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
    let answer = search_with(ProviderKind::SerpApi, &server)
        .search(&query("fox den", 10))
        .await
        .unwrap();
    let found = answer.candidates;
    let urls: Vec<&str> = found.iter().map(|c| c.image_url.as_str()).collect();
    assert_eq!(
        urls,
        vec![
            "https://images.example.net/fox-den.jpg",
            "https://weird.example.com/title-is-a-number.jpg",
            "https://cdn.example.org/fox2.png"
        ],
        "a numeric title costs the title, not the result"
    );
    assert_eq!(
        found.iter().map(|c| c.rank).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(answer.dropped, 2, "no original, a data: URI");
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
        api_client().unwrap(),
        fast_retry(),
        true,
    );
    assert!(!format!("{lens:?}").contains(KEY));
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
