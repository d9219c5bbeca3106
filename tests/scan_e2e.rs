//! End to end: the real binary scans a small web on loopback (search API,
//! image hosts, pages) serving real photos, exact duplicates, resized and
//! re-encoded copies, and failures; the store must then hold exactly the
//! expected images and sightings, and a rerun must change nothing.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::binary::{json, stderr};
use common::world::{searxng_results, Served, World};
use provenance::config::StoreLocation;
use provenance::store::{self, Store};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn tiny_model() -> String {
    fixture("clip/tiny").display().to_string()
}

/// Runs the binary with a clean environment plus `env`.
async fn provenance(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Output {
    common::binary::run(dir, args, env).await
}

fn jpeg(image: &image::DynamicImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    image.to_rgb8().write_with_encoder(encoder).unwrap();
    out
}

fn png(image: &image::DynamicImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// The photos of the world, as served.
struct Photos {
    a: Vec<u8>,
    a_small: Vec<u8>,
    b: Vec<u8>,
    c: Vec<u8>,
}

fn photos() -> Photos {
    let a = std::fs::read(fixture("hash/astronaut.jpg")).unwrap();
    let a_image = image::load_from_memory(&a).unwrap();
    let a_small = jpeg(
        &a_image.resize(
            a_image.width() / 2,
            a_image.height() / 2,
            image::imageops::Lanczos3,
        ),
        70,
    );
    let b =
        png(&image::load_from_memory(&std::fs::read(fixture("hash/coffee.jpg")).unwrap()).unwrap());
    let c = std::fs::read(fixture("hash/chelsea.jpg")).unwrap();
    Photos { a, a_small, b, c }
}

/// Builds the world: seven search results (four good images, one exact
/// duplicate, three failures) and a page that shows one more image.
async fn poster_world(photos: &Photos) -> World {
    let world = World::start().await;
    world.put("/img/a.jpg", Served::ok("image/jpeg", photos.a.clone()));
    world.put(
        "/img/a-copy.jpg",
        Served::ok("image/jpeg", photos.a.clone()),
    );
    world.put(
        "/img/a-small.jpg",
        Served::ok("image/jpeg", photos.a_small.clone()),
    );
    world.put("/img/b.png", Served::ok("image/png", photos.b.clone()));
    world.put("/img/c.jpg", Served::ok("image/jpeg", photos.c.clone()));
    world.put(
        "/img/broken.jpg",
        Served::ok("image/jpeg", photos.a[..2000].to_vec()),
    );
    world.put(
        "/img/page.jpg",
        Served::ok(
            "image/jpeg",
            b"<html><body>not an image</body></html>".to_vec(),
        ),
    );
    world.put(
        "/robots.txt",
        Served::ok("text/plain", "User-agent: *\nAllow: /\n"),
    );
    let page = r#"<html><head><title>Festival news</title></head><body>
        <img src="/img/a.jpg" width="600" height="400"><img src="c.jpg" width="500" height="300">
        <img src="/icons/spacer.gif" width="1" height="1"></body></html>"#
        .replace("c.jpg", &world.url("/img/c.jpg"));
    world.put(
        "/news/festival.html",
        Served::ok("text/html; charset=utf-8", page),
    );
    world.put(
        "/blog/repost.html",
        Served::ok(
            "text/html",
            "<html><title>Repost</title><body>no images</body></html>",
        ),
    );
    world.put(
        "/shop/item.html",
        Served::ok("text/html", "<html><title>Shop</title></html>"),
    );
    let results = searxng_results(
        &world,
        &[
            ("/img/a.jpg", "/news/festival.html", "Festival news"),
            ("/img/a-copy.jpg", "/blog/repost.html", "Repost"),
            ("/img/a-small.jpg", "/shop/item.html", "Shop"),
            ("/img/b.png", "/news/festival.html", "Festival news"),
            ("/img/broken.jpg", "/blog/repost.html", "Repost"),
            ("/img/missing.jpg", "/blog/repost.html", "Repost"),
            ("/img/page.jpg", "/blog/repost.html", "Repost"),
        ],
    );
    world.put("/search", Served::ok("application/json", results));
    world
}

fn scan_env(world: &World, database_url: Option<&str>) -> Vec<(&'static str, String)> {
    let mut env = vec![("SEARXNG_URL", world.url("/"))];
    if let Some(url) = database_url {
        env.push(("DATABASE_URL", url.to_string()));
    }
    env
}

const SCAN_ARGS: [&str; 8] = [
    "scan",
    "festival poster",
    "--provider",
    "searxng",
    "--follow-pages",
    "--allow-private-addresses",
    "--format",
    "json",
];

async fn open_store(dir: &Path, database_url: Option<&str>) -> Box<dyn Store> {
    let location = StoreLocation::resolve(database_url, &dir.join("data")).unwrap();
    store::open(&location).await.unwrap()
}

async fn scan_stores_what_the_world_holds(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let photos = photos();
    let world = poster_world(&photos).await;
    let env = scan_env(&world, database_url.as_deref());
    let model = tiny_model();
    let args: Vec<&str> = SCAN_ARGS
        .iter()
        .copied()
        .chain(["--model-dir", &model])
        .collect();

    let first = json(&provenance(dir.path(), &args, &env).await);
    assert_eq!(first["status"], "completed");
    assert_eq!(first["resumed"], false);
    assert_eq!(
        first["candidates"],
        7 + 1,
        "7 search results + c.jpg from the page (a.jpg is listed and on the page: one candidate): {first}"
    );
    assert_eq!(first["new_images"], 4, "a, a-small, b, c: {first}");
    assert_eq!(first["embedded"], 4);
    assert_eq!(first["failed"], 3, "broken, missing, page.jpg: {first}");

    let store = open_store(dir.path(), database_url.as_deref()).await;
    let status = store.status().await.unwrap();
    assert_eq!((status.images, status.embedded, status.failures), (4, 4, 3));
    assert_eq!(status.sightings, 5, "a twice (two URLs), a-small, b, c");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("clip/tiny/config.json")).unwrap())
            .unwrap();
    assert_eq!(
        status.model.unwrap().dim as u64,
        config["projection_dim"].as_u64().unwrap()
    );
    let a = store
        .image_by_sha256(&provenance::hash::sha256(&photos.a))
        .await
        .unwrap()
        .unwrap();
    let a_sightings = store.sightings(a).await.unwrap();
    let mut urls: Vec<_> = a_sightings
        .iter()
        .map(|s| (s.image_url.clone(), s.page_url.clone().unwrap()))
        .collect();
    urls.sort();
    assert_eq!(
        urls,
        [
            (world.url("/img/a-copy.jpg"), world.url("/blog/repost.html")),
            (world.url("/img/a.jpg"), world.url("/news/festival.html")),
        ]
    );
    assert!(a_sightings
        .iter()
        .all(|s| s.keyphrase.as_deref() == Some("festival poster")));
    let festival = a_sightings
        .iter()
        .find(|s| s.image_url.ends_with("/a.jpg"))
        .unwrap();
    assert_eq!(festival.page_title.as_deref(), Some("Festival news"));
    let c = store
        .image_by_sha256(&provenance::hash::sha256(&photos.c))
        .await
        .unwrap()
        .unwrap();
    let c_sightings = store.sightings(c).await.unwrap();
    assert_eq!(c_sightings.len(), 1);
    assert_eq!(
        c_sightings[0].provider.as_deref(),
        Some("page"),
        "found only by following the page"
    );
    let mut stages: Vec<_> = store
        .failures(10)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.stage.to_string())
        .collect();
    stages.sort();
    assert_eq!(stages, ["decode", "decode", "http-status"]);
    let image_hits: usize = ["/img/a.jpg", "/img/b.png", "/img/c.jpg"]
        .iter()
        .map(|p| world.hits(p))
        .sum();

    // A rerun finds everything known: nothing new, nothing fetched again.
    let second = json(&provenance(dir.path(), &args, &env).await);
    assert_eq!(second["status"], "completed");
    assert_eq!(
        (
            second["new_images"].as_u64(),
            second["new_sightings"].as_u64()
        ),
        (Some(0), Some(0)),
        "{second}"
    );
    let again = store.status().await.unwrap();
    assert_eq!((again.images, again.sightings, again.failures), (4, 5, 3));
    assert_eq!(again.scans, 2);
    let image_hits_after: usize = ["/img/a.jpg", "/img/b.png", "/img/c.jpg"]
        .iter()
        .map(|p| world.hits(p))
        .sum();
    assert_eq!(
        image_hits_after, image_hits,
        "known image URLs are not fetched again"
    );
    assert!(store
        .failures(10)
        .await
        .unwrap()
        .iter()
        .all(|f| f.attempts == 2));

    // And the suspect is found: the exact copy with both postings, and the resized copy.
    let suspect = dir.path().join("suspect.jpg");
    std::fs::write(&suspect, &photos.a).unwrap();
    let out = provenance(
        dir.path(),
        &[
            "match",
            suspect.to_str().unwrap(),
            "--model-dir",
            &model,
            "--format",
            "json",
        ],
        &env,
    )
    .await;
    let report = json(&out);
    assert_eq!(report["mode"], "clip+hash");
    let matches = report["matches"].as_array().unwrap();
    assert_eq!(matches[0]["kind"], "exact_copy", "{report}");
    assert_eq!(matches[0]["sightings"].as_array().unwrap().len(), 2);
    let small = matches
        .iter()
        .find(|m| m["image"]["sha256"] == hex::encode(provenance::hash::sha256(&photos.a_small)));
    assert_eq!(small.expect("resized copy found")["kind"], "near_duplicate");
    let reports: Vec<_> = std::fs::read_dir(dir.path().join("data/reports"))
        .unwrap()
        .collect();
    assert_eq!(reports.len(), 3, "html, json, md");
    assert!(stderr(&out).contains("report: "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_stores_what_the_world_holds_sqlite() {
    scan_stores_what_the_world_holds(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_stores_what_the_world_holds_postgres() {
    if let Some(url) = common::fresh_postgres_database().await {
        scan_stores_what_the_world_holds(Some(url)).await;
    }
}

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
async fn url_lists_and_hash_only_matching() {
    let dir = tempfile::tempdir().unwrap();
    let photos = photos();
    let world = poster_world(&photos).await;
    // A 70 % crop: no hash sees it; keypoint verification must.
    let a_image = image::load_from_memory(&photos.a).unwrap();
    let (w, h) = (a_image.width() * 7 / 10, a_image.height() * 7 / 10);
    world.put(
        "/img/a-crop.jpg",
        Served::ok("image/jpeg", jpeg(&a_image.crop_imm(20, 30, w, h), 90)),
    );
    let list = dir.path().join("postings.txt");
    std::fs::write(
        &list,
        format!(
            "# image, page\n{} {}\n{}\nnot a url\n{}\n",
            world.url("/img/a.jpg"),
            world.url("/news/festival.html"),
            world.url("/img/a-small.jpg"),
            world.url("/img/a-crop.jpg")
        ),
    )
    .unwrap();
    let args = [
        "scan",
        "--urls",
        list.to_str().unwrap(),
        "--embedder",
        "none",
        "--allow-private-addresses",
        "--format",
        "json",
    ];
    let summary = json(&provenance(dir.path(), &args, &[]).await);
    assert_eq!(
        (
            summary["candidates"].as_u64(),
            summary["new_images"].as_u64()
        ),
        (Some(3), Some(3))
    );
    assert_eq!(summary["embedded"], 0);

    let suspect = dir.path().join("suspect.jpg");
    std::fs::write(&suspect, &photos.a).unwrap();
    let report = json(
        &provenance(
            dir.path(),
            &[
                "match",
                suspect.to_str().unwrap(),
                "--format",
                "json",
                "--no-report",
            ],
            &[],
        )
        .await,
    );
    assert_eq!(report["mode"], "hash-only");
    let kinds: Vec<_> = report["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["exact_copy", "near_duplicate", "near_duplicate"]);
    let crop = &report["matches"][2];
    assert!(crop["verified_inliers"].as_u64().unwrap() >= 12, "{crop}");
    assert!(
        !dir.path().join("data/reports").exists(),
        "--no-report writes nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_reads_a_folder_once() {
    let dir = tempfile::tempdir().unwrap();
    let photos = photos();
    let folder = dir.path().join("pictures");
    std::fs::create_dir_all(folder.join("sub")).unwrap();
    std::fs::write(folder.join("a.jpg"), &photos.a).unwrap();
    std::fs::write(folder.join("sub/a-again.jpg"), &photos.a).unwrap();
    std::fs::write(folder.join("sub/b"), &photos.b).unwrap();
    std::fs::write(folder.join("notes.txt"), b"hello").unwrap();
    std::fs::write(folder.join("broken.jpg"), &photos.c[..1500]).unwrap();
    let model = tiny_model();
    let args = [
        "index",
        folder.to_str().unwrap(),
        "--model-dir",
        &model,
        "--format",
        "json",
    ];
    let first = json(&provenance(dir.path(), &args, &[]).await);
    assert_eq!(first["candidates"], 4);
    assert_eq!(
        (
            first["new_images"].as_u64(),
            first["embedded"].as_u64(),
            first["failed"].as_u64()
        ),
        (Some(2), Some(2), Some(1))
    );
    assert_eq!(first["new_sightings"], 3);
    let second = json(&provenance(dir.path(), &args, &[]).await);
    assert_eq!(
        (
            second["new_images"].as_u64(),
            second["new_sightings"].as_u64(),
            second["skipped"].as_u64()
        ),
        (Some(0), Some(0), Some(3))
    );
    let store = open_store(dir.path(), None).await;
    let a = store
        .image_by_sha256(&provenance::hash::sha256(&photos.a))
        .await
        .unwrap()
        .unwrap();
    let sightings = store.sightings(a).await.unwrap();
    assert_eq!(sightings.len(), 2);
    assert!(sightings
        .iter()
        .all(|s| s.image_url.starts_with("file://") && s.provider.as_deref() == Some("local")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_model_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("pictures");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("a.jpg"), photos().a).unwrap();
    let model = tiny_model();
    let first = json(
        &provenance(
            dir.path(),
            &[
                "index",
                folder.to_str().unwrap(),
                "--model-dir",
                &model,
                "--format",
                "json",
            ],
            &[],
        )
        .await,
    );
    assert_eq!(first["embedded"], 1);
    // The same weights under another name are another model identity.
    let other = dir.path().join("other-model");
    std::fs::create_dir_all(&other).unwrap();
    for file in ["config.json", "model.safetensors"] {
        std::fs::copy(Path::new(&model).join(file), other.join(file)).unwrap();
    }
    std::fs::write(folder.join("b.png"), photos().b).unwrap();
    let out = provenance(
        dir.path(),
        &[
            "index",
            folder.to_str().unwrap(),
            "--model-dir",
            other.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("this store holds vectors of") && err.contains("another store"),
        "{err}"
    );
    let store = open_store(dir.path(), None).await;
    let status = store.status().await.unwrap();
    assert_eq!(
        (status.images, status.scans),
        (1, 1),
        "nothing written by the refused run"
    );
    let suspect = dir.path().join("suspect.jpg");
    std::fs::write(&suspect, photos().a).unwrap();
    let out = provenance(
        dir.path(),
        &[
            "match",
            suspect.to_str().unwrap(),
            "--model-dir",
            other.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("this store holds vectors of"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn match_says_what_is_wrong_with_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let not_image = dir.path().join("notes.txt");
    std::fs::write(&not_image, b"hello").unwrap();
    let empty_store = provenance(
        dir.path(),
        &[
            "match",
            fixture("hash/coffee.jpg").to_str().unwrap(),
            "--embedder",
            "none",
        ],
        &[],
    )
    .await;
    assert_eq!(empty_store.status.code(), Some(1));
    assert!(
        stderr(&empty_store).contains("is empty: run `provenance scan`"),
        "{}",
        stderr(&empty_store)
    );
    let bad = provenance(
        dir.path(),
        &["match", not_image.to_str().unwrap(), "--embedder", "none"],
        &[],
    )
    .await;
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("is not an image provenance can read"),
        "{}",
        stderr(&bad)
    );
    let missing = provenance(
        dir.path(),
        &["match", "nope.jpg", "--embedder", "none"],
        &[],
    )
    .await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("cannot read nope.jpg"),
        "{}",
        stderr(&missing)
    );
    let top0 = provenance(
        dir.path(),
        &["match", not_image.to_str().unwrap(), "--top", "0"],
        &[],
    )
    .await;
    assert_eq!(top0.status.code(), Some(2));
    assert!(stderr(&top0).contains("--top must be at least 1"));
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
