//! Scans run by workers (PostgreSQL): a URL list of slowly served pictures
//! is queued in batches; three worker processes run it, one is killed
//! (SIGKILL) in the middle of a batch, and the scan still completes with
//! exactly the pictures and sightings of the same scan run in one process.
//! A batch that cannot be run fails after its attempts and is listed by
//! `db failures`; a worker started before a scan is woken by it at once,
//! not by its (slow) poll; Ctrl-C stops a worker cleanly. The embedded
//! store refuses `--enqueue` with the reason.

use super::*;
use common::binary::stdout;
use sqlx::{Connection, PgConnection, Row};
use std::time::{Duration, Instant};

/// Distinct pictures: one photo at `n` sizes, each a JPEG of its own.
fn pictures(n: u32) -> Vec<Vec<u8>> {
    let photo =
        image::load_from_memory(&std::fs::read(fixture("hash/chelsea.jpg")).unwrap()).unwrap();
    (0..n)
        .map(|i| {
            let width = 200 + 8 * i;
            let resized = photo.resize(width, width, image::imageops::Triangle);
            jpeg(&resized, 85)
        })
        .collect()
}

/// A world serving `n` pictures, each `delay` slow, and the URL list of
/// them (each on its own page) written to `dir/urls.txt`.
fn slow_pictures(world: &World, dir: &Path, n: u32, delay: Duration) -> PathBuf {
    let mut lines = Vec::new();
    for (i, bytes) in pictures(n).into_iter().enumerate() {
        let path = format!("/img/{i}.jpg");
        world.put(&path, Served::ok("image/jpeg", bytes).delayed(delay));
        lines.push(format!(
            "{} {}",
            world.url(&path),
            world.url(&format!("/post/{i}.html"))
        ));
    }
    world.put(
        "/robots.txt",
        Served::ok("text/plain", "User-agent: *\nAllow: /\n"),
    );
    let list = dir.join("urls.txt");
    std::fs::write(&list, lines.join("\n") + "\n").unwrap();
    list
}

/// A fresh database (or `None`: no PostgreSQL), a scratch folder and a
/// world serving `n` pictures, each `delay` slow, with their URL list.
struct Scene {
    url: String,
    dir: tempfile::TempDir,
    world: World,
    list: PathBuf,
}

async fn scene(n: u32, delay: Duration) -> Option<Scene> {
    let url = common::fresh_postgres_database().await?;
    let dir = tempfile::tempdir().unwrap();
    let world = World::start().await;
    let list = slow_pictures(&world, dir.path(), n, delay);
    Some(Scene {
        url,
        dir,
        world,
        list,
    })
}

/// Sets the queue's tables up, as a worker or `--enqueue` does.
async fn queue_tables(url: &str, dir: &Path) {
    let location = StoreLocation::resolve(Some(url), dir).unwrap();
    let StoreLocation::Postgres(postgres) = location else {
        unreachable!("a PostgreSQL URL")
    };
    provenance::queue::ScanQueue::open(&postgres).await.unwrap();
}

fn env_of(url: &str) -> Vec<(&'static str, String)> {
    vec![("DATABASE_URL", url.to_string())]
}

/// `scan --urls LIST --enqueue`: the JSON answer.
async fn enqueue(dir: &Path, list: &Path, url: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "scan",
        "--urls",
        list.to_str().unwrap(),
        "--enqueue",
        "--embedder",
        "none",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    json(&provenance(dir, &args, &env_of(url)).await)
}

/// `db status --format json`.
async fn db_status(dir: &Path, url: &str) -> serde_json::Value {
    json(&provenance(dir, &["db", "status", "--format", "json"], &env_of(url)).await)
}

