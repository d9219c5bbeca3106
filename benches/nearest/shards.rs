//! Vectors split over several nodes, as Citus would split them: here
//! `--shards S` tables on one server stand in for S nodes (the wheel's
//! PostgreSQL has no postgres_fdw). Row `id` lives in shard `id % S`; each
//! shard has its own HNSW index and answers its own top k'; the caller
//! merges the answers by distance and keeps k. The merged top k is the
//! global top k only if every shard returns at least k rows (k' ≥ k): a
//! shard may hold all k of the global nearest. With k' < k recall drops,
//! silently — measured here for each `--shard-k`.
//!
//! The same split is also searched exactly in memory (a full f32 scan per
//! shard), which isolates the loss from k' < k from HNSW's own misses; under
//! `cargo test` that exact merge is checked against the unsplit exact top k.

use std::cmp::Ordering;
use std::time::{Duration, Instant};

use pgvector::Vector;
use provenance::store::sqlite::index::flat::dot;
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Executor};

use crate::data::{id_of, Vectors};
use crate::forms::build_timed;
use crate::{recall, report, Args, QuerySet, Series};

/// A row's cosine similarity to the query, and its id.
pub type Scored = (f32, i64);

/// The shard that holds row `id`.
pub fn shard_of(id: i64, shards: usize) -> usize {
    id.rem_euclid(shards as i64) as usize
}

/// Best first: higher similarity, then lower id.
fn best_first(a: &Scored, b: &Scored) -> Ordering {
    b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
}

/// What the coordinator does: the best `k` of every shard's answers.
pub fn merge(per_shard: &[Vec<Scored>], k: usize) -> Vec<Scored> {
    let mut all: Vec<Scored> = per_shard.iter().flatten().copied().collect();
    all.sort_by(best_first);
    all.truncate(k);
    all
}

/// The exact top `k` of every shard for `query` (one list per shard, best
/// first), by a full f32 scan of `stored`.
pub fn exact_per_shard(
    stored: &Vectors,
    query: &[f32],
    shards: usize,
    k: usize,
) -> Vec<Vec<Scored>> {
    let mut best: Vec<Vec<Scored>> = vec![Vec::with_capacity(2 * k + 1); shards];
    for (row, vector) in stored.rows().enumerate() {
        let id = id_of(row);
        let list = &mut best[shard_of(id, shards)];
        list.push((dot(query, vector), id));
        if list.len() > 2 * k {
            list.sort_by(best_first);
            list.truncate(k);
        }
    }
    for list in &mut best {
        list.sort_by(best_first);
        list.truncate(k);
    }
    best
}

/// Every query's exact per-shard top `k`, the queries split over threads.
fn exact_per_shard_all(
    stored: &Vectors,
    set: &QuerySet,
    shards: usize,
    k: usize,
) -> Vec<Vec<Vec<Scored>>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = set.vectors.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = set
            .vectors
            .chunks(per_thread)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|q| exact_per_shard(stored, q, shards, k))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("scan thread"))
            .collect()
    })
}

fn ids(scored: &[Scored]) -> Vec<i64> {
    scored.iter().map(|s| s.1).collect()
}

/// The smoke check: merging the shards' exact top k gives exactly the
/// unsplit exact top k (same ids, same order), for every query.
pub fn check_merge_is_exact(stored: &Vectors, sets: &[QuerySet], shards: usize, k: usize) {
    for set in sets {
        for q in &set.vectors {
            let global = exact_per_shard(stored, q, 1, k).remove(0);
            let merged = merge(&exact_per_shard(stored, q, shards, k), k);
            assert_eq!(
                merged, global,
                "{shards} shards' merged top {k} ({})",
                set.name
            );
        }
    }
    eprintln!("nearest: merged exact top {k} of {shards} shards = exact top {k}: checked");
}

/// The recall of the merged top k when each shard is searched exactly and
/// returns k' rows, for each `--shard-k`.
pub fn report_exact_merge(n: usize, stored: &Vectors, sets: &[QuerySet], args: &Args) {
    let widest = args.shard_k.iter().copied().max().unwrap_or(args.k);
    for set in sets {
        let per_query = exact_per_shard_all(stored, set, args.shards, widest);
        for &k_shard in &args.shard_k {
            let found: Vec<Vec<i64>> = per_query
                .iter()
                .map(|lists| {
                    let cut: Vec<Vec<Scored>> = lists
                        .iter()
                        .map(|l| l[..k_shard.min(l.len())].to_vec())
                        .collect();
                    ids(&merge(&cut, args.k))
                })
                .collect();
            println!(
                "| {n} | {} shards, in memory | exact per shard, {k_shard} rows each, merged top {} | {} | – | – | – | {:.3} |",
                args.shards,
                args.k,
                set.name,
                recall(&found, &set.exact)
            );
        }
    }
}

