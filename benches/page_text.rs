//! Full-text search over the words postings were made with
//! (`Store::search_postings`) versus the number of stored postings, on
//! both store backends. Not a test. Run (PostgreSQL is started and thrown
//! away):
//!
//! ```text
//! scripts/with-postgres.sh cargo bench --profile dev --bench page_text -- --sizes 100000,1000000
//! ```
//!
//! Options: `--sizes N,N,..` (100000,1000000) `--backends sqlite,postgres`
//! `--queries Q` (40 per kind) `--limit L` (10, `search --in-pages`'s
//! default `--top`) `--diagnose` (also the store's SQL without its snippet
//! step, the suggested SQL of BENCHMARKS.md, and the plans) `--keep DIR`
//! (keep the SQLite file in DIR and the PostgreSQL database, for a closer
//! look). Without `DATABASE_URL` the PostgreSQL part is skipped.
//!
//! Each size gets a fresh store, opened (and migrated) by the store's own
//! code, then filled in bulk with seeded synthetic postings
//! (`page_text/words.rs`: a Zipf vocabulary of 50,000 forms, stop words,
//! and planted words at 0.01 %, 1 % and 10 % of postings and two-word
//! phrases at 0.1 %) through the real columns (`page_text/fill.rs`), so
//! the FTS5 table and the tsvector + GIN index hold what a store holds.
//! One untimed round of every query first, then `--queries` of each kind
//! through the `Store` trait, snippets included. A Markdown table goes to
//! stdout, progress to stderr.
//!
//! `cargo test --all-targets` runs benches too (without `--bench`): then
//! only a 3,000-posting smoke run, which fails unless every kind of query
//! finds exactly as many postings as it should.

#[path = "page_text/fill.rs"]
mod fill;
#[path = "page_text/words.rs"]
mod words;

use std::path::Path;
use std::time::{Duration, Instant};

use provenance::config::StoreLocation;
use provenance::model::{ImageId, PostingHit, TextQuery};
use provenance::store::Store;
use sqlx::{AssertSqlSafe, Executor, PgPool, Row, SqlitePool};

use words::{Postings, Rng, COMMON, MEDIUM, NOTHING, PHRASES, RARE};

/// Command-line settings.
struct Args {
    sizes: Vec<usize>,
    backends: Vec<String>,
    queries: usize,
    limit: u32,
    diagnose: bool,
    /// Keep the stores: the SQLite file in this folder, the PostgreSQL
    /// database undropped.
    keep: Option<std::path::PathBuf>,
    /// Run under `cargo test`: small, and checked.
    smoke: bool,
}

fn parse_args() -> Args {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let smoke = !raw.iter().any(|a| a == "--bench");
    let mut args = Args {
        sizes: match smoke {
            true => vec![3_000],
            false => vec![100_000, 1_000_000],
        },
        backends: vec!["sqlite".into(), "postgres".into()],
        queries: if smoke { 4 } else { 40 },
        limit: 10,
        diagnose: false,
        keep: None,
        smoke,
    };
    let mut it = raw.into_iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--sizes" => {
                args.sizes = value()
                    .split(',')
                    .map(|x| x.parse().expect("--sizes N,N"))
                    .collect()
            }
            "--backends" => args.backends = value().split(',').map(String::from).collect(),
            "--queries" => args.queries = value().parse().expect("--queries N"),
            "--limit" => args.limit = value().parse().expect("--limit N"),
            "--diagnose" => args.diagnose = true,
            "--keep" => args.keep = Some(value().into()),
            _ => {} // `cargo bench` adds `--bench`.
        }
    }
    args
}

/// Postings `match --text` searches at most (src/lookup/text.rs).
const MATCH_TEXT_LIMIT: u32 = 10_000;
/// Postings `search` asks for by default: `max(4 × top, 50)` pictures ×
/// 20 postings each (src/lookup/text.rs, `--top` 10).
const SEARCH_FUSED_LIMIT: u32 = 1_000;
/// Pictures in a `match --text` report.
const WITHIN: usize = 50;

