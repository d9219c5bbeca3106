//! Reverse search by uploading a local picture (TinEye on loopback), and
//! every request a reverse-search provider cannot take refused in words.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_file_goes_to_tineye_and_its_postings_keep_their_crawl_dates() {
    let dir = tempfile::tempdir().unwrap();
    let photos = photos();
    let world = World::start().await;
    world.put("/img/a.jpg", Served::ok("image/jpeg", photos.a.clone()));
    world.put(
        "/img/a-small.jpg",
        Served::ok("image/jpeg", photos.a_small.clone()),
    );
    let answer = serde_json::json!({"code": 200, "messages": [], "results": {"matches": [
        {"image_url": world.url("/img/a.jpg"), "width": 512, "height": 512, "backlinks": [
            {"url": world.url("/img/a.jpg"), "backlink": world.url("/news/2014"), "crawl_date": "2014-06-02"},
            {"url": world.url("/img/a.jpg"), "backlink": world.url("/blog/repost"), "crawl_date": "2019-05-28"}
        ]},
        {"image_url": world.url("/img/a-small.jpg"), "backlinks": [
            {"url": world.url("/img/a-small.jpg"), "backlink": world.url("/shop/1"), "crawl_date": "2021-01-01"}
        ]}
    ]}});
    world.put(
        "/rest/search/",
        Served::ok("application/json", answer.to_string()),
    );
    let suspect = dir.path().join("suspect.jpg");
    std::fs::write(&suspect, &photos.a).unwrap();
    let env = [
        ("TINEYE_API_KEY", "tineye-secret-key-42".to_string()),
        ("PROVENANCE_TINEYE_URL", world.url("/")),
    ];
    let args = [
        "scan",
        "--image",
        suspect.to_str().unwrap(),
        "--embedder",
        "none",
        "--allow-private-addresses",
        "--format",
        "json",
    ];
    let out = provenance(dir.path(), &args, &env).await;
    let summary = json(&out);
    assert_eq!(summary["candidates"], 2, "{summary}");
    assert_eq!(summary["new_images"], 2, "{summary}");
    assert_eq!(world.hits("/rest/search/"), 1);
    assert!(!stderr(&out).contains("tineye-secret-key-42"));
    let store = open_store(dir.path(), None).await;
    let scan = &store.scans(1).await.unwrap()[0];
    assert_eq!(scan.provider, "tineye");
    assert!(
        scan.keyphrase.starts_with("suspect.jpg (sha256 "),
        "{}",
        scan.keyphrase
    );

    let report = match_json(dir.path(), &suspect, &[], &env).await;
    let best = &report["matches"][0];
    assert_eq!(best["kind"], "exact_copy", "{report}");
    let mut crawled: Vec<String> = best["sightings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["source_facts"]["date"]["meaning"], "crawled");
            s["source_facts"]["date"]["at"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    crawled.sort();
    assert_eq!(crawled, ["2014-06-02T00:00:00Z", "2019-05-28T00:00:00Z"]);
}

/// Arguments, environment, and the words the refusal must hold.
type Refusal<'a> = (&'a [&'a str], &'a [(&'a str, String)], &'a str);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reverse_search_never_switches_provider_silently() {
    let dir = tempfile::tempdir().unwrap();
    let picture = dir.path().join("p.jpg");
    std::fs::write(&picture, photos().a).unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "not a picture").unwrap();
    let file = picture.to_str().unwrap();
    let keys = [
        ("SERPAPI_API_KEY", "s".repeat(20)),
        ("TINEYE_API_KEY", "t".repeat(20)),
        ("SEARXNG_URL", "http://127.0.0.1:9/".to_string()),
    ];
    let cases: [Refusal; 7] = [
        (
            &["scan", "--image-url", file],
            &keys,
            "is a local file, not a URL: search by upload with --image",
        ),
        (
            &["scan", "--image", file, "--provider", "serpapi"],
            &keys,
            "cannot take a local file",
        ),
        (
            &[
                "scan",
                "--image-url",
                "https://example.org/a.jpg",
                "--provider",
                "searxng",
            ],
            &keys,
            "searxng cannot search by picture",
        ),
        (
            &["scan", "--image", file, "--provider", "serpapi,tineye"],
            &keys,
            "one provider at a time",
        ),
        (&["scan", "--image", file], &[], "TINEYE_API_KEY is not set"),
        (
            &["scan", "--image", notes.to_str().unwrap()],
            &keys,
            "is not a picture",
        ),
        (
            &["scan", "festival poster", "--provider", "tineye"],
            &keys,
            "tineye searches by picture, not by words",
        ),
    ];
    for (args, env, expected) in cases {
        let out = provenance(dir.path(), args, env).await;
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_gives_the_whole_answer_and_survives_a_failed_search() {
    let dir = tempfile::tempdir().unwrap();
    let photos = photos();
    let world = World::start().await;
    world.put("/img/a.jpg", Served::ok("image/jpeg", photos.a.clone()));
    world.put("/img/b.png", Served::ok("image/png", photos.b.clone()));
    let openverse = serde_json::json!({"page": 1, "page_count": 1, "results": [
        {"url": world.url("/img/b.png"), "foreign_landing_url": world.url("/flickr/b"), "license": "cc0", "license_version": "1.0"}
    ]});
    world.put(
        "/v1/images/",
        Served::ok("application/json", openverse.to_string()),
    );
    world.put(
        "/w/api.php",
        Served::ok("application/json", r#"{"batchcomplete": true}"#),
    );
    world.put("/rest/search/", Served::status(503));
    let suspect = dir.path().join("suspect.jpg");
    std::fs::write(&suspect, &photos.a).unwrap();
    let file = suspect.to_str().unwrap();
    let keyless = vec![
        ("PROVENANCE_OPENVERSE_URL", world.url("/")),
        ("PROVENANCE_COMMONS_URL", world.url("/")),
    ];
    let mut with_tineye = keyless.clone();
    with_tineye.push(("TINEYE_API_KEY", "tineye-secret-key-42".into()));
    with_tineye.push(("PROVENANCE_TINEYE_URL", world.url("/")));
    let common = [
        "--embedder",
        "none",
        "--allow-private-addresses",
        "--search-retries",
        "0",
        "--format",
        "json",
    ];
    let trace = |extra: &[&str]| -> Vec<String> {
        ["trace", file]
            .iter()
            .chain(extra)
            .chain(&common)
            .map(|s| s.to_string())
            .collect()
    };

    // Nothing to search with: said, exit 2, nothing done.
    let args = trace(&[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = provenance(dir.path(), &args, &keyless).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("trace needs something to search with"));

    // No key, a keyphrase: the keyphrase scan runs, the missing reverse
    // search is said once; the query is not among Openverse's pictures.
    let args = trace(&["--keyphrase", "festival poster"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = provenance(dir.path(), &args, &keyless).await;
    let report = json(&out);
    let err = stderr(&out);
    assert_eq!(
        err.matches("no reverse search by upload").count(),
        1,
        "{err}"
    );
    assert!(
        err.contains("searched festival poster (openverse,commons)"),
        "{err}"
    );
    assert!(
        report["matches"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["kind"] != "exact_copy"),
        "{report}"
    );

    // With a key and TinEye down: the failure is named, the rest stands.
    let out = provenance(dir.path(), &args, &with_tineye).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("failed and is left out"), "{err}");
    assert!(!err.contains("tineye-secret-key-42"), "{err}");

    // TinEye up: its posting of the very file is found.
    let answer = serde_json::json!({"code": 200, "results": {"matches": [{"backlinks": [
        {"url": world.url("/img/a.jpg"), "backlink": world.url("/news/2014"), "crawl_date": "2014-06-02"}
    ]}]}});
    world.put(
        "/rest/search/",
        Served::ok("application/json", answer.to_string()),
    );
    let out = provenance(dir.path(), &args, &with_tineye).await;
    let report = json(&out);
    let best = &report["matches"][0];
    assert_eq!(best["kind"], "exact_copy", "{report}");
    assert_eq!(best["sightings"][0]["provider"], "tineye");
    assert_eq!(best["sightings"][0]["page_url"], world.url("/news/2014"));
}
