//! Hostile images at the scan level: every broken, lying or awkward file is
//! served on loopback among good ones; the real binary scans them all. Each
//! bad file must leave one clear failure row (stage and reason), every
//! decodable one (CMYK, 16-bit, thousand-frame GIF, garbage EXIF) must be
//! stored, and the scan must finish quickly and in bounded memory.

mod common;
mod hostile;

use std::time::{Duration, Instant};

use common::world::{Served, World};
use hostile::images;

/// One file served: (path, content type, bytes).
type File = (&'static str, &'static str, Vec<u8>);

/// Everything the image host serves, and the gzip bomb.
fn gallery() -> (Vec<File>, Vec<u8>) {
    let good = images::jpeg(64, 48, 1);
    let cmyk = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/clip/images/cmyk.jpg"),
    )
    .expect("CMYK fixture");
    let good_png = images::png(40, 40, 2);
    let files = vec![
        ("/good/a.jpg", "image/jpeg", good.clone()),
        ("/good/b.png", "image/png", good_png.clone()),
        ("/good/c.jpg", "image/jpeg", images::jpeg(50, 70, 3)),
        ("/odd/cmyk.jpg", "image/jpeg", cmyk),
        ("/odd/deep.png", "image/png", images::png_16bit(30, 20)),
        (
            "/odd/anim.gif",
            "image/gif",
            images::gif_with_frames(3000, 5000),
        ),
        (
            "/odd/exif-garbage.jpg",
            "image/jpeg",
            images::jpeg_with_app1(&images::garbage_exif(), 1),
        ),
        (
            "/odd/exif-huge.jpg",
            "image/jpeg",
            images::jpeg_with_app1(&images::oversized_exif(), 8),
        ),
        (
            "/bad/truncated.jpg",
            "image/jpeg",
            good[..good.len() / 2].to_vec(),
        ),
        (
            "/bad/truncated.png",
            "image/png",
            good_png[..good_png.len() / 2].to_vec(),
        ),
        ("/bad/zero.jpg", "image/jpeg", Vec::new()),
        (
            "/bad/page.jpg",
            "image/jpeg",
            b"<!doctype html><html><body>Not found</body></html>".to_vec(),
        ),
        ("/bad/vector.svg", "image/svg+xml", images::svg()),
        (
            "/bad/bomb.png",
            "image/png",
            images::png_claiming(50_000, 50_000),
        ),
        (
            "/bad/bomb.jpg",
            "image/jpeg",
            images::jpeg_claiming(50_000, 50_000),
        ),
    ];
    (files, images::gzip_bomb(64 * 1024 * 1024))
}

/// Expected failures: (path, stage, words in the reason).
const BAD: [(&str, &str, &str); 8] = [
    ("/bad/truncated.jpg", "decode", "truncated"),
    ("/bad/truncated.png", "decode", "png"),
    ("/bad/zero.jpg", "decode", "empty"),
    ("/bad/page.jpg", "decode", "not an image"),
    ("/bad/vector.svg", "decode", "not an image"),
    ("/bad/bomb.png", "decode", "50000x50000 exceeds the limit"),
    ("/bad/bomb.jpg", "decode", "50000x50000 exceeds the limit"),
    ("/bad/gzip-bomb.jpg", "too-large", "larger than the limit"),
];

async fn image_world() -> World {
    let world = World::start().await;
    let (files, bomb) = gallery();
    let mut results = Vec::new();
    for (path, content_type, body) in files {
        world.put(path, Served::ok(content_type, body));
        results.push((
            world.url(path),
            world.url("/page.html"),
            "Gallery".to_string(),
        ));
    }
    world.put(
        "/bad/gzip-bomb.jpg",
        Served::ok("image/jpeg", bomb).with_header("content-encoding", "gzip"),
    );
    results.push((
        world.url("/bad/gzip-bomb.jpg"),
        world.url("/page.html"),
        "Gallery".to_string(),
    ));
    world.put(
        "/search",
        Served::ok("application/json", hostile::searxng_answer(&results)),
    );
    world
}