/// One kind of query: its texts (variants cycled through) and how it is
/// asked.
struct Kind {
    name: String,
    texts: Vec<String>,
    /// Pictures to search within (`match --text`), else all.
    within: bool,
    limit: u32,
}

fn kinds(args: &Args) -> Vec<Kind> {
    let each = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    let plain = |name: &str, texts: Vec<String>, limit: u32| Kind {
        name: name.into(),
        texts,
        within: false,
        limit,
    };
    let l = args.limit;
    vec![
        plain("rare word (0.01 %)", each(&RARE), l),
        plain("medium word (1 %)", each(&MEDIUM), l),
        plain("common word (10 %)", each(&COMMON), l),
        plain(
            "two words: medium AND common (0.1 %)",
            MEDIUM
                .iter()
                .zip(COMMON.iter().cycle())
                .map(|(m, c)| format!("{m} {c}"))
                .collect(),
            l,
        ),
        plain(
            "phrase (0.1 %; its words 0.6 % each)",
            PHRASES
                .iter()
                .map(|[a, b]| format!("\"{a} {b}\""))
                .collect(),
            l,
        ),
        plain("word matching nothing", each(&NOTHING), l),
        Kind {
            name: format!("common word within {WITHIN} pictures (`match --text`)"),
            texts: each(&COMMON),
            within: true,
            limit: MATCH_TEXT_LIMIT,
        },
        plain(
            "medium word, `search` default (fused)",
            each(&MEDIUM),
            SEARCH_FUSED_LIMIT,
        ),
        plain(
            "common word, `search` default (fused)",
            each(&COMMON),
            SEARCH_FUSED_LIMIT,
        ),
    ]
}

/// The `i`th query of a kind: its text, and the pictures it searches
/// within (random, seeded by `i`).
fn query_of(kind: &Kind, i: usize, images: usize) -> (TextQuery, Option<Vec<ImageId>>) {
    let text = &kind.texts[i % kind.texts.len()];
    let query = TextQuery::parse(text).expect("a query with words");
    let within = kind.within.then(|| {
        let mut rng = Rng(0xA11CE + i as u64);
        (0..WITHIN)
            .map(|_| rng.between(1, images) as ImageId)
            .collect()
    });
    (query, within)
}

/// The latencies of one kind.
struct Series {
    latencies: Vec<Duration>,
    rows: usize,
}

impl Series {
    fn percentile(&self, p: f64) -> f64 {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1].as_secs_f64() * 1e3
    }

    fn mean(&self) -> f64 {
        self.latencies
            .iter()
            .map(Duration::as_secs_f64)
            .sum::<f64>()
            * 1e3
            / self.latencies.len() as f64
    }
}

