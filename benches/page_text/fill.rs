//! Bulk loads of the `page_text` benchmark: N postings written straight
//! into a store its own code has created and migrated, through the real
//! columns — `sightings.words` as JSON and the page title — so the full-text
//! index is what the stores' own definitions make of them: SQLite's
//! triggers fill the FTS5 table `posting_text` row by row, PostgreSQL
//! computes the generated `words_document` tsvector and keeps its GIN index
//! during the `COPY`.

use std::path::Path;
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Connection, Executor, QueryBuilder, Sqlite};

use crate::words::{Posting, Postings};

/// What a load took.
pub struct Filled {
    /// Wall time of the whole load, words made included.
    pub total: Duration,
    /// Of which making the synthetic words.
    pub making: Duration,
    /// Anything done after the rows were in (PostgreSQL: `VACUUM ANALYZE`).
    pub after: Option<(&'static str, Duration)>,
}

/// Microseconds since the epoch of 2026-01-01, the SQLite store's time unit.
const SQLITE_TIME: i64 = 1_767_225_600_000_000;
/// The same instant for PostgreSQL.
const PG_TIME: &str = "2026-01-01 00:00:00+00";

/// Rows per multi-row `INSERT` and per transaction (SQLite).
const ROWS_PER_INSERT: usize = 100;
const ROWS_PER_TRANSACTION: usize = 50_000;

/// A distinct stand-in for the content hash of image `id`.
fn sha_of(id: i64) -> Vec<u8> {
    let mut sha = vec![0u8; 32];
    sha[..8].copy_from_slice(&id.to_le_bytes());
    sha[8] = 0xB7;
    sha
}

/// Fills the migrated SQLite store at `path`.
pub async fn sqlite(path: &Path, postings: &Postings, progress: &str) -> Filled {
    let started = Instant::now();
    let mut making = Duration::ZERO;
    let options = SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Off)
        .foreign_keys(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .expect("open the SQLite file");
    conn.execute("PRAGMA cache_size = -262144")
        .await
        .expect("pragma");

    let mut tx = conn.begin().await.expect("begin");
    for first in (0..postings.images).step_by(ROWS_PER_INSERT * 5) {
        let ids = first as i64 + 1..=(first + ROWS_PER_INSERT * 5).min(postings.images) as i64;
        let mut insert: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO images (id, sha256, width, height, format, byte_size, first_seen_at, last_seen_at) ",
        );
        insert.push_values(ids, |mut row, id| {
            row.push_bind(id)
                .push_bind(sha_of(id))
                .push("640, 480, 'jpeg', 150000")
                .push_bind(SQLITE_TIME)
                .push_bind(SQLITE_TIME);
        });
        insert
            .build()
            .execute(&mut *tx)
            .await
            .expect("insert images");
    }
    tx.commit().await.expect("commit");

    let mut batch: Vec<Posting> = Vec::with_capacity(ROWS_PER_INSERT);
    let mut tx = conn.begin().await.expect("begin");
    for index in 0..postings.count {
        let made = Instant::now();
        batch.push(postings.posting(index));
        making += made.elapsed();
        if batch.len() == ROWS_PER_INSERT || index + 1 == postings.count {
            let mut insert: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO sightings (id, image_id, image_url, page_url, page_title, site, provider,
                                        rank, first_seen_at, last_seen_at, words) ",
            );
            insert.push_values(batch.drain(..), |mut row, p| {
                row.push_bind(p.id)
                    .push_bind(p.image_id)
                    .push_bind(p.image_url)
                    .push_bind(p.page_url)
                    .push_bind(p.page_title)
                    .push_bind(p.site)
                    .push("'bing'")
                    .push_bind((p.id % 50) + 1)
                    .push_bind(SQLITE_TIME)
                    .push_bind(SQLITE_TIME)
                    .push_bind(p.words);
            });
            insert
                .build()
                .execute(&mut *tx)
                .await
                .expect("insert sightings");
        }
        if (index + 1) % ROWS_PER_TRANSACTION == 0 {
            tx.commit().await.expect("commit");
            tx = conn.begin().await.expect("begin");
            if (index + 1) % (ROWS_PER_TRANSACTION * 4) == 0 {
                eprintln!(
                    "{progress}: {} postings in {:.0} s",
                    index + 1,
                    started.elapsed().as_secs_f64()
                );
            }
        }
    }
    tx.commit().await.expect("commit");
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        .await
        .expect("checkpoint");
    conn.close().await.expect("close");
    Filled {
        total: started.elapsed(),
        making,
        after: None,
    }
}

