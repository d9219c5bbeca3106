//! `nearest` latency versus stored count, on both store backends, with the
//! recall@k of pgvector's HNSW index against exact search (issue 5, item 7).
//! Not a test. Run (optimised; PostgreSQL is started and thrown away):
//!
//! ```text
//! scripts/with-postgres.sh cargo bench --bench nearest -- --sizes 10000,100000
//! ```
//!
//! Options: `--sizes N,N,..` `--dim D` (512) `--queries Q` (100 per kind)
//! `--k K` (10) `--backends flat,f16,sqlite,postgres` `--ef 40,80,..` (HNSW
//! `ef_search` values to sweep). Without `DATABASE_URL` the PostgreSQL part is
//! skipped. `--data uniform` (default): uniformly random vectors in
//! [-1, 1]^D, L2-normalised — the hardest case for HNSW; `--data lowrank`:
//! combinations of 32 random directions plus noise, closer to real
//! embeddings. Seeded, so every backend sees the same vectors. Two kinds of
//! query: `random` (a fresh vector of the same kind) and
//! `near-copy` (a stored vector plus noise, cosine ≈ 0.9 to it: what `match`
//! asks for a near-duplicate). A Markdown table goes to stdout, progress to
//! stderr.
//!
//! Beyond one node (issue 18): `--storage vector,halfvec,binary` (default
//! `vector`, the store's index) measures each pgvector index form on the
//! same loaded table, one index at a time (`nearest/forms.rs`); `--rerank
//! 10,20,40` how many Hamming-nearest rows binary quantisation re-ranks, as
//! multiples of k. `--shards S` splits the vectors over S tables standing in
//! for S nodes and merges their answers (`nearest/shards.rs`); `--shard-k
//! K,K` the rows each shard returns (default k and k/S + 1).
//!
//! `cargo test --all-targets` runs benches too (without `--bench`): then
//! only a 2,000-vector smoke run (PostgreSQL only with `DATABASE_URL`),
//! which fails unless the merged exact top k of 3 shards is the exact top k.

#[path = "nearest/data.rs"]
mod data;
#[path = "nearest/forms.rs"]
mod forms;
#[path = "nearest/half.rs"]
mod half_flat;
#[path = "nearest/pg.rs"]
mod pg;
#[path = "nearest/shards.rs"]
mod shards;

use std::time::{Duration, Instant};

use provenance::model::ModelInfo;
use provenance::store::sqlite::index::FlatIndex;
use provenance::store::Store;

/// Command-line settings.
pub struct Args {
    sizes: Vec<usize>,
    dim: usize,
    queries: usize,
    k: usize,
    backends: Vec<String>,
    ef: Vec<usize>,
    low_rank: bool,
    /// The pgvector index forms to measure.
    storage: Vec<forms::Storage>,
    /// Binary quantisation: rows re-ranked, as multiples of k.
    rerank: Vec<usize>,
    /// Split over this many tables (0 or 1: not split).
    shards: usize,
    /// Rows each shard returns (empty: k and k / shards + 1).
    shard_k: Vec<usize>,
    /// Run under `cargo test`: small, and checked.
    smoke: bool,
}

fn parse_args() -> Args {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let mut args = Args {
        sizes: vec![10_000, 100_000],
        dim: 512,
        queries: 100,
        k: 10,
        backends: ["flat", "f16", "sqlite", "postgres"]
            .map(String::from)
            .to_vec(),
        ef: vec![40, 80, 160, 320],
        low_rank: false,
        storage: vec![forms::Storage::Vector],
        rerank: vec![10, 20, 40],
        shards: 0,
        shard_k: Vec::new(),
        smoke,
    };
    if smoke {
        args.sizes = vec![2_000];
        args.queries = 5;
        args.backends = ["flat", "postgres"].map(String::from).to_vec();
        args.ef = vec![40];
        args.low_rank = true;
        args.storage = vec![
            forms::Storage::Vector,
            forms::Storage::Halfvec,
            forms::Storage::Binary,
        ];
        args.rerank = vec![10];
        args.shards = 3;
    }
    let list =
        |v: &str| -> Vec<usize> { v.split(',').map(|x| x.parse().expect("a number")).collect() };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--sizes" => args.sizes = list(&value()),
            "--dim" => args.dim = value().parse().expect("--dim N"),
            "--queries" => args.queries = value().parse().expect("--queries N"),
            "--k" => args.k = value().parse().expect("--k N"),
            "--backends" => args.backends = value().split(',').map(String::from).collect(),
            "--ef" => args.ef = list(&value()),
            "--data" => args.low_rank = value() == "lowrank",
            "--storage" => args.storage = value().split(',').map(forms::Storage::parse).collect(),
            "--rerank" => args.rerank = list(&value()),
            "--shards" => args.shards = value().parse().expect("--shards N"),
            "--shard-k" => args.shard_k = list(&value()),
            _ => {} // `cargo bench` adds `--bench`.
        }
    }
    if args.shard_k.is_empty() && args.shards > 1 {
        args.shard_k = vec![args.k, args.k / args.shards + 1];
    }
    args
}