/// The bench's own connection to the store's database, for counting and
/// explaining (never for the timed queries).
enum Raw {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// `SQLITE_SEARCH` of src/store/page_text.rs without its `snippet()`
/// column (a copy: the constant is private to the store).
const SQLITE_NO_SNIPPET: &str = "
    SELECT s.id, s.image_id, s.image_url, s.page_url, s.page_title, s.site, s.provider, s.words,
           -bm25(posting_text, 2.0, 4.0, 4.0, 2.0, 1.5, 1.5, 1.0, 1.0) AS score
    FROM posting_text JOIN sightings s ON s.id = posting_text.rowid
    WHERE posting_text MATCH $1
      AND ($2 IS NULL OR s.image_id IN (SELECT value FROM json_each($2)))
    ORDER BY bm25(posting_text, 2.0, 4.0, 4.0, 2.0, 1.5, 1.5, 1.0, 1.0), s.id
    LIMIT $3";

/// The inner part of `POSTGRES_SEARCH` (src/store/page_text.rs): the best
/// rows by `ts_rank`, without `ts_headline`.
const POSTGRES_NO_HEADLINE: &str = "
    SELECT s.id, s.image_id, s.image_url, s.page_url, s.page_title, s.site, s.provider,
           s.words, ts_rank(s.words_document, q)::float8 AS score
    FROM sightings s, to_tsquery('english', $1) q
    WHERE s.words_document @@ q AND ($2::bigint[] IS NULL OR s.image_id = ANY($2))
    ORDER BY score DESC, s.id
    LIMIT $3";

/// Suggested (SQLite, all postings): rank on the FTS5 table alone, then
/// read the sightings and make snippets of the best `$2` only. Same rows in
/// the same order as the store's query.
const SQLITE_RANK_FIRST: &str = "
    SELECT s.id, s.image_id, s.image_url, s.page_url, s.page_title, s.site, s.provider, s.words,
           t.score, snippet(posting_text, -1, char(2), char(3), '…', 24) AS marked
    FROM (SELECT rowid AS id, -bm25(posting_text, 2.0, 4.0, 4.0, 2.0, 1.5, 1.5, 1.0, 1.0) AS score
          FROM posting_text WHERE posting_text MATCH $1
          ORDER BY score DESC, rowid LIMIT $2) t
    CROSS JOIN sightings s ON s.id = t.id
    CROSS JOIN posting_text ON posting_text.rowid = t.id
    WHERE posting_text MATCH $1
    ORDER BY t.score DESC, s.id";

/// Suggested (SQLite, within pictures): start from the pictures'
/// sightings (the `UNIQUE (image_id, …)` index) and ask FTS5 about each.
const SQLITE_WITHIN_FROM_PICTURES: &str = "
    SELECT s.id, s.image_id, s.image_url, s.page_url, s.page_title, s.site, s.provider, s.words,
           -bm25(posting_text, 2.0, 4.0, 4.0, 2.0, 1.5, 1.5, 1.0, 1.0) AS score,
           snippet(posting_text, -1, char(2), char(3), '…', 24) AS marked
    FROM sightings s CROSS JOIN posting_text ON posting_text.rowid = s.id
    WHERE s.image_id IN (SELECT value FROM json_each($2)) AND posting_text MATCH $1
    ORDER BY score DESC, s.id
    LIMIT $3";

/// Suggested (PostgreSQL, within pictures): the store's query as a
/// statement of its own, without `$2 IS NULL OR`, so that its cached
/// generic plan can start from the pictures' sightings.
const POSTGRES_WITHIN_OWN_STATEMENT: &str = "
    SELECT h.*,
           ts_headline('english',
               concat_ws(' … ', h.page_title, h.words ->> 'caption', h.words ->> 'alt',
                         h.words ->> 'title', h.words ->> 'heading', h.words ->> 'snippet',
                         h.words ->> 'nearby', h.words ->> 'description'),
               to_tsquery('english', $1),
               'StartSel=' || chr(2) || ', StopSel=' || chr(3)
                   || ', MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=\" … \"') AS marked
    FROM (SELECT s.id, s.image_id, s.image_url, s.page_url, s.page_title, s.site, s.provider,
                 s.words, ts_rank(s.words_document, q)::float8 AS score
          FROM sightings s, to_tsquery('english', $1) q
          WHERE s.image_id = ANY($2) AND s.words_document @@ q
          ORDER BY score DESC, s.id
          LIMIT $3) h
    ORDER BY h.score DESC, h.id";

/// Suggested (PostgreSQL, all postings), approximate: rank at most
/// `RANK_AT_MOST` matching postings (the first the bitmap scan reads), so
/// a word in 10 % of a large store costs what one in 1 % does.
const POSTGRES_RANK_AT_MOST: &str = "
    SELECT h.*,
           ts_headline('english',
               concat_ws(' … ', h.page_title, h.words ->> 'caption', h.words ->> 'alt',
                         h.words ->> 'title', h.words ->> 'heading', h.words ->> 'snippet',
                         h.words ->> 'nearby', h.words ->> 'description'),
               to_tsquery('english', $1),
               'StartSel=' || chr(2) || ', StopSel=' || chr(3)
                   || ', MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=\" … \"') AS marked
    FROM (SELECT c.id, c.image_id, c.image_url, c.page_url, c.page_title, c.site, c.provider,
                 c.words, ts_rank(c.words_document, to_tsquery('english', $1))::float8 AS score
          FROM (SELECT * FROM sightings s
                WHERE s.words_document @@ to_tsquery('english', $1) LIMIT $2) c
          ORDER BY score DESC, c.id
          LIMIT $3) h
    ORDER BY h.score DESC, h.id";

/// Postings ranked at most by [`POSTGRES_RANK_AT_MOST`].
const RANK_AT_MOST: i64 = 10_000;

impl Raw {
    /// Postings whose words hold `query`, all of them.
    async fn count(&self, query: &TextQuery) -> i64 {
        match self {
            Raw::Sqlite(pool) => {
                sqlx::query_scalar("SELECT count(*) FROM posting_text WHERE posting_text MATCH $1")
                    .bind(query.to_fts5())
                    .fetch_one(pool)
                    .await
            }
            Raw::Postgres(pool) => sqlx::query_scalar(
                "SELECT count(*) FROM sightings WHERE words_document @@ to_tsquery('english', $1)",
            )
            .bind(query.to_tsquery())
            .fetch_one(pool)
            .await,
        }
        .expect("count")
    }

