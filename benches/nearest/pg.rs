//! The PostgreSQL + pgvector half of the `nearest` benchmark: bulk load with
//! `COPY`, build the store's own HNSW index after the load (as one would for
//! a large import), then time `Store::nearest` and sweep `hnsw.ef_search`.

use std::path::Path;
use std::time::Instant;

use pgvector::Vector;
use provenance::config::StoreLocation;
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection, Executor, Row};

use crate::data::{id_of, pg_text, sha_of, Vectors};
use crate::forms::{self, Storage};
use crate::shards;
use crate::{ids, model, recall, report, Args, QuerySet, Series};

/// Loads `stored` into a fresh database, builds the index, and reports.
pub async fn bench_postgres(
    admin_url: &str,
    n: usize,
    stored: &Vectors,
    sets: &[QuerySet],
    args: &Args,
) {
    let name = format!("provenance_bench_{n}");
    let url = fresh_database(admin_url, &name).await;
    let location = StoreLocation::resolve(Some(&url), Path::new("/unused")).expect("valid URL");
    let store = provenance::store::open(&location)
        .await
        .expect("open postgres store");
    store.bind_model(&model(args.dim)).await.expect("bind");
    let mut conn = PgConnection::connect(&url).await.expect("connect");

    // The index `bind_model` made, rebuilt after the load with the same text.
    let index_def: String = sqlx::query_scalar(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'images' AND indexdef LIKE '%hnsw%'",
    )
    .fetch_one(&mut conn)
    .await
    .expect("the store's HNSW index");
    let index_name: String =
        sqlx::query_scalar("SELECT indexname FROM pg_indexes WHERE indexdef = $1")
            .bind(&index_def)
            .fetch_one(&mut conn)
            .await
            .expect("index name");
    conn.execute(AssertSqlSafe(format!("DROP INDEX {index_name}")))
        .await
        .expect("drop index");

    let started = Instant::now();
    copy_rows(&mut conn, stored, &model(args.dim).id).await;
    eprintln!(
        "nearest: postgres: {n} rows copied in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let table_bytes = n * args.dim * 4;
    let work_mem_mib = ((table_bytes * 3 / 2) >> 20).clamp(64, 8192);
    conn.execute(AssertSqlSafe(format!(
        "SET maintenance_work_mem = '{work_mem_mib}MB'"
    )))
    .await
    .expect("set");
    conn.execute("SET max_parallel_maintenance_workers = 1")
        .await
        .expect("set");
    if args.storage.contains(&Storage::Vector) {
        bench_store_index(
            &mut conn,
            store.as_ref(),
            &index_def,
            &index_name,
            n,
            sets,
            args,
        )
        .await;
    }
    for &form in &args.storage {
        if form != Storage::Vector {
            forms::bench_form(&mut conn, form, n, sets, args).await;
        }
    }
    if args.shards > 1 {
        shards::bench_pg_shards(&mut conn, n, sets, args).await;
    }
    drop(store);
    conn.close().await.ok();
    drop_database(admin_url, &name).await;
}

/// The store's own index (`vector`, the form `bind_model` creates): build,
/// `Store::nearest`, the `ef_search` sweep, a few exact queries; then the
/// index is dropped so the next form has the memory.
async fn bench_store_index(
    conn: &mut PgConnection,
    store: &dyn provenance::store::Store,
    index_def: &str,
    index_name: &str,
    n: usize,
    sets: &[QuerySet],
    args: &Args,
) {
    let started = Instant::now();
    conn.execute(AssertSqlSafe(index_def.to_string()))
        .await
        .expect("build index");
    let build = started.elapsed().as_secs_f64();
    conn.execute("ANALYZE images").await.expect("analyze");
    let sizes = sqlx::query(
        "SELECT pg_relation_size($1::regclass) AS index, pg_total_relation_size('images') AS total,
                current_setting('maintenance_work_mem') AS work_mem",
    )
    .bind(index_name)
    .fetch_one(&mut *conn)
    .await
    .expect("sizes");
    let (index_mib, total_mib, work_mem) = (
        sizes.get::<i64, _>("index") >> 20,
        sizes.get::<i64, _>("total") >> 20,
        sizes.get::<String, _>("work_mem"),
    );
    eprintln!("nearest: postgres: HNSW build {build:.1} s (maintenance_work_mem {work_mem}, 1 parallel worker); index {index_mib} MiB; table+indexes {total_mib} MiB");
    println!("| {n} | postgres | HNSW build: {build:.1} s; index {index_mib} MiB, table+indexes {total_mib} MiB | – | – | – | – | – |");

    // One untimed round first: a long-running server has its index in
    // memory; the first queries after a build read it from disk.
    for q in sets.iter().flat_map(|set| &set.vectors) {
        store.nearest(q, args.k).await.expect("warm-up");
    }
    for set in sets {
        let mut latencies = Vec::new();
        let mut found = Vec::new();
        for q in &set.vectors {
            let start = Instant::now();
            found.push(ids(&store.nearest(q, args.k).await.expect("nearest")));
            latencies.push(start.elapsed());
        }
        let recall = Some(recall(&found, &set.exact));
        report(
            n,
            "postgres",
            "Store::nearest (HNSW)",
            set,
            &Series {
                latencies,
                recall,
                cpu_ms: None,
            },
        );
    }
    sweep_ef_search(conn, n, sets, args).await;
    exact_in_postgres(conn, n, &sets[0], args).await;
    conn.execute(AssertSqlSafe(format!("DROP INDEX {index_name}")))
        .await
        .expect("drop index");
}

/// The store's query shape, with `hnsw.ef_search` set per run.
fn knn_sql(dim: usize) -> String {
    format!(
        "SELECT id FROM images WHERE embedding IS NOT NULL
         ORDER BY embedding::vector({dim}) <=> $1 LIMIT $2"
    )
}

/// Runs the k-NN query for every vector of `set` at the connection's
/// settings: latencies and answers.
async fn run_knn(conn: &mut PgConnection, set: &QuerySet, args: &Args) -> Series {
    let mut latencies = Vec::new();
    let mut found = Vec::new();
    for q in &set.vectors {
        let start = Instant::now();
        let rows: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(knn_sql(args.dim)))
            .bind(Vector::from(q.clone()))
            .bind(args.k as i64)
            .fetch_all(&mut *conn)
            .await
            .expect("knn");
        latencies.push(start.elapsed());
        found.push(rows);
    }
    Series {
        latencies,
        recall: Some(recall(&found, &set.exact)),
        cpu_ms: None,
    }
}