fn table(shard: usize) -> String {
    format!("bench_shard_{shard}")
}

/// Splits the loaded `images` into `--shards` tables with an HNSW index
/// each, queries every shard for k' rows per `--shard-k` and
/// `hnsw.ef_search`, merges, and reports; drops the tables after.
pub async fn bench_pg_shards(conn: &mut PgConnection, n: usize, sets: &[QuerySet], args: &Args) {
    let (shards, dim) = (args.shards, args.dim);
    let started = Instant::now();
    for s in 0..shards {
        let t = table(s);
        conn.execute(AssertSqlSafe(format!(
            "DROP TABLE IF EXISTS {t};
             CREATE TABLE {t} (id bigint PRIMARY KEY, embedding vector({dim}) NOT NULL);
             INSERT INTO {t} SELECT id, embedding::vector({dim}) FROM images
                 WHERE embedding IS NOT NULL AND id % {shards} = {s}"
        )))
        .await
        .expect("fill shard");
    }
    eprintln!(
        "nearest: {shards} shard tables filled in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let create: Vec<String> = (0..shards)
        .map(|s| {
            format!(
                "CREATE INDEX {t}_hnsw ON {t} USING hnsw (embedding vector_cosine_ops)",
                t = table(s)
            )
        })
        .collect();
    let names: Vec<String> = (0..shards).map(|s| format!("{}_hnsw", table(s))).collect();
    let built = build_timed(conn, &create, &names).await;
    let label = format!("postgres, {shards} shards");
    eprintln!(
        "nearest: {label}: HNSW builds {:.1} s in all; indexes {} MiB in all",
        built.seconds,
        built.index_bytes >> 20
    );
    println!(
        "| {n} | {label} | HNSW builds, one after another: {:.1} s; indexes {} MiB in all | – | – | – | – | – |",
        built.seconds,
        built.index_bytes >> 20
    );
    conn.execute("SET enable_seqscan = off").await.expect("set");
    let widest = args.shard_k.iter().copied().max().unwrap_or(args.k);
    let max_ef = args.ef.iter().copied().max().unwrap_or(40);
    for set in sets {
        run_sharded(conn, set, max_ef, widest, args).await; // untimed round
    }
    for &ef in &args.ef {
        for &k_shard in &args.shard_k {
            for set in sets {
                let series = run_sharded(conn, set, ef, k_shard, args).await;
                let method = format!(
                    "HNSW per shard, ef_search {ef}, {k_shard} rows each, merged top {}",
                    args.k
                );
                report(n, &label, &method, set, &series);
            }
        }
    }
    conn.execute("RESET enable_seqscan").await.expect("reset");
    conn.execute("RESET hnsw.ef_search").await.expect("reset");
    for s in 0..shards {
        conn.execute(AssertSqlSafe(format!("DROP TABLE {}", table(s))))
            .await
            .expect("drop shard");
    }
}

/// Every query of `set` against every shard: the latency is the slowest
/// shard's (what a fan-out to separate nodes would wait for; here the
/// shards are asked one after another on one server).
async fn run_sharded(
    conn: &mut PgConnection,
    set: &QuerySet,
    ef: usize,
    k_shard: usize,
    args: &Args,
) -> Series {
    conn.execute(AssertSqlSafe(format!(
        "SET hnsw.ef_search = {}",
        ef.max(k_shard)
    )))
    .await
    .expect("set ef_search");
    let mut latencies = Vec::new();
    let mut found = Vec::new();
    for q in &set.vectors {
        let mut slowest = Duration::ZERO;
        let mut lists = Vec::new();
        for s in 0..args.shards {
            let sql = format!(
                "SELECT id, (embedding <=> $1)::float8 FROM {} ORDER BY embedding <=> $1 LIMIT $2",
                table(s)
            );
            let start = Instant::now();
            let rows: Vec<(i64, f64)> = sqlx::query_as(AssertSqlSafe(sql))
                .bind(Vector::from(q.clone()))
                .bind(k_shard as i64)
                .fetch_all(&mut *conn)
                .await
                .expect("shard knn");
            slowest = slowest.max(start.elapsed());
            lists.push(
                rows.into_iter()
                    .map(|(id, distance)| ((1.0 - distance) as f32, id))
                    .collect(),
            );
        }
        latencies.push(slowest);
        found.push(ids(&merge(&lists, args.k)));
    }
    Series {
        latencies,
        recall: Some(recall(&found, &set.exact)),
        cpu_ms: None,
    }
}