/// Escapes a value for `COPY … FROM STDIN` text format.
fn copy_text(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// Fills the migrated PostgreSQL store at `url` with `COPY`, then
/// `VACUUM ANALYZE`s `sightings` (as autovacuum would soon after a large
/// import: statistics, and the GIN index's pending list merged).
pub async fn postgres(url: &str, postings: &Postings, progress: &str) -> Filled {
    use std::fmt::Write;
    let started = Instant::now();
    let mut making = Duration::ZERO;
    let mut conn = PgConnection::connect(url).await.expect("connect");

    let mut copy = conn
        .copy_in_raw(
            "COPY images (id, sha256, width, height, format, byte_size, first_seen_at, last_seen_at)
             FROM STDIN",
        )
        .await
        .expect("copy images");
    let mut buffer = String::new();
    for id in 1..=postings.images as i64 {
        let _ = writeln!(
            buffer,
            "{id}\t\\\\x{}\t640\t480\tjpeg\t150000\t{PG_TIME}\t{PG_TIME}",
            hex::encode(sha_of(id))
        );
        if buffer.len() > 4 << 20 {
            copy.send(std::mem::take(&mut buffer).into_bytes())
                .await
                .expect("copy data");
        }
    }
    copy.send(buffer.into_bytes()).await.expect("copy data");
    copy.finish().await.expect("copy finish");

    let mut copy = conn
        .copy_in_raw(
            "COPY sightings (id, image_id, image_url, page_url, page_title, site, provider, rank,
                             first_seen_at, last_seen_at, words) FROM STDIN",
        )
        .await
        .expect("copy sightings");
    let mut buffer = String::new();
    for index in 0..postings.count {
        let made = Instant::now();
        let p = postings.posting(index);
        making += made.elapsed();
        let _ = write!(buffer, "{}\t{}\t", p.id, p.image_id);
        for text in [&p.image_url, &p.page_url, &p.page_title, &p.site] {
            copy_text(text, &mut buffer);
            buffer.push('\t');
        }
        let _ = write!(buffer, "bing\t{}\t{PG_TIME}\t{PG_TIME}\t", (p.id % 50) + 1);
        copy_text(&p.words, &mut buffer);
        buffer.push('\n');
        if buffer.len() > 4 << 20 {
            copy.send(std::mem::take(&mut buffer).into_bytes())
                .await
                .expect("copy data");
        }
        if (index + 1) % 200_000 == 0 {
            eprintln!(
                "{progress}: {} postings in {:.0} s",
                index + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    copy.send(buffer.into_bytes()).await.expect("copy data");
    copy.finish().await.expect("copy finish");
    for (table, sequence) in [
        ("images", "images_id_seq"),
        ("sightings", "sightings_id_seq"),
    ] {
        conn.execute(AssertSqlSafe(format!(
            "SELECT setval('{sequence}', (SELECT max(id) FROM {table}))"
        )))
        .await
        .expect("setval");
    }
    let copied = started.elapsed();
    let vacuum = Instant::now();
    conn.execute("VACUUM ANALYZE images").await.expect("vacuum");
    conn.execute("VACUUM ANALYZE sightings")
        .await
        .expect("vacuum");
    let vacuum = vacuum.elapsed();
    conn.close().await.ok();
    Filled {
        total: copied,
        making,
        after: Some(("VACUUM ANALYZE", vacuum)),
    }
}
