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
    let report = match_json(dir.path(), &suspect, &[], &[]).await;
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

/// `jpeg` with an XMP packet in an APP1 segment right after its SOI.
fn with_xmp(jpeg: &[u8], packet: &str) -> Vec<u8> {
    let mut payload = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
    payload.extend_from_slice(packet.as_bytes());
    let length = u16::try_from(payload.len() + 2).unwrap();
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_file_says_of_its_maker_reaches_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let photos = photos();
    let packet = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
      <rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
        xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" photoshop:DateCreated="2013-08-09">
        <dc:creator><rdf:Seq><rdf:li>Ann Lee</rdf:li></rdf:Seq></dc:creator>
        <Iptc4xmpExt:DigitalSourceType rdf:resource="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"/>
      </rdf:Description></rdf:RDF></x:xmpmeta>"#;
    let tagged = with_xmp(&photos.a, packet);
    let world = World::start().await;
    world.put("/img/tagged.jpg", Served::ok("image/jpeg", tagged.clone()));
    // A broken packet loses its credits, never the picture.
    let broken = with_xmp(&photos.c, "<x:xmpmeta><rdf:RDF><dc:creator>");
    world.put("/img/broken-xmp.jpg", Served::ok("image/jpeg", broken));
    let lines = [
        world.url("/img/tagged.jpg"),
        world.url("/img/broken-xmp.jpg"),
    ];
    let summary = scan_url_list(dir.path(), &lines).await;
    assert_eq!(summary["new_images"], 2, "{summary}");
    let suspect = dir.path().join("suspect.jpg");
    std::fs::write(&suspect, &tagged).unwrap();
    let report = match_json(dir.path(), &suspect, &[], &[]).await;
    let image = &report["matches"][0]["image"];
    assert_eq!(image["embedded"]["creator"], "Ann Lee", "{report}");
    assert!(image["embedded"]["digital_source_type"]
        .as_str()
        .unwrap()
        .ends_with("trainedAlgorithmicMedia"));
    assert_eq!(report["timeline"][0]["kind"], "file_created");
    assert_eq!(report["timeline"][0]["at"], "2013-08-09T00:00:00Z");
    let text = markdown_report(&dir.path().join("data/reports"));
    assert!(text.contains("made by AI, the file says"), "{text}");
}

