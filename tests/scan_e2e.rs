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

/// `match SUSPECT --format json` plus `extra`: the JSON report (the run
/// must succeed).
async fn match_json(
    dir: &Path,
    suspect: &Path,
    extra: &[&str],
    env: &[(&str, String)],
) -> serde_json::Value {
    let mut args = vec!["match", suspect.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    json(&provenance(dir, &args, env).await)
}

/// `scan --urls` of a list whose lines are `lines` (written to
/// `dir/urls.txt`), hashes only, loopback allowed: the JSON summary (the
/// run must succeed).
async fn scan_url_list(dir: &Path, lines: &[String]) -> serde_json::Value {
    let list = dir.join("urls.txt");
    std::fs::write(&list, lines.join("\n") + "\n").unwrap();
    let args = [
        "scan",
        "--urls",
        list.to_str().unwrap(),
        "--allow-private-addresses",
        "--embedder",
        "none",
        "--format",
        "json",
    ];
    json(&provenance(dir, &args, &[]).await)
}

/// The text of the Markdown report in `reports` (the folder must hold one).
fn markdown_report(reports: &Path) -> String {
    let md = std::fs::read_dir(reports)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "md"))
        .expect("a Markdown report");
    std::fs::read_to_string(md).unwrap()
}

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

#[path = "scan_e2e/archive.rs"]
mod archive;
#[path = "scan_e2e/credentials.rs"]
mod credentials;
#[path = "scan_e2e/keyless.rs"]
mod keyless;
#[path = "scan_e2e/local.rs"]
mod local;
#[path = "scan_e2e/pages.rs"]
mod pages;
#[path = "scan_e2e/reverse.rs"]
mod reverse;
#[path = "scan_e2e/watch.rs"]
mod watch;
#[path = "scan_e2e/web.rs"]
mod web;
#[path = "scan_e2e/workers.rs"]
mod workers;