    /// The search's SQL without the snippet step; returns the rows.
    async fn without_snippet(
        &self,
        query: &TextQuery,
        within: Option<&[ImageId]>,
        limit: u32,
    ) -> usize {
        match self {
            Raw::Sqlite(pool) => sqlx::query(SQLITE_NO_SNIPPET)
                .bind(query.to_fts5())
                .bind(within.map(|ids| serde_json::json!(ids).to_string()))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map(|rows| rows.len()),
            Raw::Postgres(pool) => sqlx::query(POSTGRES_NO_HEADLINE)
                .bind(query.to_tsquery())
                .bind(within.map(<[ImageId]>::to_vec))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map(|rows| rows.len()),
        }
        .expect("search without snippets")
    }

    /// The suggested SQL for this kind of query (see the constants);
    /// returns the rows.
    async fn suggested(
        &self,
        query: &TextQuery,
        within: Option<&[ImageId]>,
        limit: u32,
    ) -> Vec<i64> {
        let limit = i64::from(limit);
        match (self, within) {
            (Raw::Sqlite(pool), None) => sqlx::query(SQLITE_RANK_FIRST)
                .bind(query.to_fts5())
                .bind(limit)
                .fetch_all(pool)
                .await
                .map(|rows| rows.iter().map(|r| r.get::<i64, _>("id")).collect()),
            (Raw::Sqlite(pool), Some(ids)) => sqlx::query(SQLITE_WITHIN_FROM_PICTURES)
                .bind(query.to_fts5())
                .bind(serde_json::json!(ids).to_string())
                .bind(limit)
                .fetch_all(pool)
                .await
                .map(|rows| rows.iter().map(|r| r.get::<i64, _>("id")).collect()),
            (Raw::Postgres(pool), None) => sqlx::query(POSTGRES_RANK_AT_MOST)
                .bind(query.to_tsquery())
                .bind(RANK_AT_MOST)
                .bind(limit)
                .fetch_all(pool)
                .await
                .map(|rows| rows.iter().map(|r| r.get::<i64, _>("id")).collect()),
            (Raw::Postgres(pool), Some(ids)) => sqlx::query(POSTGRES_WITHIN_OWN_STATEMENT)
                .bind(query.to_tsquery())
                .bind(ids.to_vec())
                .bind(limit)
                .fetch_all(pool)
                .await
                .map(|rows| rows.iter().map(|r| r.get::<i64, _>("id")).collect()),
        }
        .expect("suggested search")
    }