/// The words pictures were posted with are kept by the scan and searched:
/// `search --in-pages` lists postings, `search` finds pictures by them
/// (no model needed), `match --text` marks and puts first the postings
/// that hold the words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn words_around_pictures_are_searched_and_mark_postings() {
    let dir = tempfile::tempdir().unwrap();
    let photos = photos();
    let world = World::start().await;
    world.put("/img/a.jpg", Served::ok("image/jpeg", photos.a.clone()));
    world.put("/img/b.png", Served::ok("image/png", photos.b.clone()));
    world.put(
        "/robots.txt",
        Served::ok("text/plain", "User-agent: *\nAllow: /\n"),
    );
    let html =
        |body: &str| format!("<html><head><title>Page</title></head><body>{body}</body></html>");
    world.put(
        "/news/leak",
        Served::ok(
            "text/html",
            html(r#"<h1>Festival news</h1><figure><img src="/img/a.jpg" width="512" height="512" alt="The festival poster">
               <figcaption>Leaked festival poster <script>alert(1)</script></figcaption></figure>"#),
        ),
    );
    world.put(
        "/shop",
        Served::ok(
            "text/html",
            html(r#"<p>Prints of every kind.</p><img src="/img/a.jpg" width="512" height="512" alt="Vintage poster for sale">"#),
        ),
    );
    world.put(
        "/blog/cats",
        Served::ok(
            "text/html",
            html(r#"<p>Readers said this was fake.</p><img src="/img/b.png" width="400" height="300" alt="A cat asleep">"#),
        ),
    );
    let list = dir.path().join("urls.txt");
    let lines: Vec<String> = [
        ("/img/a.jpg", "/news/leak"),
        ("/img/a.jpg", "/shop"),
        ("/img/b.png", "/blog/cats"),
    ]
    .iter()
    .map(|(img, page)| format!("{} {}", world.url(img), world.url(page)))
    .collect();
    std::fs::write(&list, lines.join("\n") + "\n").unwrap();
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
    assert_eq!(summary["new_images"], 2, "{summary}");

    let in_pages = |query: &'static str| {
        let dir = dir.path().to_path_buf();
        async move {
            let args = ["search", "--in-pages", query, "--format", "json"];
            json(&provenance(&dir, &args, &[]).await)
        }
    };
    let leaked = in_pages("leaked poster").await;
    let postings = leaked["postings"].as_array().unwrap();
    assert_eq!(postings.len(), 1, "{leaked}");
    assert_eq!(postings[0]["page_url"], world.url("/news/leak"));
    assert_eq!(
        postings[0]["words"]["caption"], "Leaked festival poster",
        "script text is not words: {leaked}"
    );
    assert_eq!(postings[0]["words"]["heading"], "Festival news");
    let marked: Vec<&str> = postings[0]["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["hit"] == true)
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert!(marked.contains(&"Leaked"), "{leaked}");
    let poster = in_pages("posters").await;
    let pages: Vec<&str> = poster["postings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["page_url"].as_str().unwrap())
        .collect();
    assert_eq!(pages.len(), 2, "stemmed, both pages of a: {pages:?}");
    let human = provenance(dir.path(), &["search", "--in-pages", "fake"], &[]).await;
    assert!(human.status.success(), "{}", stderr(&human));
    let listing = common::binary::stdout(&human);
    assert!(
        listing.contains("1 posting whose words hold fake"),
        "{listing}"
    );
    assert!(listing.contains("[fake]"), "{listing}");
    let none = provenance(dir.path(), &["search", "--in-pages", "the of"], &[]).await;
    assert_eq!(
        none.status.code(),
        Some(2),
        "only stop words is a usage error"
    );
    assert!(
        stderr(&none).contains("no words to search for"),
        "{}",
        stderr(&none)
    );

    // Pictures by the words of their pages, with no model at all.
    let args = ["search", "leaked poster", "--format", "json", "--no-report"];
    let found = json(&provenance(dir.path(), &args, &[]).await);
    let a = store_id(dir.path(), &photos.a).await;
    assert_eq!(found["matches"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found["matches"][0]["image"]["id"], a);
    assert_eq!(found["matches"][0]["found_by"][0]["signal"], "page_words");
    assert_eq!(found["matches"][0]["decided_by"], "page_words");
    assert_eq!(found["words_query"], "leaked poster");
    assert!(
        found["notes"].to_string().contains("holds no vectors"),
        "{found}"
    );

    // match --text puts the posting that holds the words first.
    let suspect = dir.path().join("suspect.jpg");
    std::fs::write(&suspect, &photos.a).unwrap();
    let report = match_json(
        dir.path(),
        &suspect,
        &["--text", "sale", "--no-report"],
        &[],
    )
    .await;
    let sightings = report["matches"][0]["sightings"].as_array().unwrap();
    assert_eq!(sightings[0]["page_url"], world.url("/shop"), "{report}");
    assert!(sightings[0]["words_hit"].is_array());
    assert!(sightings[1..].iter().all(|s| s["words_hit"].is_null()));
    assert_eq!(sightings[0]["words"]["alt"], "Vintage poster for sale");
    assert!(
        report["notes"].to_string().contains("1 of the 2 postings"),
        "{}",
        report["notes"]
    );
}

async fn store_id(dir: &Path, bytes: &[u8]) -> i64 {
    open_store(dir, None)
        .await
        .image_by_sha256(&provenance::hash::sha256(bytes))
        .await
        .unwrap()
        .unwrap()
}
