//! Shared test helpers: fresh stores on both backends.
//!
//! PostgreSQL comes from `DATABASE_URL` (set by `scripts/with-postgres.sh`).
//! Each test gets its own fresh database. Without `DATABASE_URL` the Postgres
//! half of a test is skipped with a notice — unless
//! `PROVENANCE_REQUIRE_POSTGRES=1` (set by `scripts/test.sh`, and so in CI),
//! where it fails.
#![allow(dead_code)]

pub mod binary;
pub mod photos;
pub mod serve;
pub mod world;

use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

use provenance::config::StoreLocation;
use provenance::store::{self, Store};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

/// A fresh embedded store in a temporary directory (kept alive with it).
pub async fn sqlite_store() -> (Box<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let location = StoreLocation::Sqlite(dir.path().join("provenance.sqlite3"));
    (
        store::open(&location).await.expect("open sqlite store"),
        dir,
    )
}

/// The admin URL of the test PostgreSQL server, or `None` (skip) when there
/// is none and none is required.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("PROVENANCE_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
            panic!("PROVENANCE_REQUIRE_POSTGRES=1 but DATABASE_URL is not set: run the tests with scripts/test.sh")
        }
        _ => {
            eprintln!("note: DATABASE_URL is not set; skipping the PostgreSQL half of this test (use scripts/test.sh)");
            None
        }
    }
}

/// Creates an empty database on the test server and returns its URL.
pub async fn fresh_postgres_database() -> Option<String> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let admin = postgres_admin_url()?;
    let name = format!(
        "provenance_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        chrono::Utc::now().timestamp_micros()
    );
    let options = PgConnectOptions::from_str(&admin).expect("DATABASE_URL parses");
    let mut conn = options
        .connect()
        .await
        .expect("connect to the test PostgreSQL server");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    conn.close().await.ok();
    let mut url = url::Url::parse(&admin).expect("DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    Some(url.to_string())
}

/// A fresh PostgreSQL store in its own database, or `None` to skip.
pub async fn postgres_store() -> Option<Box<dyn Store>> {
    let url = fresh_postgres_database().await?;
    let location =
        StoreLocation::resolve(Some(&url), std::path::Path::new("/unused")).expect("valid URL");
    Some(store::open(&location).await.expect("open postgres store"))
}

/// Runs one async test body against both backends.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:path) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let (store, _dir) = common::sqlite_store().await;
                $body(store.as_ref()).await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(store) = common::postgres_store().await {
                    $body(store.as_ref()).await;
                }
            }
        }
    };
}