/// Latencies of one series, and the recall of its answers.
pub struct Series {
    latencies: Vec<Duration>,
    recall: Option<f64>,
    /// CPU time of this process per query (all threads), when it does the
    /// work: on a loaded machine, wall time on 2 free cores ≈ this / 2.
    cpu_ms: Option<f64>,
}

/// CPU seconds (user + system, all threads) this process has used so far,
/// from /proc (Linux); 0 elsewhere.
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which ends with ')'): utime is the
    // 12th, stime the 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<f64>().ok())
        .sum();
    ticks / 100.0
}

impl Series {
    fn percentile(&self, p: f64) -> f64 {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1].as_secs_f64() * 1e3
    }
}

/// One query kind: its vectors and their exact answers.
pub struct QuerySet {
    name: &'static str,
    vectors: Vec<Vec<f32>>,
    exact: Vec<Vec<i64>>,
}

/// Times `search` on every query of `set`, with its recall against exact.
pub fn measure(set: &QuerySet, mut search: impl FnMut(&[f32]) -> Vec<i64>) -> Series {
    let mut latencies = Vec::new();
    let mut found = Vec::new();
    let cpu = cpu_seconds();
    for query in &set.vectors {
        let start = Instant::now();
        found.push(search(query));
        latencies.push(start.elapsed());
    }
    Series {
        latencies,
        recall: Some(recall(&found, &set.exact)),
        cpu_ms: Some((cpu_seconds() - cpu) * 1e3 / set.vectors.len() as f64),
    }
}

/// The share of the exact answers that were found.
pub fn recall(found: &[Vec<i64>], exact: &[Vec<i64>]) -> f64 {
    let hits: usize = found
        .iter()
        .zip(exact)
        .map(|(f, e)| f.iter().filter(|id| e.contains(id)).count())
        .sum();
    let wanted: usize = exact.iter().map(Vec::len).sum();
    hits as f64 / wanted.max(1) as f64
}

/// Prints one table row.
pub fn report(n: usize, backend: &str, method: &str, set: &QuerySet, series: &Series) {
    let recall = series.recall.map_or("–".into(), |r| format!("{r:.3}"));
    let cpu = series.cpu_ms.map_or("–".into(), |c| format!("{c:.1}"));
    println!(
        "| {n} | {backend} | {method} | {} | {:.2} | {:.2} | {cpu} | {recall} |",
        set.name,
        series.percentile(0.50),
        series.percentile(0.95),
    );
}

fn main() {
    let args = parse_args();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let data = if args.low_rank { "low-rank" } else { "uniform" };
    eprintln!(
        "nearest: {data} data, dim {}, k {}, {} queries per kind, {threads} hardware threads",
        args.dim, args.k, args.queries
    );
    println!(
        "| stored | backend | method | queries | p50 ms | p95 ms | CPU ms/query | recall@{} |",
        args.k
    );
    println!("|---:|---|---|---|---:|---:|---:|---:|");
    for &n in &args.sizes {
        let stored = vectors(n, 42, &args);
        let (sets, exact_index) = exact_answers(&stored, &args);
        if args.shards > 1 {
            if args.smoke {
                shards::check_merge_is_exact(&stored, &sets, args.shards, args.k);
            }
            shards::report_exact_merge(n, &stored, &sets, &args);
        }
        if args.backends.iter().any(|b| b == "flat") {
            bench_flat(n, &stored, &exact_index, &sets, &args);
        }
        drop(exact_index);
        if args.backends.iter().any(|b| b == "sqlite") {
            runtime.block_on(bench_sqlite(n, &stored, &sets, &args));
        }
        if args.backends.iter().any(|b| b == "postgres") {
            match std::env::var("DATABASE_URL") {
                Ok(url) => runtime.block_on(pg::bench_postgres(&url, n, &stored, &sets, &args)),
                Err(_) => eprintln!("nearest: DATABASE_URL is not set; skipping PostgreSQL (use scripts/with-postgres.sh)"),
            }
        }
    }
}

/// The stored vectors (or queries) of the chosen kind.
fn vectors(n: usize, seed: u64, args: &Args) -> data::Vectors {
    if args.low_rank {
        data::Vectors::low_rank(n, args.dim, seed)
    } else {
        data::Vectors::random(n, args.dim, seed)
    }
}

