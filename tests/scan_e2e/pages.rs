//! What pages say about their pictures — a publication date, JSON-LD
//! credits — reaches the sightings, the report and the timeline when the
//! scan follows the pages.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_followed_page_dates_and_credits_its_picture() {
    let dir = tempfile::tempdir().unwrap();
    let photos = photos();
    let world = World::start().await;
    world.put("/img/a.jpg", Served::ok("image/jpeg", photos.a.clone()));
    world.put("/img/b.png", Served::ok("image/png", photos.b.clone()));
    world.put(
        "/robots.txt",
        Served::ok("text/plain", "User-agent: *\nAllow: /\n"),
    );
    let page = format!(
        r#"<html><head><title>Festival 2014</title>
        <meta property="article:published_time" content="2014-06-01T09:00:00Z">
        <script type="application/ld+json">{{"@context":"https://schema.org","@type":"ImageObject",
          "contentUrl":"{}","creditText":"Photo: Ann <b>Lee</b>","copyrightNotice":"© 2014 Ann Lee",
          "license":"https://creativecommons.org/licenses/by/4.0/"}}</script>
        <script type="application/ld+json">{{ this is not json </script></head>
        <body><img src="/img/a.jpg" width="512" height="512">
        <article><time datetime="2015-02-02">later</time><figure><img src="/img/b.png" width="400" height="300"></figure></article>
        </body></html>"#,
        world.url("/img/a.jpg")
    );
    world.put("/news/2014", Served::ok("text/html; charset=utf-8", page));
    let list = dir.path().join("urls.txt");
    std::fs::write(
        &list,
        format!("{} {}\n", world.url("/img/a.jpg"), world.url("/news/2014")),
    )
    .unwrap();
    let args = [
        "scan",
        "--urls",
        list.to_str().unwrap(),
        "--follow-pages",
        "--allow-private-addresses",
        "--embedder",
        "none",
        "--format",
        "json",
    ];
    let summary = json(&provenance(dir.path(), &args, &[]).await);
    assert_eq!(
        summary["new_images"], 2,
        "a listed, b from the page: {summary}"
    );

    let suspect = dir.path().join("suspect.jpg");
    std::fs::write(&suspect, &photos.a).unwrap();
    let out = provenance(
        dir.path(),
        &["match", suspect.to_str().unwrap(), "--format", "json"],
        &[],
    )
    .await;
    let report = json(&out);
    let best = &report["matches"][0];
    assert_eq!(best["kind"], "exact_copy", "{report}");
    let facts = &best["sightings"][0]["source_facts"];
    assert_eq!(
        facts["credit"], "Photo: Ann <b>Lee</b>",
        "kept as text: {facts}"
    );
    assert_eq!(facts["copyright"], "© 2014 Ann Lee");
    assert_eq!(
        facts["license_url"],
        "https://creativecommons.org/licenses/by/4.0/"
    );
    assert_eq!(facts["date"]["meaning"], "published");
    assert_eq!(facts["date"]["at"], "2014-06-01T09:00:00Z");
    let kinds: Vec<&str> = report["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds[0], "page_published", "{kinds:?}");
    assert_eq!(
        report["likely_original"]["evidence"]["kind"],
        "page_published"
    );

    // b.png is dated by the <time> in its article.
    let store = open_store(dir.path(), None).await;
    let b = store
        .image_by_sha256(&provenance::hash::sha256(&photos.b))
        .await
        .unwrap()
        .unwrap();
    let sightings = store.sightings(b).await.unwrap();
    let date = sightings[0].source_facts.as_ref().unwrap().date.unwrap();
    assert_eq!(date.at.to_rfc3339(), "2015-02-02T00:00:00+00:00");
}