async fn sweep_ef_search(conn: &mut PgConnection, n: usize, sets: &[QuerySet], args: &Args) {
    let plan: Vec<String> =
        sqlx::query_scalar(AssertSqlSafe(format!("EXPLAIN {}", knn_sql(args.dim))))
            .bind(Vector::from(sets[0].vectors[0].clone()))
            .bind(args.k as i64)
            .fetch_all(&mut *conn)
            .await
            .expect("explain");
    eprintln!("nearest: postgres: plan: {}", plan.join(" / "));
    for &ef in &args.ef {
        conn.execute(AssertSqlSafe(format!("SET hnsw.ef_search = {ef}")))
            .await
            .expect("set ef_search");
        for set in sets {
            let series = run_knn(conn, set, args).await;
            report(
                n,
                "postgres",
                &format!("HNSW, ef_search {ef}"),
                set,
                &series,
            );
        }
    }
    conn.execute("RESET hnsw.ef_search").await.expect("reset");
}

/// A few exact (sequential scan) queries in PostgreSQL, for scale.
async fn exact_in_postgres(conn: &mut PgConnection, n: usize, set: &QuerySet, args: &Args) {
    conn.execute("SET enable_indexscan = off")
        .await
        .expect("set");
    let few = QuerySet {
        name: set.name,
        vectors: set.vectors.iter().take(5).cloned().collect(),
        exact: set.exact.iter().take(5).cloned().collect(),
    };
    let series = run_knn(conn, &few, args).await;
    report(n, "postgres", "exact (seq scan, 5 queries)", &few, &series);
    conn.execute("RESET enable_indexscan").await.expect("reset");
}

async fn copy_rows(conn: &mut PgConnection, stored: &Vectors, model_id: &str) {
    let mut copy = conn
        .copy_in_raw(
            "COPY images (id, sha256, width, height, format, byte_size, embedding, embedding_model,
                          first_seen_at, last_seen_at) FROM STDIN",
        )
        .await
        .expect("copy in");
    let mut buffer = String::new();
    for (row, v) in stored.rows().enumerate() {
        let id = id_of(row);
        buffer.push_str(&format!(
            "{id}\t\\\\x{}\t640\t480\tjpeg\t1000\t",
            hex::encode(sha_of(id))
        ));
        pg_text(v, &mut buffer);
        buffer.push_str(&format!(
            "\t{model_id}\t2026-01-01 00:00:00+00\t2026-01-01 00:00:00+00\n"
        ));
        if buffer.len() > 4 << 20 {
            copy.send(std::mem::take(&mut buffer).into_bytes())
                .await
                .expect("copy data");
        }
    }
    copy.send(buffer.into_bytes()).await.expect("copy data");
    copy.finish().await.expect("copy finish");
}

async fn fresh_database(admin_url: &str, name: &str) -> String {
    let mut admin = PgConnection::connect(admin_url)
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
    let mut admin = PgConnection::connect(admin_url)
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
