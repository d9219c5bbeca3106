//! Watching over time on loopback: a watch of five postings, then the web
//! changes between runs — a page gone (404), a picture replaced by other
//! bytes, a page showing one more picture, a host that fails, a path
//! robots.txt closes — and `changes` lists exactly those; a failing host
//! is gone only after `--gone-after` runs; a gone posting that is back is
//! new again. Both stores.

use super::*;
use common::binary::stdout;
use std::sync::Arc;

fn page(img: &str) -> Served {
    Served::ok(
        "text/html",
        format!(
            r#"<html><title>p</title><body><img src="{img}" width="400" height="300"></body></html>"#
        ),
    )
}

/// `watch run --all` with fast fetches: the JSON of its one run.
async fn run_all(dir: &Path, env: &[(&str, String)], extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "watch",
        "run",
        "--all",
        "--allow-private-addresses",
        "--embedder",
        "none",
        "--retries",
        "0",
        "--timeout",
        "5",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = json(&provenance(dir, &args, env).await);
    out["runs"][0].clone()
}

/// `changes --format json`: (new, gone, changed) page URLs.
async fn changed_pages(
    dir: &Path,
    env: &[(&str, String)],
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let all = json(&provenance(dir, &["changes", "--format", "json"], env).await);
    let pages = |kind: &str| -> Vec<String> {
        let mut list: Vec<String> = all[kind]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                c["page_url"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect();
        list.sort();
        list
    };
    (pages("new"), pages("gone"), pages("changed"))
}

async fn a_watch_finds_what_changed(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let photos = photos();
    let world = World::start().await;
    let env: Vec<(&str, String)> = database_url
        .iter()
        .map(|url| ("DATABASE_URL", url.clone()))
        .collect();
    let robots = |closed: bool| {
        let rules = if closed {
            "User-agent: *\nDisallow: /private/\n"
        } else {
            "User-agent: *\nAllow: /\n"
        };
        Served::ok("text/plain", rules)
    };
    world.put("/robots.txt", robots(false));
    world.put("/img/a.jpg", Served::ok("image/jpeg", photos.a.clone()));
    world.put("/img/b.png", Served::ok("image/png", photos.b.clone()));
    world.put("/img/c.jpg", Served::ok("image/jpeg", photos.c.clone()));
    world.put("/img/d.png", Served::ok("image/png", photos.b.clone()));
    for (path, img) in [
        ("/p1", "/img/a.jpg"),
        ("/p2", "/img/b.png"),
        ("/p3", "/img/c.jpg"),
        ("/p4", "/img/a.jpg"),
        ("/private/p5", "/img/b.png"),
    ] {
        world.put(path, page(img));
    }
    let list = dir.path().join("urls.txt");
    let lines: Vec<String> = [
        ("/img/a.jpg", "/p1"),
        ("/img/b.png", "/p2"),
        ("/img/c.jpg", "/p3"),
        ("/img/a.jpg", "/p4"),
        ("/img/b.png", "/private/p5"),
    ]
    .iter()
    .map(|(img, page)| format!("{} {}", world.url(img), world.url(page)))
    .collect();
    std::fs::write(&list, lines.join("\n") + "\n").unwrap();

    let add = [
        "watch",
        "add",
        "--urls",
        list.to_str().unwrap(),
        "--follow-pages",
        "--every",
        "1d",
        "--format",
        "json",
    ];
    let added = json(&provenance(dir.path(), &add, &env).await);
    let id = added["watch"]["id"].as_i64().unwrap();
    let bad = provenance(dir.path(), &["watch", "add", "x", "--every", "10s"], &env).await;
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));

    // First run: every posting is new, and there.
    let first = json(
        &provenance(
            dir.path(),
            &[
                "watch",
                "run",
                "--allow-private-addresses",
                "--embedder",
                "none",
                "--format",
                "json",
            ],
            &env,
        )
        .await,
    );
    let run = &first["runs"][0];
    assert_eq!(
        (run["watch_id"].as_i64(), run["new"].as_u64()),
        (Some(id), Some(5)),
        "{first}"
    );
    assert_eq!(
        (run["there"].as_u64(), run["gone"].as_u64()),
        (Some(5), Some(0)),
        "{first}"
    );
    let again = provenance(
        dir.path(),
        &[
            "watch",
            "run",
            "--allow-private-addresses",
            "--embedder",
            "none",
        ],
        &env,
    )
    .await;
    assert!(
        stdout(&again).contains("No watch is due"),
        "{}",
        stdout(&again)
    );

    // The web changes.
    world.put("/p1", Served::status(404));
    world.put(
        "/img/c.jpg",
        Served::ok("image/jpeg", photos.a_small.clone()),
    );
    world.put("/p2", Served::ok("text/html", r#"<img src="/img/b.png" width="400" height="300"><img src="/img/d.png" width="400" height="300">"#));
    world.put("/p4", Served::status(503));
    world.put("/robots.txt", robots(true));
    let second = run_all(dir.path(), &env, &["--gone-after", "2"]).await;
    assert_eq!(second["new"], 1, "d.png on p2: {second}");
    assert_eq!(second["gone"], 1, "p1: {second}");
    assert_eq!(second["changed"], 1, "c.jpg: {second}");
    assert_eq!(second["failed"], 1, "p4 only failed once: {second}");
    assert_eq!(second["skipped"], 1, "robots.txt closes p5: {second}");
    let (new, gone, changed) = changed_pages(dir.path(), &env).await;
    assert_eq!(new, ["p1", "p2", "p2", "p3", "p4", "p5"]);
    assert_eq!(
        (gone, changed),
        (vec!["p1".to_string()], vec!["p3".to_string()])
    );

    // The match report says which postings are gone.
    let suspect = dir.path().join("suspect.jpg");
    std::fs::write(&suspect, &photos.a).unwrap();
    let report = match_json(dir.path(), &suspect, &["--no-report"], &env).await;
    let sightings = report["matches"][0]["sightings"].as_array().unwrap();
    let on = |page: &str| {
        sightings
            .iter()
            .find(|s| s["page_url"].as_str().unwrap().ends_with(page))
            .unwrap()
            .clone()
    };
    assert!(on("/p1")["gone_at"].is_string(), "{report}");
    assert!(on("/p4")["gone_at"].is_null() && on("/p4")["checked_at"].is_string());

    // Still failing on the next run: now it is gone; the gone are not
    // recorded twice.
    let third = run_all(dir.path(), &env, &["--gone-after", "2"]).await;
    assert_eq!(
        (third["gone"].as_u64(), third["changed"].as_u64()),
        (Some(1), Some(0)),
        "{third}"
    );
    let all = json(&provenance(dir.path(), &["changes", "--format", "json"], &env).await);
    let p4 = all["gone"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["page_url"].as_str().unwrap().ends_with("/p4"))
        .unwrap();
    assert!(
        p4["detail"]
            .as_str()
            .unwrap()
            .contains("no answer on 2 checks in a row"),
        "{p4}"
    );

    // A page that shows the picture again: the posting is back, new again.
    world.put("/p1", page("/img/a.jpg"));
    let fourth = run_all(dir.path(), &env, &[]).await;
    assert_eq!(
        (fourth["back"].as_u64(), fourth["gone"].as_u64()),
        (Some(1), Some(0)),
        "{fourth}"
    );
    let since = json(
        &provenance(
            dir.path(),
            &[
                "changes",
                "--since",
                "1h",
                "--watch",
                &id.to_string(),
                "--format",
                "json",
            ],
            &env,
        )
        .await,
    );
    assert!(
        since["new"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["detail"] == "there again after it was gone"),
        "{since}"
    );
    let human = stdout(&provenance(dir.path(), &["changes"], &env).await);
    assert!(
        human.contains("Gone (2):") && human.contains("Picture replaced (1):"),
        "{human}"
    );

    // Removing the watch keeps what it found.
    let listed = json(&provenance(dir.path(), &["watch", "list", "--format", "json"], &env).await);
    assert_eq!(listed["watches"][0]["postings"], 6);
    let removed = provenance(dir.path(), &["watch", "remove", &id.to_string()], &env).await;
    assert!(removed.status.success(), "{}", stderr(&removed));
    let gone_again = provenance(dir.path(), &["watch", "remove", &id.to_string()], &env).await;
    assert_eq!(gone_again.status.code(), Some(2));
    let kept = json(&provenance(dir.path(), &["changes", "--format", "json"], &env).await);
    assert_eq!(kept["gone"].as_array().unwrap().len(), 2);
    assert!(kept["gone"][0]["watch_id"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_finds_what_changed_sqlite() {
    a_watch_finds_what_changed(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_finds_what_changed_postgres() {
    if let Some(url) = common::fresh_postgres_database().await {
        a_watch_finds_what_changed(Some(url)).await;
    }
}

/// A webhook receiver on loopback that answers 503 while `down`, and
/// keeps every body it takes.
struct Receiver {
    down: Arc<std::sync::atomic::AtomicBool>,
    bodies: Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
    url: String,
}

async fn receiver() -> Receiver {
    use std::sync::atomic::{AtomicBool, Ordering};
    let down = Arc::new(AtomicBool::new(true));
    let bodies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (d, b) = (down.clone(), bodies.clone());
    let router = axum::Router::new().route(
        "/hooks/SECRET-TOKEN",
        axum::routing::post(move |body: axum::Json<serde_json::Value>| {
            let (d, b) = (d.clone(), b.clone());
            async move {
                if d.load(Ordering::SeqCst) {
                    return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                }
                b.lock().unwrap().push(body.0);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let addr = common::serve::serve(router).await;
    Receiver {
        down,
        bodies,
        url: format!("http://{addr}/hooks/SECRET-TOKEN"),
    }
}

async fn a_webhook_down_then_up_gets_each_change_once(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let photos = photos();
    let world = World::start().await;
    world.put(
        "/robots.txt",
        Served::ok("text/plain", "User-agent: *\nAllow: /\n"),
    );
    world.put("/img/a.jpg", Served::ok("image/jpeg", photos.a.clone()));
    world.put("/p1", page("/img/a.jpg"));
    let list = dir.path().join("urls.txt");
    std::fs::write(
        &list,
        format!("{} {}\n", world.url("/img/a.jpg"), world.url("/p1")),
    )
    .unwrap();
    let hook = receiver().await;
    let mut env: Vec<(&str, String)> = vec![("PROVENANCE_WEBHOOK_URL", hook.url.clone())];
    env.extend(database_url.iter().map(|url| ("DATABASE_URL", url.clone())));
    let add = ["watch", "add", "--urls", list.to_str().unwrap()];
    assert!(provenance(dir.path(), &add, &env).await.status.success());
    let run = [
        "watch",
        "run",
        "--all",
        "--allow-private-addresses",
        "--embedder",
        "none",
    ];

    let down = provenance(dir.path(), &run, &env).await;
    assert_eq!(
        down.status.code(),
        Some(1),
        "a webhook that fails is a failure"
    );
    let said = stderr(&down);
    assert!(
        said.contains("did not take the changes") && said.contains("next run"),
        "{said}"
    );
    assert!(
        !said.contains("SECRET-TOKEN"),
        "the webhook's path is never shown: {said}"
    );

    hook.down.store(false, std::sync::atomic::Ordering::SeqCst);
    let up = provenance(dir.path(), &run, &env).await;
    assert!(up.status.success(), "{}", stderr(&up));
    world.put("/p1", Served::status(410));
    assert!(provenance(dir.path(), &run, &env).await.status.success());
    assert!(provenance(dir.path(), &run, &env).await.status.success());

    let bodies = hook.bodies.lock().unwrap().clone();
    let ids: Vec<i64> = bodies
        .iter()
        .flat_map(|b| {
            ["new", "gone", "changed"].map(|k| b[k].as_array().cloned().unwrap_or_default())
        })
        .flatten()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    let all = json(&provenance(dir.path(), &["changes", "--format", "json"], &env).await);
    let mut stored: Vec<i64> = ["new", "gone"]
        .iter()
        .flat_map(|k| {
            all[*k]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_i64().unwrap())
        })
        .collect();
    stored.sort();
    let mut received = ids.clone();
    received.sort();
    assert_eq!(received, stored, "each change once: {bodies:?}");
    assert_eq!(
        bodies.len(),
        2,
        "the kept new one, then the gone one: {bodies:?}"
    );
    assert!(all["gone"][0]["delivered_at"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_down_then_up_gets_each_change_once_sqlite() {
    a_webhook_down_then_up_gets_each_change_once(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_down_then_up_gets_each_change_once_postgres() {
    if let Some(url) = common::fresh_postgres_database().await {
        a_webhook_down_then_up_gets_each_change_once(Some(url)).await;
    }
}
