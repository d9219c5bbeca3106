//! Secrets never leak: with every key variable set to a recognisable fake
//! value (and a password in `DATABASE_URL`), scans that succeed, fail with
//! 401 and fail with 5xx after retries run at `-vvv`; then `match` writes its
//! reports and `db status` / `db failures` run. No key may appear in any
//! stdout or stderr, in any file of the data directory (reports, the SQLite
//! store), or in any row of any PostgreSQL table.

mod common;
mod hostile;

use std::path::Path;
use std::process::Output;

use common::world::{Served, World};
use hostile::images;
use sqlx::{Connection, Row};

const SERPAPI_KEY: &str = "FAKEKEY-serpapi-7f3a9c1e5b";
const BRAVE_KEY: &str = "FAKEKEY-brave-2d8e4f6a0c";
const SERPER_KEY: &str = "FAKEKEY-serper-9b1d3f5e7a";
const DB_PASSWORD: &str = "FAKEPW-postgres-4c6e8a0b2d";

/// Substrings that must appear nowhere (the distinctive part of each key).
const NEEDLES: [&str; 4] = ["7f3a9c1e5b", "2d8e4f6a0c", "9b1d3f5e7a", "4c6e8a0b2d"];

fn assert_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for needle in NEEDLES {
        assert!(!text.contains(needle), "{what} leaks a secret ({needle})");
    }
}

fn assert_output_clean(what: &str, out: &Output) {
    assert_clean(&format!("{what} stdout"), &out.stdout);
    assert_clean(&format!("{what} stderr"), &out.stderr);
}

fn assert_files_clean(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            assert_files_clean(&path);
        } else {
            assert_clean(&path.display().to_string(), &std::fs::read(&path).unwrap());
        }
    }
}

/// A world that plays SerpApi (good answer), Brave (401) and Serper (503).
async fn keyed_world() -> World {
    let world = World::start().await;
    world.put(
        "/img/a.jpg",
        Served::ok("image/jpeg", images::jpeg(40, 40, 41)),
    );
    world.put(
        "/page.html",
        Served::ok(
            "text/html",
            "<title>Page</title><img src=\"/img/b.jpg\" width=300 height=300>",
        ),
    );
    world.put(
        "/img/b.jpg",
        Served::ok("image/jpeg", images::jpeg(40, 40, 42)),
    );
    let serpapi = serde_json::json!({
        "search_metadata": {"status": "Success"},
        "images_results": [
            {"position": 1, "original": world.url("/img/a.jpg"), "link": world.url("/page.html"), "title": "A", "source": "loopback"},
            {"position": 2, "original": world.url("/img/gone.jpg"), "link": world.url("/page.html"), "title": "Gone"}
        ]
    });
    world.put(
        "/search.json",
        Served::ok("application/json", serpapi.to_string()),
    );
    let refused = serde_json::json!({"error": "invalid subscription token"}).to_string();
    world.put(
        "/res/v1/images/search",
        Served {
            status: 401,
            ..Served::ok("application/json", refused)
        },
    );
    world.put("/images", Served::status(503));
    world
}

fn keyed_env(world: &World, database_url: Option<&str>) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("SERPAPI_API_KEY", SERPAPI_KEY.to_string()),
        ("BRAVE_API_KEY", BRAVE_KEY.to_string()),
        ("SERPER_API_KEY", SERPER_KEY.to_string()),
        ("PROVENANCE_SERPAPI_URL", world.url("/")),
        ("PROVENANCE_BRAVE_URL", world.url("/")),
        ("PROVENANCE_SERPER_URL", world.url("/")),
        ("SEARXNG_URL", world.url("/")),
    ];
    env.extend(hostile::store_env(database_url));
    env
}

