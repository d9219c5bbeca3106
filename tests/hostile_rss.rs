//! Peak memory under a 10,000-URL mix of hostile cases (a measurement, run by
//! hand: `cargo test --test hostile_rss -- --ignored --nocapture`; the
//! result goes in TESTING.md). Good images, truncated files, HTML posing as
//! JPEG, pixel bombs, gzip bombs, endless bodies, resets, redirect loops,
//! 404s and 503s, all on loopback, scanned from a URL list by the real
//! binary under `/usr/bin/time -v`. Ignored in CI: it takes about a minute.

mod common;
mod hostile;

use std::time::Instant;

use hostile::host::{Behaviour, HostileHost};
use hostile::images;

const URLS: usize = 10_000;

fn url_count() -> usize {
    std::env::var("HOSTILE_RSS_URLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(URLS)
}

fn behaviour(i: usize, bombs: &Bombs) -> Behaviour {
    let ok = |content_type, body| Behaviour::Ok(content_type, body, vec![]);
    match i % 20 {
        0..=7 => ok("image/jpeg", images::jpeg(64, 48, i as u32)),
        8 => {
            let good = images::jpeg(64, 48, i as u32);
            ok("image/jpeg", good[..good.len() / 2].to_vec())
        }
        9 => ok("image/jpeg", Vec::new()),
        10 => ok("image/jpeg", b"<html><body>soft 404</body></html>".to_vec()),
        11 => ok("image/png", bombs.png.clone()),
        12 => ok("image/jpeg", bombs.jpeg.clone()),
        13 => Behaviour::Ok(
            "image/jpeg",
            bombs.gzip.clone(),
            vec!["content-encoding: gzip".into()],
        ),
        14 => Behaviour::Endless,
        15 => Behaviour::Reset,
        16 => Behaviour::RedirectLoop,
        17 => Behaviour::Status(503, None),
        18 => ok("image/gif", bombs.gif.clone()),
        _ => Behaviour::Status(404, None),
    }
}

struct Bombs {
    png: Vec<u8>,
    jpeg: Vec<u8>,
    gzip: Vec<u8>,
    gif: Vec<u8>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement (about a minute); run by hand, see TESTING.md"]
async fn peak_rss_of_a_10000_url_hostile_scan() {
    if !std::path::Path::new("/usr/bin/time").exists() {
        eprintln!("note: /usr/bin/time is missing; cannot measure");
        return;
    }
    let bombs = Bombs {
        png: images::png_claiming(50_000, 50_000),
        jpeg: images::jpeg_claiming(50_000, 50_000),
        gzip: images::gzip_bomb(256 * 1024 * 1024),
        gif: images::gif_with_frames(2000, 2000),
    };
    let host = HostileHost::start().await;
    let mut list = String::new();
    let urls = url_count();
    for i in 0..urls {
        let path = format!("/m/{i}");
        host.put(&path, behaviour(i, &bombs));
        list.push_str(&host.url(&path));
        list.push('\n');
    }
    let dir = tempfile::tempdir().unwrap();
    let list_file = dir.path().join("urls.txt");
    std::fs::write(&list_file, list).unwrap();
    let mut cmd = tokio::process::Command::new("/usr/bin/time");
    cmd.arg("-v")
        .arg(env!("CARGO_BIN_EXE_provenance"))
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["scan", "--urls"])
        .arg(&list_file)
        .args([
            "--allow-private-addresses",
            "--embedder",
            "none",
            "--timeout",
            "3",
            "--read-timeout",
            "1",
            "--retries",
            "1",
            "--per-host",
            "32",
            "--max-image-mb",
            "4",
            "--format",
            "json",
        ]);
    let verbose = std::env::var("HOSTILE_RSS_VERBOSE").unwrap_or_else(|_| "-q".into());
    cmd.arg(verbose);
    common::binary::clear_environment(&mut cmd);
    // With DATABASE_URL set (scripts/with-postgres.sh), measure on PostgreSQL.
    if std::env::var("HOSTILE_RSS_BACKEND").as_deref() == Ok("postgres") {
        if let Some(url) = common::fresh_postgres_database().await {
            cmd.env("DATABASE_URL", url);
        }
    }
    let started = Instant::now();
    let out = cmd.output().await.unwrap();
    let took = started.elapsed();
    let stderr = hostile::stderr(&out);
    if let Ok(path) = std::env::var("HOSTILE_RSS_LOG") {
        std::fs::write(path, &stderr).unwrap();
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let peak_kib: u64 = stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.parse().ok())
        .expect("time -v reports the peak RSS");
    println!(
        "10,000-URL hostile mix: {took:.1?}, peak RSS {} MiB, summary {summary}",
        peak_kib / 1024
    );
    assert_eq!(summary["candidates"], urls);
    assert_eq!(
        summary["new_images"],
        urls / 20 * 8 + 1,
        "good ones + one GIF"
    );
    assert!(peak_kib < 1024 * 1024, "peak RSS {peak_kib} KiB");
}
