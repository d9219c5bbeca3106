//! From a keyphrase, through providers and a scraped page, to deduplicated images.

use super::*;

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
        all.extend(
            search_with(kind, server)
                .search(&wanted)
                .await
                .unwrap()
                .candidates,
        );
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

#[tokio::test]
async fn gather_merges_providers_and_records_failures() {
    let serpapi =
        MockServer::start(|_, _| Reply::json(200, fixture("serpapi_images_ijn1.json"))).await;
    let brave = MockServer::start(|_, _| Reply::json(200, fixture("brave_images.json"))).await;
    let serper =
        MockServer::start(|_, _| Reply::json(400, fixture("serper_no_credits.json"))).await;
    let providers = vec![
        search_with(ProviderKind::SerpApi, &serpapi),
        search_with(ProviderKind::Brave, &brave),
        search_with(ProviderKind::Serper, &serper),
    ];
    let gathered = gather(&providers, &query("red fox in snow", 50)).await;
    assert_eq!(gathered.counts, vec![("serpapi", 4), ("brave", 3)]);
    assert_eq!(gathered.failures.len(), 1);
    assert_eq!(gathered.failures[0].provider, "serper");
    assert!(matches!(
        gathered.failures[0].error,
        SearchError::QuotaExhausted { .. }
    ));
    assert!(!gathered.all_failed());
    assert_eq!(
        gathered.images.len(),
        4 + 3 - 1,
        "the Wikipedia fox is in both"
    );
    let wiki = gathered
        .images
        .iter()
        .find(|i| {
            i.image_url
                .path()
                .ends_with("Vulpes_vulpes_laying_in_snow.jpg")
        })
        .unwrap();
    assert_eq!(wiki.providers, vec!["serpapi", "brave"]);
    assert_eq!((wiki.best_rank, wiki.pages.len()), (1, 2));
}
