//! Other pgvector index forms over the same `embedding` column, built one at
//! a time on the loaded table (each dropped before the next): `halfvec` (an
//! HNSW expression index on `embedding::halfvec(D)`, half the bytes per
//! value) and binary quantisation (an HNSW index on
//! `binary_quantize(embedding)::bit(D)` with Hamming distance, whose nearest
//! N are re-ranked by the full-precision cosine distance — pgvector's
//! documented pattern). The `vector` form is the store's own index, measured
//! in `pg.rs`.

use std::time::Instant;

use pgvector::Vector;
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Executor, Row};

use crate::{recall, report, Args, QuerySet, Series};

/// How the vectors are indexed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Storage {
    /// The store's index: `vector`, 4 bytes a value.
    Vector,
    /// `halfvec`: 2 bytes a value.
    Halfvec,
    /// `bit`: 1 bit a value, then a re-rank by the full vectors.
    Binary,
}

impl Storage {
    /// Parses `vector`, `halfvec` or `binary`.
    pub fn parse(name: &str) -> Self {
        match name {
            "vector" => Storage::Vector,
            "halfvec" => Storage::Halfvec,
            "binary" => Storage::Binary,
            _ => panic!("--storage takes vector, halfvec or binary, not {name:?}"),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Storage::Vector => "postgres vector",
            Storage::Halfvec => "postgres halfvec",
            Storage::Binary => "postgres binary",
        }
    }

    fn index_name(self) -> &'static str {
        match self {
            Storage::Vector => "bench_vector_hnsw",
            Storage::Halfvec => "bench_halfvec_hnsw",
            Storage::Binary => "bench_binary_hnsw",
        }
    }

    fn create_index_sql(self, dim: usize) -> String {
        let expression = match self {
            Storage::Vector => format!("embedding::vector({dim})) vector_cosine_ops"),
            Storage::Halfvec => format!("embedding::halfvec({dim})) halfvec_cosine_ops"),
            Storage::Binary => format!("binary_quantize(embedding)::bit({dim})) bit_hamming_ops"),
        };
        format!(
            "CREATE INDEX {} ON images USING hnsw (({expression})",
            self.index_name()
        )
    }

    /// The k-NN query: `$1` the query vector, `$2` k, `$3` (binary only)
    /// how many Hamming-nearest rows to re-rank.
    fn knn_sql(self, dim: usize) -> String {
        match self {
            Storage::Vector => format!(
                "SELECT id FROM images WHERE embedding IS NOT NULL
                 ORDER BY embedding::vector({dim}) <=> $1 LIMIT $2"
            ),
            Storage::Halfvec => format!(
                "SELECT id FROM images WHERE embedding IS NOT NULL
                 ORDER BY embedding::halfvec({dim}) <=> $1::halfvec({dim}) LIMIT $2"
            ),
            Storage::Binary => format!(
                "SELECT id FROM (
                     SELECT id, embedding FROM images WHERE embedding IS NOT NULL
                     ORDER BY binary_quantize(embedding)::bit({dim}) <~> binary_quantize($1)::bit({dim})
                     LIMIT $3
                 ) AS candidates
                 ORDER BY embedding::vector({dim}) <=> $1 LIMIT $2"
            ),
        }
    }
}

/// What building an index cost.
pub struct Built {
    pub seconds: f64,
    pub index_bytes: i64,
}

/// Runs `create` (an HNSW build), then ANALYZE; the time and the size of
/// the indexes named.
pub async fn build_timed(conn: &mut PgConnection, create: &[String], names: &[String]) -> Built {
    let started = Instant::now();
    for sql in create {
        conn.execute(AssertSqlSafe(sql.clone()))
            .await
            .expect("build index");
    }
    let seconds = started.elapsed().as_secs_f64();
    conn.execute("ANALYZE").await.expect("analyze");
    let mut index_bytes = 0;
    for name in names {
        let size: i64 = sqlx::query("SELECT pg_relation_size($1::regclass)")
            .bind(name)
            .fetch_one(&mut *conn)
            .await
            .expect("index size")
            .get(0);
        index_bytes += size;
    }
    Built {
        seconds,
        index_bytes,
    }
}

