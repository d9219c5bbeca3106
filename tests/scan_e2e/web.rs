//! Scans of the web that end early or politely: refused addresses, no
//! results, a missing key, reverse search, robots.txt.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_images_are_refused_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let world = poster_world(&photos()).await;
    let env = scan_env(&world, None);
    let args = [
        "scan",
        "festival poster",
        "--provider",
        "searxng",
        "--embedder",
        "none",
        "--format",
        "json",
    ];
    let summary = json(&provenance(dir.path(), &args, &env).await);
    assert_eq!(summary["new_images"], 0);
    assert_eq!(summary["failed"], 7);
    assert_eq!(world.hits("/img/a.jpg"), 0, "no connection was made");
    let store = open_store(dir.path(), None).await;
    assert!(store
        .failures(10)
        .await
        .unwrap()
        .iter()
        .all(|f| f.stage.to_string() == "ssrf"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_results_is_a_clean_empty_scan() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::start().await;
    world.put(
        "/search",
        Served::ok("application/json", searxng_results(&world, &[])),
    );
    let out = provenance(
        dir.path(),
        &[
            "scan",
            "nothing",
            "--provider",
            "searxng",
            "--embedder",
            "none",
        ],
        &scan_env(&world, None),
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("0 candidates"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_key_names_the_variable_and_the_free_alternative() {
    let dir = tempfile::tempdir().unwrap();
    let out = provenance(
        dir.path(),
        &["scan", "poster", "--provider", "serpapi"],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("SERPAPI_API_KEY") && err.contains("searxng"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reverse_search_by_image_url_follows_exact_match_pages() {
    let dir = tempfile::tempdir().unwrap();
    let photos = photos();
    let world = poster_world(&photos).await;
    world.put(
        "/blog/lens-only.html",
        Served::ok(
            "text/html",
            format!(
                r#"<html><title>Lens</title><img src="{}" width="500"></html>"#,
                world.url("/img/c.jpg")
            ),
        ),
    );
    // One answer serves both Lens requests: each reads its own array.
    let lens = serde_json::json!({
        "visual_matches": [{"position": 1, "title": "Festival news", "link": world.url("/news/festival.html"),
                            "source": "festival", "image": world.url("/img/a.jpg")}],
        "exact_matches": [{"position": 1, "title": "Lens only", "link": world.url("/blog/lens-only.html"),
                           "source": "blog"}],
    });
    world.put(
        "/search.json",
        Served::ok("application/json", serde_json::to_vec(&lens).unwrap()),
    );
    let env = [
        ("SERPAPI_API_KEY", "fake-lens-key-123".to_string()),
        ("PROVENANCE_SERPAPI_URL", world.url("/")),
    ];
    let suspect = world.url("/img/a.jpg");
    let args = [
        "scan",
        "--image-url",
        &suspect,
        "--follow-pages",
        "--embedder",
        "none",
        "--allow-private-addresses",
        "--format",
        "json",
    ];
    let out = provenance(dir.path(), &args, &env).await;
    let summary = json(&out);
    assert_eq!(
        summary["new_images"], 2,
        "a from the visual match, c from the exact-match page: {summary}"
    );
    assert!(!stderr(&out).contains("fake-lens-key-123"));
    let store = open_store(dir.path(), None).await;
    let scan = store
        .scan(summary["scan_id"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (scan.provider.as_str(), scan.keyphrase.as_str()),
        ("serpapi_lens", suspect.as_str())
    );
    assert_eq!(world.hits("/blog/lens-only.html"), 1);
}

/// Regression: a page that robots.txt disallows was counted as *failed*
/// while an image refused for the same reason was *skipped*. Both are
/// polite skips now.
#[tokio::test]
async fn a_page_refused_by_robots_txt_counts_as_skipped_not_failed() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::start().await;
    world.put(
        "/robots.txt",
        Served::ok("text/plain", "User-agent: *\nDisallow: /private/\n"),
    );
    world.put(
        "/img/a.jpg",
        Served::ok(
            "image/jpeg",
            std::fs::read(fixture("hash/coffee.jpg")).unwrap(),
        ),
    );
    world.put(
        "/private/page.html",
        Served::ok("text/html", "<html><img src=\"/img/a.jpg\"></html>"),
    );
    world.put(
        "/search",
        Served::ok(
            "application/json",
            searxng_results(&world, &[("/img/a.jpg", "/private/page.html", "Private")]),
        ),
    );
    let mut args = SCAN_ARGS.to_vec();
    args.extend(["--embedder", "none"]);
    let out = provenance(dir.path(), &args, &scan_env(&world, None)).await;
    let summary = json(&out);
    assert_eq!(
        (
            &summary["candidates"],
            &summary["fetched"],
            &summary["skipped"],
            &summary["failed"]
        ),
        (
            &serde_json::json!(1),
            &serde_json::json!(1),
            &serde_json::json!(1),
            &serde_json::json!(0)
        ),
        "{summary}"
    );
    assert_eq!(world.hits("/private/page.html"), 0);
    let failures =
        json(&provenance(dir.path(), &["db", "failures", "--format", "json"], &[]).await);
    assert_eq!(failures[0]["stage"], "skip:page", "{failures}");
}