async fn no_key_leaks(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let world = keyed_world().await;
    let env = keyed_env(&world, database_url.as_deref());
    for provider in ["serpapi", "brave", "serper"] {
        let out = hostile::run(
            dir.path(),
            &[
                "-vvv",
                "scan",
                "poster",
                "--provider",
                provider,
                "--follow-pages",
                "--allow-private-addresses",
                "--embedder",
                "none",
                "--search-retries",
                "1",
                "--retries",
                "0",
                "--format",
                "json",
            ],
            &env,
        )
        .await;
        assert_output_clean(provider, &out);
        let expected_ok = provider == "serpapi";
        assert_eq!(
            out.status.success(),
            expected_ok,
            "{provider}: {}",
            hostile::stderr(&out)
        );
        assert!(
            hostile::stderr(&out).contains("TRACE") || hostile::stderr(&out).contains("DEBUG"),
            "-vvv logs in detail"
        );
    }
    // Each provider was really asked (with its key), Serper twice (a retry).
    assert!(world.hits("/search.json") >= 1);
    assert!(world.hits("/res/v1/images/search") >= 1);
    assert!(world.hits("/images") >= 2);
    let suspect = dir.path().join("suspect.jpg");
    std::fs::write(&suspect, images::jpeg(40, 40, 41)).unwrap();
    let suspect = suspect.display().to_string();
    for args in [
        vec!["-vvv", "match", &suspect, "--format", "json"],
        vec!["-vvv", "match", &suspect],
        vec!["-vvv", "db", "status", "--format", "json"],
        vec!["-vvv", "db", "failures"],
    ] {
        let out = hostile::run(dir.path(), &args, &env).await;
        assert!(out.status.success(), "{args:?}: {}", hostile::stderr(&out));
        assert_output_clean(&format!("{args:?}"), &out);
    }
    assert!(
        dir.path().join("data/reports").exists(),
        "reports were written"
    );
    assert_files_clean(dir.path());
    if let Some(url) = database_url {
        assert_tables_clean(&url).await;
    }
}

/// Every row of every table, as text.
async fn assert_tables_clean(url: &str) {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
    .iter()
    .map(|row| row.get(0))
    .collect();
    assert!(tables.len() >= 4, "{tables:?}");
    for table in tables {
        let sql = format!("SELECT t::text FROM \"{table}\" t");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut conn)
            .await
            .unwrap();
        for row in rows {
            let text: String = row.get(0);
            assert_clean(&format!("table {table}"), text.as_bytes());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_appears_in_output_reports_or_store_sqlite() {
    no_key_leaks(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_or_password_appears_in_output_reports_or_store_postgres() {
    let Some(url) = common::fresh_postgres_database().await else {
        return;
    };
    // Trust authentication accepts any password: the URL carries one that
    // must be redacted wherever the URL is shown.
    let mut with_password = url::Url::parse(&url).unwrap();
    with_password.set_password(Some(DB_PASSWORD)).unwrap();
    no_key_leaks(Some(with_password.to_string())).await;
}

/// Regression: a password given as a `password=` query parameter of
/// `DATABASE_URL` (a form sqlx documents) was printed in errors at default
/// verbosity, in `db status` (text and JSON), in `db migrate` and in `-vvv`
/// logs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_in_the_database_url_query_is_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let commands: [&[&str]; 4] = [
        &["db", "migrate"],
        &["db", "status"],
        &["db", "status", "--format", "json"],
        &["-vvv", "db", "status"],
    ];
    // A server that is not there: the error says so, without the password.
    let unreachable = format!("postgres://alice@127.0.0.1:1/prov?password={DB_PASSWORD}");
    for args in commands {
        let out = hostile::run(dir.path(), args, &[("DATABASE_URL", unreachable.clone())]).await;
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            hostile::stderr(&out)
        );
        assert!(hostile::stderr(&out).contains("cannot connect"), "{args:?}");
        assert_output_clean(&format!("{args:?} (unreachable)"), &out);
    }
    // A server that is there (trust authentication ignores the password):
    // the location shown is redacted.
    let Some(url) = common::fresh_postgres_database().await else {
        return;
    };
    let with_password = format!("{url}?password={DB_PASSWORD}");
    for args in commands {
        let out = hostile::run(dir.path(), args, &[("DATABASE_URL", with_password.clone())]).await;
        assert!(out.status.success(), "{args:?}: {}", hostile::stderr(&out));
        assert_output_clean(&format!("{args:?}"), &out);
    }
    let status = hostile::run(
        dir.path(),
        &["db", "status", "--format", "json"],
        &[("DATABASE_URL", with_password)],
    )
    .await;
    let location = hostile::json(&status)["location"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(location.contains("password=***"), "{location}");
}