/// The query sets with their exact top-k, and the exact index that gave them.
fn exact_answers(stored: &data::Vectors, args: &Args) -> (Vec<QuerySet>, FlatIndex) {
    let started = Instant::now();
    let mut index =
        FlatIndex::with_threads(std::thread::available_parallelism().map_or(1, |n| n.get()));
    for (row, vector) in stored.rows().enumerate() {
        index
            .upsert(data::id_of(row), vector)
            .expect("one dimension");
    }
    eprintln!(
        "nearest: {} vectors in a flat index ({} MiB of codes) in {:.1} s",
        index.len(),
        index.code_bytes() >> 20,
        started.elapsed().as_secs_f64()
    );
    let kinds = [
        (
            "random",
            vectors(args.queries, 7, args)
                .rows()
                .map(<[f32]>::to_vec)
                .collect(),
        ),
        ("near-copy", stored.near_copies(args.queries, 0.9, 11)),
    ];
    let sets = kinds
        .into_iter()
        .map(|(name, vectors): (&'static str, Vec<Vec<f32>>)| {
            let exact = vectors
                .iter()
                .map(|q| ids(&search(&index, stored, q, args.k)))
                .collect();
            QuerySet {
                name,
                vectors,
                exact,
            }
        })
        .collect();
    (sets, index)
}

fn ids(found: &[provenance::store::Neighbor]) -> Vec<i64> {
    found.iter().map(|n| n.image_id).collect()
}

/// The flat index's exact search, with the full vectors from memory.
fn search(
    index: &FlatIndex,
    stored: &data::Vectors,
    q: &[f32],
    k: usize,
) -> Vec<provenance::store::Neighbor> {
    index
        .search(q, k, |id| stored.by_id(id))
        .expect("same dimension")
}

/// The flat index alone, on one thread and on all.
fn bench_flat(n: usize, stored: &data::Vectors, index: &FlatIndex, sets: &[QuerySet], args: &Args) {
    // A second copy doubles memory: one thread is timed up to 100k only.
    if n <= 100_000 {
        let mut single = FlatIndex::with_threads(1);
        for (row, vector) in stored.rows().enumerate() {
            single
                .upsert(data::id_of(row), vector)
                .expect("one dimension");
        }
        for set in sets {
            let series = measure(set, |q| ids(&search(&single, stored, q, args.k)));
            report(n, "flat index", "exact, 1 thread", set, &series);
        }
    }
    for set in sets {
        let series = measure(set, |q| ids(&search(index, stored, q, args.k)));
        report(n, "flat index", "exact, all threads", set, &series);
    }
    if !args.backends.iter().any(|b| b == "f16") {
        return;
    }
    let halves = half_flat::HalfMatrix::new(stored);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    eprintln!("nearest: f16 copy: {} MiB", halves.bytes() >> 20);
    for set in sets {
        let series = measure(set, |q| halves.search(q, args.k, threads));
        report(n, "flat f16", "f16 scan, all threads", set, &series);
    }
}

/// The embedded store through the `Store` trait, after a bulk load.
async fn bench_sqlite(n: usize, stored: &data::Vectors, sets: &[QuerySet], args: &Args) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bench.sqlite3");
    let store = provenance::store::SqliteStore::open(&path)
        .await
        .expect("open sqlite");
    store.bind_model(&model(args.dim)).await.expect("bind");
    let started = Instant::now();
    data::load_sqlite(&path, stored, &model(args.dim).id).await;
    eprintln!(
        "nearest: sqlite: {n} rows written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    store
        .nearest(&sets[0].vectors[0], args.k)
        .await
        .expect("first query");
    eprintln!(
        "nearest: sqlite: first query (loads the vectors) {:.2} s",
        started.elapsed().as_secs_f64()
    );
    println!(
        "| {n} | sqlite | first query, reads all vectors from SQLite | – | {:.0} | – | – | – |",
        started.elapsed().as_secs_f64() * 1e3
    );
    // A new process on the same file: starts from the snapshot the first
    // query saved.
    drop(store);
    let store = provenance::store::SqliteStore::open(&path)
        .await
        .expect("open sqlite");
    let started = Instant::now();
    store
        .nearest(&sets[0].vectors[0], args.k)
        .await
        .expect("first query");
    eprintln!(
        "nearest: sqlite: first query of a new process (snapshot) {:.2} s",
        started.elapsed().as_secs_f64()
    );
    println!(
        "| {n} | sqlite | first query of a new process, from the snapshot | – | {:.0} | – | – | – |",
        started.elapsed().as_secs_f64() * 1e3
    );
    for set in sets {
        let mut latencies = Vec::new();
        let mut found = Vec::new();
        let cpu = cpu_seconds();
        for q in &set.vectors {
            let start = Instant::now();
            found.push(ids(&store.nearest(q, args.k).await.expect("nearest")));
            latencies.push(start.elapsed());
        }
        let cpu_ms = Some((cpu_seconds() - cpu) * 1e3 / set.vectors.len() as f64);
        let recall = Some(recall(&found, &set.exact));
        report(
            n,
            "sqlite",
            "exact (flat index)",
            set,
            &Series {
                latencies,
                recall,
                cpu_ms,
            },
        );
    }
}

/// The model the synthetic vectors pretend to come from.
pub fn model(dim: usize) -> ModelInfo {
    ModelInfo {
        id: format!("bench/random-{dim}"),
        dim,
    }
}