/// A worker process (killed when dropped); `extra` sets `--poll`.
fn worker(dir: &Path, url: &str, extra: &[&str]) -> tokio::process::Child {
    let mut args = vec![
        "worker",
        "--embedder",
        "none",
        "--allow-private-addresses",
        "--heartbeat",
        "1",
        "--missed-heartbeats",
        "2",
        "--timeout",
        "20",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    common::binary::command(dir, &args, &env_of(url))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start a worker")
}

/// Waits (at most `limit`) until `query` (one boolean) is true.
async fn until(url: &str, query: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    let mut conn = PgConnection::connect(url).await.unwrap();
    loop {
        let done: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(query.to_string()))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        if done {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "not within {limit:?}: {query}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What a store holds: (sha256 of every picture, every sighting as image
/// URL + page URL), sorted.
async fn holdings(url: &str) -> (Vec<String>, Vec<String>) {
    let mut conn = PgConnection::connect(url).await.unwrap();
    let images: Vec<String> =
        sqlx::query_scalar("SELECT encode(sha256, 'hex') FROM images ORDER BY 1")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let sightings: Vec<String> =
        sqlx::query_scalar("SELECT image_url || ' ' || page_url FROM sightings ORDER BY 1")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    (images, sightings)
}

async fn wait_for(child: tokio::process::Child, limit: Duration) -> std::process::Output {
    tokio::time::timeout(limit, child.wait_with_output())
        .await
        .expect("the worker stops in time")
        .unwrap()
}

#[tokio::test]
async fn three_workers_one_killed_store_what_one_process_would() {
    let (Some(single), Some(queued)) = (
        common::fresh_postgres_database().await,
        common::fresh_postgres_database().await,
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let world = World::start().await;
    let list = slow_pictures(&world, dir.path(), 24, Duration::from_millis(300));

    // The same list in one process, for comparison.
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
    let summary = json(&provenance(dir.path(), &args, &env_of(&single)).await);
    assert_eq!(summary["status"], "completed", "{summary}");
    let expected = holdings(&single).await;
    assert_eq!(expected.0.len(), 24);
    assert_eq!(expected.1.len(), 24);

    let enqueued = enqueue(dir.path(), &list, &queued, &["--queue-batch", "4"]).await;
    assert_eq!(enqueued["batches"], 6, "{enqueued}");
    assert_eq!(enqueued["candidates"], 24, "{enqueued}");
    let scan_id = enqueued["scan_id"].as_i64().unwrap();
    let status = db_status(dir.path(), &queued).await;
    assert_eq!(status["recent_scans"][0]["status"], "queued", "{status}");
    assert_eq!(
        status["recent_scans"][0]["batches"]["queued"], 6,
        "{status}"
    );

    // Two requests at once to the one host, for the three workers together
    // (shared host slots): each batch takes a while, so a worker can be
    // caught in the middle of one.
    let flags = [
        "--concurrency",
        "1",
        "--exit-when-idle",
        "--poll",
        "1",
        "--per-host",
        "2",
    ];
    world.take_most_slow_at_once();
    let mut workers: Vec<_> = (0..3)
        .map(|_| worker(dir.path(), &queued, &flags))
        .collect();
    // Kill the first worker caught in the middle of a batch, once it has
    // stored part of it (`counts` is written after each stored group).
    until(
        &queued,
        "SELECT EXISTS (SELECT 1 FROM scan_batches WHERE status = 'running' AND counts IS NOT NULL)",
        Duration::from_secs(60),
    )
    .await;
    let mut conn = PgConnection::connect(&queued).await.unwrap();
    let busy: String = sqlx::query_scalar(
        "SELECT worker FROM scan_batches WHERE status = 'running' AND counts IS NOT NULL LIMIT 1",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    // Workers are named HOST-PID-RANDOM.LIFE.
    let pid: u32 = busy.rsplit('-').nth(1).unwrap().parse().unwrap();
    let at = workers.iter().position(|w| w.id() == Some(pid)).unwrap();
    let mut victim = workers.remove(at);
    victim.start_kill().unwrap();
    victim.wait().await.unwrap();

    for worker in workers {
        let out = wait_for(worker, Duration::from_secs(120)).await;
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(
        holdings(&queued).await,
        expected,
        "the same pictures and sightings"
    );
    let most = world.take_most_slow_at_once();
    assert!(
        most <= 2,
        "{most} requests at once: --per-host 2 holds for all workers together"
    );
    let status = db_status(dir.path(), &queued).await;
    let scan = &status["recent_scans"][0];
    assert_eq!(scan["id"], scan_id);
    assert_eq!(scan["status"], "completed", "{status}");
    assert_eq!(scan["batches"]["done"], 6, "{status}");
    // The rows are exact; the counters of the killed attempt stop at its
    // last report (pictures it stored after it count as known on retry).
    let counted = |key: &str| scan["counts"][key].as_u64().unwrap();
    assert!(counted("new_images") <= 24, "{status}");
    assert!(counted("new_images") + counted("skipped") >= 24, "{status}");
    let row = sqlx::query(
        "SELECT max(attempts) AS most, count(DISTINCT worker) AS workers FROM scan_batches",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(row.get::<i32, _>("most"), 2, "the killed batch ran again");
    assert!(row.get::<i64, _>("workers") >= 2);
    // The shared host slots were given back.
    let held: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM host_slots WHERE expires_at > now() AND holder NOT LIKE $1",
    )
    .bind(format!("%-{pid}-%"))
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(held, 0);
}

#[tokio::test]
async fn a_batch_that_cannot_run_fails_after_its_attempts() {
    let Some(Scene {
        url,
        dir,
        world: _world,
        list,
    }) = scene(4, Duration::ZERO).await
    else {
        return;
    };
    let enqueued = enqueue(
        dir.path(),
        &list,
        &url,
        &["--queue-batch", "2", "--max-attempts", "2"],
    )
    .await;
    assert_eq!(enqueued["batches"], 2, "{enqueued}");
    let mut conn = PgConnection::connect(&url).await.unwrap();
    sqlx::query("UPDATE scan_batches SET work = '{\"candidates\": 5}' WHERE batch_no = 1")
        .execute(&mut conn)
        .await
        .unwrap();
    let child = worker(dir.path(), &url, &["--exit-when-idle", "--poll", "1"]);
    let out = wait_for(child, Duration::from_secs(90)).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["batches_done"], 1, "{summary}");
    assert_eq!(summary["batches_failed"], 2, "{summary}");

    let failed = json(
        &provenance(
            dir.path(),
            &["db", "failures", "--batches", "--format", "json"],
            &env_of(&url),
        )
        .await,
    );
    let failed = failed.as_array().unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["batch_no"], 1);
    assert_eq!(failed[0]["attempts"], 2);
    assert!(
        failed[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("cannot be read"),
        "{failed:?}"
    );
    let text = stdout(&provenance(dir.path(), &["db", "failures"], &env_of(&url)).await);
    assert!(text.contains("batch 1 (2 pictures), 2 attempts"), "{text}");
    let status = db_status(dir.path(), &url).await;
    assert_eq!(status["recent_scans"][0]["status"], "failed", "{status}");
    assert_eq!(status["recent_scans"][0]["batches"]["done"], 1, "{status}");
    assert_eq!(status["images"], 2, "the good batch is stored: {status}");
}

#[tokio::test]
async fn a_waiting_worker_is_woken_at_once_and_stops_on_ctrl_c() {
    let Some(Scene {
        url,
        dir,
        world: _world,
        list,
    }) = scene(2, Duration::ZERO).await
    else {
        return;
    };
    // The queue's tables exist before the worker starts listening.
    queue_tables(&url, dir.path()).await;
    // A poll every 30 s: a pickup much faster than that is the NOTIFY.
    let child = worker(dir.path(), &url, &["--poll", "30"]);
    let pid = child.id().unwrap();
    until(
        &url,
        &format!("SELECT EXISTS (SELECT 1 FROM apalis.workers WHERE id LIKE '%-{pid}-%')"),
        Duration::from_secs(30),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let enqueued = enqueue(dir.path(), &list, &url, &[]).await;
    let scan_id = enqueued["scan_id"].as_i64().unwrap();
    let waited = until(
        &url,
        &format!("SELECT EXISTS (SELECT 1 FROM scan_batches WHERE scan_id = {scan_id} AND status <> 'queued')"),
        Duration::from_secs(20),
    )
    .await;
    eprintln!("a waiting worker took the scan up {waited:?} after it was queued");
    assert!(
        waited < Duration::from_secs(3),
        "picked up after {waited:?}: not woken by NOTIFY"
    );
    until(
        &url,
        &format!("SELECT status = 'completed' FROM scans WHERE id = {scan_id}"),
        Duration::from_secs(30),
    )
    .await;
    // SAFETY: signalling our own child process.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGINT) }, 0);
    let out = wait_for(child, Duration::from_secs(20)).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(summary["batches_done"].as_u64().unwrap() >= 1, "{summary}");
}

#[tokio::test]
async fn the_embedded_store_refuses_to_enqueue() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("urls.txt");
    std::fs::write(&list, "https://example.org/a.jpg\n").unwrap();
    let out = provenance(
        dir.path(),
        &[
            "scan",
            "--urls",
            list.to_str().unwrap(),
            "--enqueue",
            "--embedder",
            "none",
        ],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("needs the PostgreSQL store"),
        "{}",
        stderr(&out)
    );
    let out = provenance(dir.path(), &["worker", "--embedder", "none"], &[]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// A TCP relay to PostgreSQL that can go away: while down, its open
/// connections are cut and new ones closed at once.
struct Relay {
    port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    cut: std::sync::Arc<tokio::sync::Notify>,
}

impl Relay {
    async fn to(url: &str) -> Self {
        use std::sync::atomic::Ordering;
        let target = url::Url::parse(url).unwrap();
        let target = format!("{}:{}", target.host_str().unwrap(), target.port().unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let cut = std::sync::Arc::new(tokio::sync::Notify::new());
        let (up_at, cut_at) = (up.clone(), cut.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if !up_at.load(Ordering::SeqCst) {
                    continue; // dropped: closed at once
                }
                let (target, cut) = (target.clone(), cut_at.clone());
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        () = cut.notified() => {}
                    }
                });
            }
        });
        Self { port, up, cut }
    }

    /// The database's URL through the relay.
    fn url(&self, url: &str) -> String {
        let mut url = url::Url::parse(url).unwrap();
        url.set_port(Some(self.port)).unwrap();
        url.to_string()
    }

    fn set_up(&self, up: bool) {
        self.up.store(up, std::sync::atomic::Ordering::SeqCst);
        if !up {
            self.cut.notify_waiters();
        }
    }
}

#[tokio::test]
async fn a_worker_that_loses_the_database_comes_back_to_work() {
    let Some(Scene {
        url,
        dir,
        world: _world,
        list,
    }) = scene(4, Duration::from_millis(800)).await
    else {
        return;
    };
    queue_tables(&url, dir.path()).await;
    let relay = Relay::to(&url).await;
    let child = worker(dir.path(), &relay.url(&url), &["--poll", "1"]);
    let pid = child.id().unwrap();
    until(
        &url,
        &format!("SELECT EXISTS (SELECT 1 FROM apalis.workers WHERE id LIKE '%-{pid}-%')"),
        Duration::from_secs(30),
    )
    .await;
    // The database goes away for a few seconds in the middle of a batch,
    // then comes back: the batch is given back and run again.
    let enqueued = enqueue(dir.path(), &list, &url, &[]).await;
    let scan_id = enqueued["scan_id"].as_i64().unwrap();
    until(
        &url,
        &format!("SELECT EXISTS (SELECT 1 FROM scan_batches WHERE scan_id = {scan_id} AND status = 'running')"),
        Duration::from_secs(30),
    )
    .await;
    relay.set_up(false);
    tokio::time::sleep(Duration::from_secs(4)).await;
    relay.set_up(true);
    until(
        &url,
        &format!("SELECT status = 'completed' FROM scans WHERE id = {scan_id}"),
        Duration::from_secs(90),
    )
    .await;
    assert_eq!(holdings(&url).await.0.len(), 4);
    // SAFETY: signalling our own child process.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGINT) }, 0);
    let out = wait_for(child, Duration::from_secs(20)).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(summary["reconnects"].as_u64().unwrap() >= 1, "{summary}");
    assert!(summary["batches_done"].as_u64().unwrap() >= 1, "{summary}");
}
