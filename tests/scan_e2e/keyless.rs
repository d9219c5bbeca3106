//! With no key and no provider chosen, a keyphrase goes to Openverse and
//! Wikimedia Commons (here replayed on loopback), their answers are merged,
//! and what they say about each posting (creator, licence, upload date)
//! reaches the store and the report.

use super::*;

/// Openverse's answer: a.jpg (also on Commons) and b.png.
fn openverse_answer(world: &World) -> String {
    serde_json::json!({
        "result_count": 2, "page_count": 1, "page_size": 20, "page": 1,
        "results": [
            {
                "id": "1", "title": "Festival poster",
                "url": world.url("/img/a.jpg"),
                "foreign_landing_url": world.url("/flickr/poster"),
                "creator": "Ann Lee", "creator_url": world.url("/flickr/ann"),
                "license": "by-sa", "license_version": "2.0",
                "license_url": "https://creativecommons.org/licenses/by-sa/2.0/",
                "indexed_on": "2022-06-01T10:11:12",
                "width": 512, "height": 512
            },
            {
                "id": "2", "title": "Coffee",
                "url": world.url("/img/b.png"),
                "foreign_landing_url": world.url("/flickr/coffee"),
                "license": "cc0", "license_version": "1.0"
            }
        ]
    })
    .to_string()
}

/// Commons' answer: the same a.jpg on its file page, uploaded in 2019.
fn commons_answer(world: &World) -> String {
    serde_json::json!({
        "batchcomplete": true,
        "query": {"pages": [{
            "pageid": 1, "ns": 6, "title": "File:Festival poster.jpg", "index": 1,
            "imageinfo": [{
                "url": world.url("/img/a.jpg"),
                "descriptionurl": world.url("/wiki/File:Festival_poster.jpg"),
                "timestamp": "2019-03-01T10:00:00Z",
                "user": "AnnLee", "mime": "image/jpeg", "width": 512, "height": 512,
                "extmetadata": {
                    "Artist": {"value": "<a href=\"/wiki/User:AnnLee\">Ann <b>Lee</b></a>"},
                    "LicenseShortName": {"value": "CC BY-SA 4.0"}
                }
            }]
        }]}
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_with_no_key_asks_openverse_and_commons() {
    let dir = tempfile::tempdir().unwrap();
    let photos = photos();
    let world = World::start().await;
    world.put("/img/a.jpg", Served::ok("image/jpeg", photos.a.clone()));
    world.put("/img/b.png", Served::ok("image/png", photos.b.clone()));
    world.put(
        "/v1/images/",
        Served::ok("application/json", openverse_answer(&world)),
    );
    world.put(
        "/w/api.php",
        Served::ok("application/json", commons_answer(&world)),
    );
    let env = [
        ("PROVENANCE_OPENVERSE_URL", world.url("/")),
        ("PROVENANCE_COMMONS_URL", world.url("/")),
    ];
    let args = [
        "scan",
        "festival poster",
        "--allow-private-addresses",
        "--embedder",
        "none",
        "--format",
        "json",
    ];
    let out = provenance(dir.path(), &args, &env).await;
    let summary = json(&out);
    assert_eq!(summary["status"], "completed", "{summary}");
    assert_eq!(summary["candidates"], 2, "a.jpg from both, once: {summary}");
    assert_eq!(summary["new_images"], 2, "{summary}");
    assert_eq!(world.hits("/img/a.jpg"), 1, "fetched once");
    let note = stderr(&out);
    assert_eq!(
        note.matches("widens coverage").count(),
        1,
        "said once: {note}"
    );
    assert_eq!(
        (world.hits("/v1/images/"), world.hits("/w/api.php")),
        (1, 1)
    );

    let store = open_store(dir.path(), None).await;
    let scan = &store.scans(1).await.unwrap()[0];
    assert_eq!(scan.provider, "openverse,commons");

    let suspect = dir.path().join("suspect.jpg");
    std::fs::write(&suspect, &photos.a).unwrap();
    let report = match_json(dir.path(), &suspect, &[], &env).await;
    let best = &report["matches"][0];
    assert_eq!(best["kind"], "exact_copy", "{report}");
    let sightings = best["sightings"].as_array().unwrap();
    assert_eq!(
        sightings.len(),
        2,
        "the Flickr page and the Commons file page"
    );
    let on = |provider: &str| {
        sightings
            .iter()
            .find(|s| s["provider"] == provider)
            .unwrap_or_else(|| panic!("a sighting from {provider}: {report}"))["source_facts"]
            .clone()
    };
    let commons = on("commons");
    assert_eq!(commons["creator"], "Ann Lee", "markup dropped");
    assert_eq!(commons["license"], "CC BY-SA 4.0");
    assert_eq!(commons["date"]["meaning"], "uploaded");
    assert_eq!(commons["date"]["at"], "2019-03-01T10:00:00Z");
    let original = &report["likely_original"];
    assert_eq!(original["evidence"]["kind"], "source_uploaded", "{report}");
    assert_eq!(original["evidence"]["strength"], "strong");
    let openverse = on("openverse");
    assert_eq!(openverse["license"], "CC BY-SA 2.0");
    assert_eq!(openverse["date"]["meaning"], "indexed");
    assert_eq!(openverse["creator_url"], world.url("/flickr/ann"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_keyless_source_down_leaves_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let photos = photos();
    let world = World::start().await;
    world.put("/img/a.jpg", Served::ok("image/jpeg", photos.a.clone()));
    world.put(
        "/w/api.php",
        Served::ok("application/json", commons_answer(&world)),
    );
    world.put(
        "/v1/images/",
        Served::ok("text/html", "<html>maintenance</html>"),
    );
    let env = [
        ("PROVENANCE_OPENVERSE_URL", world.url("/")),
        ("PROVENANCE_COMMONS_URL", world.url("/")),
    ];
    let args = [
        "scan",
        "festival poster",
        "--provider",
        "openverse,commons",
        "--search-retries",
        "0",
        "--allow-private-addresses",
        "--embedder",
        "none",
        "--format",
        "json",
    ];
    let out = provenance(dir.path(), &args, &env).await;
    let summary = json(&out);
    assert_eq!(summary["new_images"], 1, "{summary}");
    let err = stderr(&out);
    assert!(
        err.contains("openverse"),
        "the failed source is named: {err}"
    );
    assert!(
        !err.contains("widens coverage"),
        "providers were chosen: {err}"
    );

    // Both down: the scan fails with the first source's reason.
    world.put("/w/api.php", Served::status(503));
    let out = provenance(dir.path(), &args, &env).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("openverse"), "{}", stderr(&out));
}