    /// The plan of the store's query (PostgreSQL: `EXPLAIN ANALYZE` of the
    /// search with its values written in; SQLite: `EXPLAIN QUERY PLAN`).
    async fn explain(&self, query: &TextQuery, within: Option<&[ImageId]>, limit: u32) -> String {
        match self {
            Raw::Sqlite(pool) => {
                let rows = sqlx::query(AssertSqlSafe(format!(
                    "EXPLAIN QUERY PLAN {SQLITE_NO_SNIPPET}"
                )))
                .bind(query.to_fts5())
                .bind(within.map(|ids| serde_json::json!(ids).to_string()))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .expect("explain");
                rows.iter()
                    .map(|r| r.get::<String, _>("detail"))
                    .collect::<Vec<_>>()
                    .join(" / ")
            }
            Raw::Postgres(pool) => {
                let ids = within.map_or("NULL".to_string(), |ids| {
                    format!(
                        "ARRAY[{}]::bigint[]",
                        ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
                    )
                });
                let sql = POSTGRES_NO_HEADLINE
                    .replace(
                        "$1",
                        &format!("'{}'", query.to_tsquery().replace('\'', "''")),
                    )
                    .replace("$2", &ids)
                    .replace("$3", &limit.to_string());
                let mut conn = pool.acquire().await.expect("connection");
                let rows: Vec<String> =
                    sqlx::query_scalar(AssertSqlSafe(format!("EXPLAIN (ANALYZE, BUFFERS) {sql}")))
                        .fetch_all(&mut *conn)
                        .await
                        .expect("explain");
                rows.join("\n    ")
            }
        }
    }

    /// Size on disk: the store's and its full-text index's, in bytes.
    async fn sizes(&self, path: Option<&Path>) -> (u64, Option<u64>) {
        match self {
            Raw::Sqlite(pool) => {
                let mut total = 0;
                for suffix in ["", "-wal", "-shm"] {
                    let mut name = path.expect("file").as_os_str().to_owned();
                    name.push(suffix);
                    total += std::fs::metadata(name).map_or(0, |m| m.len());
                }
                let fts: Option<i64> = sqlx::query_scalar(
                    "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'posting_text%'",
                )
                .fetch_one(pool)
                .await
                .ok();
                (total, fts.map(|b| b as u64))
            }
            Raw::Postgres(pool) => {
                let row = sqlx::query(
                    "SELECT pg_total_relation_size('sightings') AS total,
                            pg_relation_size('sightings_words_document') AS gin",
                )
                .fetch_one(pool)
                .await
                .expect("sizes");
                (
                    row.get::<i64, _>("total") as u64,
                    Some(row.get::<i64, _>("gin") as u64),
                )
            }
        }
    }
}

/// One store's fill, for the second table.
struct FillRow {
    postings: usize,
    backend: &'static str,
    filled: fill::Filled,
    bytes: u64,
    index_bytes: Option<u64>,
    load: String,
}

/// The 1-, 5- and 15-minute load averages.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn mib(bytes: u64) -> String {
    format!("{:.0}", bytes as f64 / (1 << 20) as f64)
}