/// Builds `storage`'s index on the loaded table, sweeps `hnsw.ef_search`
/// (and, for binary, the re-rank count), then drops the index.
pub async fn bench_form(
    conn: &mut PgConnection,
    storage: Storage,
    n: usize,
    sets: &[QuerySet],
    args: &Args,
) {
    let create = storage.create_index_sql(args.dim);
    eprintln!("nearest: {}: {create}", storage.label());
    let built = build_timed(conn, &[create], &[storage.index_name().to_string()]).await;
    let mib = built.index_bytes >> 20;
    let per_vector = built.index_bytes as f64 / n as f64;
    eprintln!(
        "nearest: {}: HNSW build {:.1} s; index {mib} MiB ({per_vector:.0} B a vector)",
        storage.label(),
        built.seconds
    );
    println!(
        "| {n} | {} | HNSW build: {:.1} s; index {mib} MiB ({per_vector:.0} B a vector) | – | – | – | – | – |",
        storage.label(),
        built.seconds
    );
    // The raw query on a small table would get a sequential scan: force
    // the index, as `Store::nearest` does.
    conn.execute("SET enable_seqscan = off").await.expect("set");
    let settings = sweep(storage, args);
    explain(conn, storage, &sets[0], settings[0], args).await;
    // One untimed round at the widest setting, as for the store's index.
    let widest = *settings.last().expect("at least one setting");
    for set in sets {
        run_knn(conn, storage, set, widest, args).await;
    }
    for &(ef, rerank) in &settings {
        for set in sets {
            let series = run_knn(conn, storage, set, (ef, rerank), args).await;
            let method = match storage {
                Storage::Binary => format!("HNSW bit, ef_search {ef}, re-rank {rerank}"),
                _ => format!("HNSW, ef_search {ef}"),
            };
            report(n, storage.label(), &method, set, &series);
        }
    }
    conn.execute("RESET enable_seqscan").await.expect("reset");
    conn.execute("RESET hnsw.ef_search").await.expect("reset");
    conn.execute(AssertSqlSafe(format!(
        "DROP INDEX {}",
        storage.index_name()
    )))
    .await
    .expect("drop index");
}

/// The (ef_search, re-rank count) pairs to measure. Binary: every re-rank
/// count N (a multiple of k) at `ef_search` = N and at each larger swept
/// value (an HNSW scan returns at most `ef_search` rows, so fewer than N
/// would leave the inner LIMIT short).
fn sweep(storage: Storage, args: &Args) -> Vec<(usize, usize)> {
    if storage != Storage::Binary {
        return args.ef.iter().map(|&ef| (ef, 0)).collect();
    }
    let mut pairs = Vec::new();
    for &times in &args.rerank {
        let rerank = times * args.k;
        let mut efs: Vec<usize> = args.ef.iter().map(|&ef| ef.max(rerank)).collect();
        efs.sort_unstable();
        efs.dedup();
        pairs.extend(efs.into_iter().map(|ef| (ef, rerank)));
    }
    pairs
}

async fn explain(
    conn: &mut PgConnection,
    storage: Storage,
    set: &QuerySet,
    (ef, rerank): (usize, usize),
    args: &Args,
) {
    set_ef_search(conn, ef).await;
    let sql = format!("EXPLAIN {}", storage.knn_sql(args.dim));
    let mut query = sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(Vector::from(set.vectors[0].clone()))
        .bind(args.k as i64);
    if storage == Storage::Binary {
        query = query.bind(rerank as i64);
    }
    let plan: Vec<String> = query.fetch_all(&mut *conn).await.expect("explain");
    // Without the query vector's literal, which would fill the screen.
    let short: Vec<String> = plan
        .iter()
        .map(|line| {
            line.split(" '")
                .next()
                .unwrap_or(line)
                .trim_end()
                .to_string()
        })
        .collect();
    eprintln!("nearest: {}: plan: {}", storage.label(), short.join(" / "));
}

async fn set_ef_search(conn: &mut PgConnection, ef: usize) {
    conn.execute(AssertSqlSafe(format!("SET hnsw.ef_search = {ef}")))
        .await
        .expect("set ef_search");
}

/// Every query of `set` at one setting: latencies and recall.
async fn run_knn(
    conn: &mut PgConnection,
    storage: Storage,
    set: &QuerySet,
    (ef, rerank): (usize, usize),
    args: &Args,
) -> Series {
    set_ef_search(conn, ef).await;
    let sql = storage.knn_sql(args.dim);
    let mut latencies = Vec::new();
    let mut found = Vec::new();
    for q in &set.vectors {
        let start = Instant::now();
        let mut query = sqlx::query_scalar(AssertSqlSafe(sql.clone()))
            .bind(Vector::from(q.clone()))
            .bind(args.k as i64);
        if storage == Storage::Binary {
            query = query.bind(rerank as i64);
        }
        let rows: Vec<i64> = query.fetch_all(&mut *conn).await.expect("knn");
        latencies.push(start.elapsed());
        found.push(rows);
    }
    Series {
        latencies,
        recall: Some(recall(&found, &set.exact)),
        cpu_ms: None,
    }
}