/// Peak resident memory of the largest child this process has waited for, in MiB.
fn children_peak_rss_mib() -> u64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a complete rusage into the pointer it is given.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr());
        usage.assume_init()
    };
    u64::try_from(usage.ru_maxrss).unwrap_or(0) / 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_images_fail_one_by_one_and_the_rest_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let world = image_world().await;
    let env = vec![("SEARXNG_URL", world.url("/"))];
    let mut args = vec![
        "scan",
        "gallery",
        "--provider",
        "searxng",
        "--allow-private-addresses",
        "--max-image-mb",
        "2",
        "--format",
        "json",
    ];
    args.extend(hostile::FAST_FETCH);
    let started = Instant::now();
    let summary = hostile::json(&hostile::run(dir.path(), &args, &env).await);
    let took = started.elapsed();

    assert_eq!(summary["status"], "completed", "{summary}");
    assert_eq!(summary["candidates"], 16, "{summary}");
    assert_eq!(
        summary["new_images"], 8,
        "3 good + CMYK + 16-bit + GIF + 2 EXIF: {summary}"
    );
    assert_eq!(summary["failed"], BAD.len(), "{summary}");
    let failures = hostile::failures(dir.path(), &[]).await;
    assert_eq!(failures.len(), BAD.len(), "{failures:#?}");
    for (path, stage, words) in BAD {
        hostile::assert_failed(&failures, &world.url(path), stage, words);
    }
    let status = hostile::status(dir.path(), &[]).await;
    assert_eq!(
        (status["images"].as_u64(), status["sightings"].as_u64()),
        (Some(8), Some(8)),
        "{status}"
    );
    // The 5,000-frame GIF on a 3,000² canvas: first frame only (36 MB of
    // RGBA), not 5,000 of them; and no bomb allocated its claimed pixels.
    assert!(
        took < Duration::from_secs(60),
        "the scan took {took:?}: frames or bombs were decoded"
    );
    let peak = children_peak_rss_mib();
    assert!(
        peak < 1024,
        "peak RSS {peak} MiB: something allocated a bomb"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rescan_retries_failures_without_duplicating_good_images() {
    let dir = tempfile::tempdir().unwrap();
    let world = image_world().await;
    let env = vec![("SEARXNG_URL", world.url("/"))];
    let mut args = vec![
        "scan",
        "gallery",
        "--provider",
        "searxng",
        "--allow-private-addresses",
        "--max-image-mb",
        "2",
        "--format",
        "json",
    ];
    args.extend(hostile::FAST_FETCH);
    hostile::json(&hostile::run(dir.path(), &args, &env).await);
    let again = hostile::json(&hostile::run(dir.path(), &args, &env).await);
    assert_eq!(again["new_images"], 0, "{again}");
    assert_eq!(again["new_sightings"], 0, "{again}");
    let failures = hostile::failures(dir.path(), &[]).await;
    assert_eq!(
        failures.len(),
        BAD.len(),
        "one row per URL, not per attempt"
    );
    assert!(failures.iter().all(|f| f["attempts"] == 2), "{failures:#?}");
    assert_eq!(
        world.hits("/good/a.jpg"),
        1,
        "known URLs are not fetched again"
    );
}

/// A 5,000 × 5,000 RGBA PNG (100 MB decoded, ~300 MB at the peak of its
/// analysis), different for each `seed`.
fn large_rgba_png(seed: u8) -> Vec<u8> {
    let picture = image::RgbaImage::from_fn(5000, 5000, |x, y| {
        image::Rgba([
            (x / 7) as u8,
            (y / 5) as u8,
            seed ^ ((x + y) / 11) as u8,
            255,
        ])
    });
    let mut out = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Sub,
    );
    picture.write_with_encoder(encoder).unwrap();
    out
}

/// Runs the binary and returns its peak resident memory in MiB (the
/// kernel's high-water mark, read until it exits).
async fn peak_rss_mib(dir: &std::path::Path, args: &[&str]) -> u64 {
    let mut child = common::binary::command(dir, args, &[])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id().unwrap());
    let mut peak_kib = 0u64;
    let started = Instant::now();
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_file) {
            let hwm = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok());
            peak_kib = peak_kib.max(hwm.unwrap_or(0));
        }
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "provenance {args:?}: {status}");
            return peak_kib / 1024;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{args:?} hung"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Regression (issue 19): memory of concurrent decodes was unbounded — one
/// decode worker per core, each as large as its picture, so three large
/// PNGs in one run peaked at the sum of the three. Decodes now reserve what
/// the header says they need from `--decode-memory-mb`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_of_concurrent_decodes_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let pictures = dir.path().join("large");
    std::fs::create_dir(&pictures).unwrap();
    for seed in 0..3u8 {
        std::fs::write(
            pictures.join(format!("{seed}.png")),
            large_rgba_png(seed * 40),
        )
        .unwrap();
    }
    let run = |data: &'static str, budget: &'static str| {
        let pictures = pictures.to_str().unwrap().to_string();
        let dir = dir.path().to_path_buf();
        async move {
            let args = [
                "--data-dir",
                data,
                "index",
                &pictures,
                "--embedder",
                "none",
                "--decode-workers",
                "3",
                "--decode-memory-mb",
                budget,
            ];
            peak_rss_mib(&dir, &args).await
        }
    };
    // Each needs 100 MB × 3 + 8 MiB: within 320 MiB one runs at a time.
    let bounded = run("bounded", "320").await;
    let unbounded = run("unbounded", "100000").await;
    assert!(
        bounded < 400,
        "peak {bounded} MiB with a 320 MiB decode budget (unbounded: {unbounded} MiB)"
    );
    assert!(
        unbounded > bounded + 150,
        "three decodes at once should cost more: {unbounded} MiB against {bounded} MiB"
    );
}