/// Times every kind of query on `store`, after one untimed round; checks
/// the answers when smoke testing. Returns the postings matching each
/// kind, and the load average just before the timed queries.
async fn bench_store(
    store: &dyn Store,
    raw: &Raw,
    backend: &str,
    postings: &Postings,
    args: &Args,
) -> (Vec<i64>, String) {
    let kinds = kinds(args);
    let images = postings.images;
    let mut counts = Vec::new();
    for kind in &kinds {
        let mut sum = 0;
        for i in 0..kind.texts.len() {
            let (query, _) = query_of(kind, i, images);
            sum += raw.count(&query).await;
        }
        counts.push(sum);
    }
    eprintln!("page_text: {backend}: warm-up round");
    for kind in &kinds {
        for i in 0..kind.texts.len() {
            let (query, within) = query_of(kind, i, images);
            store
                .search_postings(&query, within.as_deref(), kind.limit)
                .await
                .expect("search");
        }
    }
    let load = load_average();
    eprintln!("page_text: {backend}: load average before the timed queries: {load}");
    let n = postings.count;
    for (kind, &count) in kinds.iter().zip(&counts) {
        let mut series = Series {
            latencies: Vec::new(),
            rows: 0,
        };
        for i in 0..args.queries {
            let (query, within) = query_of(kind, i, images);
            let start = Instant::now();
            let hits = store
                .search_postings(&query, within.as_deref(), kind.limit)
                .await
                .expect("search");
            series.latencies.push(start.elapsed());
            series.rows += hits.len();
            if args.smoke {
                check(kind, i, &query, within.as_deref(), &hits, raw).await;
            }
        }
        let matching = match kind.within {
            true => "–".to_string(),
            false => format!("{:.0}", count as f64 / kind.texts.len() as f64),
        };
        println!(
            "| {n} | {backend} | {} | {} | {matching} | {:.1} | {:.2} | {:.2} | {:.2} |",
            kind.name,
            kind.limit,
            series.rows as f64 / args.queries as f64,
            series.percentile(0.50),
            series.percentile(0.95),
            series.mean(),
        );
    }
    if args.diagnose {
        diagnose(store, raw, backend, postings, args, &kinds).await;
    }
    (counts, load)
}

/// The same queries through the store's SQL without the snippet step and
/// through the suggested SQL, and the plans of the slow ones.
async fn diagnose(
    store: &dyn Store,
    raw: &Raw,
    backend: &str,
    postings: &Postings,
    args: &Args,
    kinds: &[Kind],
) {
    let n = postings.count;
    for suggested in [false, true] {
        for kind in kinds {
            let mut series = Series {
                latencies: Vec::new(),
                rows: 0,
            };
            for i in 0..args.queries {
                let (query, within) = query_of(kind, i, postings.images);
                let start = Instant::now();
                series.rows += match suggested {
                    false => {
                        raw.without_snippet(&query, within.as_deref(), kind.limit)
                            .await
                    }
                    true => {
                        let found = raw.suggested(&query, within.as_deref(), kind.limit).await;
                        if i == 0 {
                            let hits = store
                                .search_postings(&query, within.as_deref(), kind.limit)
                                .await
                                .expect("search");
                            let same = hits.iter().map(|h| h.sighting_id).eq(found.iter().copied());
                            eprintln!(
                                "page_text: {backend}: {}: the suggested SQL finds the store's postings in its order: {same}",
                                kind.name
                            );
                        }
                        found.len()
                    }
                };
                series.latencies.push(start.elapsed());
            }
            let how = match (suggested, raw, kind.within) {
                (false, _, _) => "**without snippets** (store's SQL)",
                (true, Raw::Sqlite(_), false) => "**suggested**: rank on FTS5 alone first",
                (true, Raw::Sqlite(_), true) => "**suggested**: from the pictures' sightings",
                (true, Raw::Postgres(_), false) => {
                    "**suggested**: rank ≤ 10,000 matches (approximate)"
                }
                (true, Raw::Postgres(_), true) => "**suggested**: a statement of its own",
            };
            println!(
                "| {n} | {backend} | {}, {how} | {} | – | {:.1} | {:.2} | {:.2} | {:.2} |",
                kind.name,
                kind.limit,
                series.rows as f64 / args.queries as f64,
                series.percentile(0.50),
                series.percentile(0.95),
                series.mean(),
            );
        }
    }
    for kind in kinds
        .iter()
        .filter(|k| k.within || k.name.starts_with("common") || k.name.starts_with("phrase"))
    {
        let (query, within) = query_of(kind, 0, postings.images);
        eprintln!(
            "page_text: {backend}: plan of {} (limit {}):\n    {}",
            kind.name,
            kind.limit,
            raw.explain(&query, within.as_deref(), kind.limit).await
        );
    }
}

/// Smoke test: a search finds exactly the postings the count finds, up
/// to the limit, and within the pictures asked for.
async fn check(
    kind: &Kind,
    i: usize,
    query: &TextQuery,
    within: Option<&[ImageId]>,
    hits: &[PostingHit],
    raw: &Raw,
) {
    if let Some(ids) = within {
        assert!(
            hits.iter().all(|h| ids.contains(&h.image_id)),
            "{}: a hit outside the pictures asked for",
            kind.name
        );
        return;
    }
    let count = raw.count(query).await;
    assert_eq!(
        hits.len() as i64,
        count.min(i64::from(kind.limit)),
        "{} (query {i}: {}): rows returned against postings matching",
        kind.name,
        query.display()
    );
    for hit in hits {
        assert!(
            hit.snippet.parts.iter().any(|p| p.hit),
            "{}: a snippet without a marked word: {}",
            kind.name,
            hit.snippet.bracketed()
        );
    }
}

async fn run_sqlite(
    n: usize,
    postings: &Postings,
    args: &Args,
    fills: &mut Vec<FillRow>,
) -> Vec<i64> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = match &args.keep {
        Some(keep) => {
            let path = keep.join(format!("page_text-{n}.sqlite3"));
            for suffix in ["", "-wal", "-shm"] {
                let mut name = path.as_os_str().to_owned();
                name.push(suffix);
                let _ = std::fs::remove_file(name);
            }
            path
        }
        None => dir.path().join("page_text.sqlite3"),
    };
    let store = provenance::store::SqliteStore::open(&path)
        .await
        .expect("open sqlite store");
    eprintln!(
        "page_text: sqlite: filling {n} postings into {}",
        path.display()
    );
    let filled = fill::sqlite(&path, postings, "page_text: sqlite").await;
    eprintln!(
        "page_text: sqlite: {n} postings in {:.1} s (making the words {:.1} s)",
        filled.total.as_secs_f64(),
        filled.making.as_secs_f64()
    );
    let pool = SqlitePool::connect_with(
        sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .read_only(true),
    )
    .await
    .expect("open sqlite");
    let raw = Raw::Sqlite(pool);
    let (bytes, index_bytes) = raw.sizes(Some(&path)).await;
    let (counts, load) = bench_store(&store, &raw, "sqlite", postings, args).await;
    fills.push(FillRow {
        postings: n,
        backend: "sqlite",
        filled,
        bytes,
        index_bytes,
        load,
    });
    counts
}

async fn run_postgres(
    admin_url: &str,
    n: usize,
    postings: &Postings,
    args: &Args,
    fills: &mut Vec<FillRow>,
) -> Vec<i64> {
    let name = format!("provenance_page_text_{n}");
    let url = fresh_database(admin_url, &name).await;
    let location = StoreLocation::resolve(Some(&url), Path::new("/unused")).expect("valid URL");
    let store = provenance::store::open(&location)
        .await
        .expect("open postgres store");
    eprintln!("page_text: postgres: filling {n} postings");
    let filled = fill::postgres(&url, postings, "page_text: postgres").await;
    eprintln!(
        "page_text: postgres: {n} postings copied in {:.1} s (making the words {:.1} s), {} {:.1} s",
        filled.total.as_secs_f64(),
        filled.making.as_secs_f64(),
        filled.after.map_or("", |a| a.0),
        filled.after.map_or(0.0, |a| a.1.as_secs_f64()),
    );
    let pool = PgPool::connect(&url).await.expect("connect");
    let raw = Raw::Postgres(pool);
    let (bytes, index_bytes) = raw.sizes(None).await;
    let (counts, load) = bench_store(&*store, &raw, "postgres", postings, args).await;
    fills.push(FillRow {
        postings: n,
        backend: "postgres",
        filled,
        bytes,
        index_bytes,
        load,
    });
    drop(store);
    if let Raw::Postgres(pool) = raw {
        pool.close().await;
    }
    match args.keep {
        Some(_) => eprintln!("page_text: postgres: kept database {name}"),
        None => drop_database(admin_url, &name).await,
    }
    counts
}

fn main() {
    let args = parse_args();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    eprintln!(
        "page_text: sizes {:?}, {} queries per kind, limit {}, load average {}",
        args.sizes,
        args.queries,
        args.limit,
        load_average()
    );
    println!("| postings | backend | query | limit | matching postings | rows returned | p50 ms | p95 ms | mean ms |");
    println!("|---:|---|---|---:|---:|---:|---:|---:|---:|");
    let mut fills = Vec::new();
    for &n in &args.sizes {
        let postings = Postings::new(n, 42);
        let sample = postings.posting(n / 2);
        eprintln!(
            "page_text: {n} postings of {} pictures; posting {}: title {:?}, words {}",
            postings.images, sample.id, sample.page_title, sample.words
        );
        let mut counts = Vec::new();
        if args.backends.iter().any(|b| b == "sqlite") {
            counts.push(runtime.block_on(run_sqlite(n, &postings, &args, &mut fills)));
        }
        if args.backends.iter().any(|b| b == "postgres") {
            match std::env::var("DATABASE_URL") {
                Ok(url) => counts.push(runtime.block_on(run_postgres(
                    &url,
                    n,
                    &postings,
                    &args,
                    &mut fills,
                ))),
                Err(_) => eprintln!(
                    "page_text: DATABASE_URL is not set; skipping PostgreSQL (use scripts/with-postgres.sh)"
                ),
            }
        }
        if let [sqlite, postgres] = &counts[..] {
            if sqlite != postgres {
                eprintln!("page_text: the stores disagree on the postings matching: sqlite {sqlite:?}, postgres {postgres:?}");
                assert!(!args.smoke, "the stores must find the same postings");
            }
        }
        if args.smoke {
            let kinds = kinds(&args);
            for (kind, count) in kinds.iter().zip(&counts[0]) {
                if kind.name.starts_with("word matching nothing") {
                    assert_eq!(*count, 0, "{}", kind.name);
                } else if !kind.name.starts_with("rare") {
                    assert!(*count > 0, "{}: planted words must be found", kind.name);
                }
            }
        }
    }
    println!();
    println!("| postings | backend | fill s | of which making the words s | after the fill | store on disk MiB | full-text index MiB | load average (1, 5, 15 min) before the queries |");
    println!("|---:|---|---:|---:|---|---:|---:|---|");
    for f in &fills {
        println!(
            "| {} | {} | {:.1} | {:.1} | {} | {} | {} | {} |",
            f.postings,
            f.backend,
            f.filled.total.as_secs_f64(),
            f.filled.making.as_secs_f64(),
            f.filled.after.map_or("–".into(), |(what, took)| format!(
                "{what} {:.1} s",
                took.as_secs_f64()
            )),
            mib(f.bytes),
            f.index_bytes.map_or("–".into(), mib),
            f.load,
        );
    }
}

async fn fresh_database(admin_url: &str, name: &str) -> String {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("connect admin");
    admin
        .execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\"")))
        .await
        .expect("drop");
    admin
        .execute(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .await
        .expect("create");
    admin.close().await.ok();
    let mut url = url::Url::parse(admin_url).expect("DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

async fn drop_database(admin_url: &str, name: &str) {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("connect admin");
    admin
        .execute(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .await
        .ok();
    admin.close().await.ok();
}
