//! Scans of URL lists and folders, then `match`: hash-only matching,
//! models, and what `match` says about bad input.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_lists_and_hash_only_matching() {
    let dir = tempfile::tempdir().unwrap();
    let photos = photos();
    let world = poster_world(&photos).await;
    // A 70 % crop: no hash sees it; keypoint verification must.
    let a_image = image::load_from_memory(&photos.a).unwrap();
    let (w, h) = (a_image.width() * 7 / 10, a_image.height() * 7 / 10);
    world.put(
        "/img/a-crop.jpg",
        Served::ok("image/jpeg", jpeg(&a_image.crop_imm(20, 30, w, h), 90)),
    );
    let list = dir.path().join("postings.txt");
    std::fs::write(
        &list,
        format!(
            "# image, page\n{} {}\n{}\nnot a url\n{}\n",
            world.url("/img/a.jpg"),
            world.url("/news/festival.html"),
            world.url("/img/a-small.jpg"),
            world.url("/img/a-crop.jpg")
        ),
    )
    .unwrap();
    let args = [
        "scan",
        "--urls",
        list.to_str().unwrap(),
        "--embedder",
        "none",
        "--allow-private-addresses",
        "--format",
        "json",
    ];
    let summary = json(&provenance(dir.path(), &args, &[]).await);
    assert_eq!(
        (
            summary["candidates"].as_u64(),
            summary["new_images"].as_u64()
        ),
        (Some(3), Some(3))
    );
    assert_eq!(summary["embedded"], 0);

    let suspect = dir.path().join("suspect.jpg");
    std::fs::write(&suspect, &photos.a).unwrap();
    let report = json(
        &provenance(
            dir.path(),
            &[
                "match",
                suspect.to_str().unwrap(),
                "--format",
                "json",
                "--no-report",
            ],
            &[],
        )
        .await,
    );
    assert_eq!(report["mode"], "hash-only");
    let kinds: Vec<_> = report["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["exact_copy", "near_duplicate", "near_duplicate"]);
    let crop = &report["matches"][2];
    assert!(crop["verified_inliers"].as_u64().unwrap() >= 12, "{crop}");
    assert!(
        !dir.path().join("data/reports").exists(),
        "--no-report writes nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_reads_a_folder_once() {
    let dir = tempfile::tempdir().unwrap();
    let photos = photos();
    let folder = dir.path().join("pictures");
    std::fs::create_dir_all(folder.join("sub")).unwrap();
    std::fs::write(folder.join("a.jpg"), &photos.a).unwrap();
    std::fs::write(folder.join("sub/a-again.jpg"), &photos.a).unwrap();
    std::fs::write(folder.join("sub/b"), &photos.b).unwrap();
    std::fs::write(folder.join("notes.txt"), b"hello").unwrap();
    std::fs::write(folder.join("broken.jpg"), &photos.c[..1500]).unwrap();
    let model = tiny_model();
    let args = [
        "index",
        folder.to_str().unwrap(),
        "--model-dir",
        &model,
        "--format",
        "json",
    ];
    let first = json(&provenance(dir.path(), &args, &[]).await);
    assert_eq!(first["candidates"], 4);
    assert_eq!(
        (
            first["new_images"].as_u64(),
            first["embedded"].as_u64(),
            first["failed"].as_u64()
        ),
        (Some(2), Some(2), Some(1))
    );
    assert_eq!(first["new_sightings"], 3);
    let second = json(&provenance(dir.path(), &args, &[]).await);
    assert_eq!(
        (
            second["new_images"].as_u64(),
            second["new_sightings"].as_u64(),
            second["skipped"].as_u64()
        ),
        (Some(0), Some(0), Some(3))
    );
    let store = open_store(dir.path(), None).await;
    let a = store
        .image_by_sha256(&provenance::hash::sha256(&photos.a))
        .await
        .unwrap()
        .unwrap();
    let sightings = store.sightings(a).await.unwrap();
    assert_eq!(sightings.len(), 2);
    assert!(sightings
        .iter()
        .all(|s| s.image_url.starts_with("file://") && s.provider.as_deref() == Some("local")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_model_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("pictures");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("a.jpg"), photos().a).unwrap();
    let model = tiny_model();
    let first = json(
        &provenance(
            dir.path(),
            &[
                "index",
                folder.to_str().unwrap(),
                "--model-dir",
                &model,
                "--format",
                "json",
            ],
            &[],
        )
        .await,
    );
    assert_eq!(first["embedded"], 1);
    // The same weights under another name are another model identity.
    let other = dir.path().join("other-model");
    std::fs::create_dir_all(&other).unwrap();
    for file in ["config.json", "model.safetensors"] {
        std::fs::copy(Path::new(&model).join(file), other.join(file)).unwrap();
    }
    std::fs::write(folder.join("b.png"), photos().b).unwrap();
    let out = provenance(
        dir.path(),
        &[
            "index",
            folder.to_str().unwrap(),
            "--model-dir",
            other.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("this store holds vectors of") && err.contains("another store"),
        "{err}"
    );
    let store = open_store(dir.path(), None).await;
    let status = store.status().await.unwrap();
    assert_eq!(
        (status.images, status.scans),
        (1, 1),
        "nothing written by the refused run"
    );
    let suspect = dir.path().join("suspect.jpg");
    std::fs::write(&suspect, photos().a).unwrap();
    let out = provenance(
        dir.path(),
        &[
            "match",
            suspect.to_str().unwrap(),
            "--model-dir",
            other.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("this store holds vectors of"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn match_says_what_is_wrong_with_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let not_image = dir.path().join("notes.txt");
    std::fs::write(&not_image, b"hello").unwrap();
    let empty_store = provenance(
        dir.path(),
        &[
            "match",
            fixture("hash/coffee.jpg").to_str().unwrap(),
            "--embedder",
            "none",
        ],
        &[],
    )
    .await;
    assert_eq!(empty_store.status.code(), Some(1));
    assert!(
        stderr(&empty_store).contains("is empty: run `provenance scan`"),
        "{}",
        stderr(&empty_store)
    );
    let bad = provenance(
        dir.path(),
        &["match", not_image.to_str().unwrap(), "--embedder", "none"],
        &[],
    )
    .await;
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("is not an image provenance can read"),
        "{}",
        stderr(&bad)
    );
    let missing = provenance(
        dir.path(),
        &["match", "nope.jpg", "--embedder", "none"],
        &[],
    )
    .await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("cannot read nope.jpg"),
        "{}",
        stderr(&missing)
    );
    let top0 = provenance(
        dir.path(),
        &["match", not_image.to_str().unwrap(), "--top", "0"],
        &[],
    )
    .await;
    assert_eq!(top0.status.code(), Some(2));
    assert!(stderr(&top0).contains("--top must be at least 1"));
}

/// Regression: local input was read without a bound. `match /dev/zero`
/// grew to 2 GB and died, a FIFO blocked forever, a 1 GB file was read
/// whole before being refused, and `scan --urls /dev/zero` did the same.
#[tokio::test]
async fn local_input_is_read_with_a_bound_and_never_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    // A sparse 65 MiB file: over the 64 MiB limit without using the disk.
    let huge = dir.path().join("huge.jpg");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(65 * 1024 * 1024)
        .unwrap();
    let cases = [
        (
            vec!["match", "/dev/zero"],
            "is not a regular file (a device)",
        ),
        (
            vec!["match", fifo.to_str().unwrap()],
            "is not a regular file (a FIFO)",
        ),
        (vec!["match", huge.to_str().unwrap()], "larger than the"),
        (
            vec!["scan", "--urls", "/dev/zero"],
            "is not a regular file (a device)",
        ),
        (
            vec!["scan", "--urls", fifo.to_str().unwrap()],
            "is not a regular file (a FIFO)",
        ),
    ];
    for (mut args, expected) in cases {
        args.extend(["--embedder", "none"]);
        let started = std::time::Instant::now();
        let out = provenance(dir.path(), &args, &[]).await;
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{args:?} took {:?}",
            started.elapsed()
        );
    }
}

/// Issue 19 item 6: `search TEXT` (and `match`) on a store built with
/// `--model-dir` tried to download the default hub model. The store's
/// model is used; a local one it cannot guess is asked for in one sentence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_on_a_store_built_from_a_local_model_asks_for_that_model() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("pictures");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("a.jpg"), photos().a).unwrap();
    let model = tiny_model();
    let indexed = provenance(
        dir.path(),
        &["index", folder.to_str().unwrap(), "--model-dir", &model],
        &[],
    )
    .await;
    assert!(indexed.status.success(), "{}", stderr(&indexed));
    let suspect = dir.path().join("suspect.jpg");
    std::fs::write(&suspect, photos().a).unwrap();
    for args in [
        vec!["search", "a poster"],
        vec!["match", suspect.to_str().unwrap()],
    ] {
        let out = provenance(dir.path(), &args, &[]).await;
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("come from the local model local/tiny@") && err.contains("--model-dir"),
            "{err}"
        );
        assert!(!err.contains("huggingface"), "no download tried: {err}");
    }
}

/// Issue 19 item 2: `index` spoke in web words ("candidates", "fetched")
/// and, after a rerun where everything was already known, sent the user
/// to `db failures` where there was nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_speaks_of_files_and_points_at_failures_only_when_there_are_some() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("pictures");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("a.jpg"), photos().a).unwrap();
    std::fs::write(folder.join("b.png"), photos().b).unwrap();
    let args = ["index", folder.to_str().unwrap(), "--embedder", "none"];
    let first = provenance(dir.path(), &args, &[]).await;
    let text = stderr(&first);
    assert!(first.status.success(), "{text}");
    assert!(text.contains("2 files: 2 read"), "{text}");
    assert!(text.contains("stored 2 new pictures"), "{text}");
    assert!(
        !text.contains("candidates") && !text.contains("fetched"),
        "{text}"
    );
    let again = provenance(dir.path(), &args, &[]).await;
    let text = stderr(&again);
    assert!(
        text.contains("2 skipped (2 already indexed), 0 failed"),
        "{text}"
    );
    assert!(!text.contains("db failures"), "{text}");
    // A file that is not a picture is a failure worth pointing at.
    std::fs::write(folder.join("broken.jpg"), b"\xFF\xD8not a jpeg").unwrap();
    let third = provenance(dir.path(), &args, &[]).await;
    assert!(stderr(&third).contains("see `provenance db failures`"));
}

/// `match` of many pictures (issue 19 item 9): several files, a folder
/// walked by signature, `-` for paths on stdin; one report per picture, a
/// summary, JSON Lines; an unreadable picture is named, the others are
/// matched, and the exit code says one failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn match_of_many_pictures_reports_each_and_sums_up() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let indexed = fixture("hash");
    let index = [
        "index",
        indexed.to_str().unwrap(),
        "--embedder",
        "none",
        "-q",
    ];
    let out = provenance(dir.path(), &index, &[]).await;
    assert!(out.status.success(), "{}", stderr(&out));

    let suspects = dir.path().join("suspects");
    std::fs::create_dir_all(suspects.join("deeper")).unwrap();
    // A copy under a name without an extension (found by its first bytes),
    // a resized copy, a picture the store has nothing like, a broken file.
    std::fs::copy(fixture("hash/coffee.jpg"), suspects.join("deeper/download")).unwrap();
    let rocket = image::open(fixture("hash/rocket.jpg")).unwrap();
    std::fs::write(
        suspects.join("rocket-small.png"),
        png(&rocket.resize(
            rocket.width() / 2,
            rocket.height() / 2,
            image::imageops::Lanczos3,
        )),
    )
    .unwrap();
    let blank = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(300, 200, |x, _| {
        image::Rgb([(x % 256) as u8, 90, 200])
    }));
    std::fs::write(suspects.join("unrelated.png"), png(&blank)).unwrap();
    std::fs::write(suspects.join("broken.jpg"), b"\xff\xd8 not really").unwrap();
    std::fs::write(suspects.join("notes.txt"), b"not a picture").unwrap();

    let reports = dir.path().join("reports");
    let human = provenance(
        dir.path(),
        &[
            "match",
            suspects.to_str().unwrap(),
            "--embedder",
            "none",
            "--report-dir",
            reports.to_str().unwrap(),
            "--report-format",
            "json",
            "-q",
        ],
        &[],
    )
    .await;
    assert_eq!(human.status.code(), Some(1), "{}", stderr(&human));
    let text = common::binary::stdout(&human);
    assert!(
        text.contains("1 match for ") && text.contains("deeper/download"),
        "{text}"
    );
    assert!(
        text.ends_with(
            "4 pictures: 2 with copies, 0 with similar pictures only, 1 without matches, 1 unreadable\n"
        ),
        "{text}"
    );
    let errors = stderr(&human);
    assert!(
        errors.contains("broken.jpg is not an image provenance can read")
            && errors.contains("1 of 4 pictures could not be read"),
        "{errors}"
    );
    assert!(
        !text.contains("broken.jpg"),
        "errors stay on stderr: {text}"
    );
    let written = std::fs::read_dir(&reports).unwrap().count();
    assert_eq!(written, 3, "one report per readable picture");

    // The same pictures named on stdin, as JSON Lines.
    let mut child = common::binary::command(
        dir.path(),
        &[
            "match",
            "-",
            "--embedder",
            "none",
            "--no-report",
            "--format",
            "json",
        ],
        &[],
    );
    child
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = child.spawn().unwrap();
    let list = format!(
        "{}\n\n{}\n{}\n",
        suspects.join("rocket-small.png").display(),
        suspects.join("missing.jpg").display(),
        suspects.join("unrelated.png").display()
    );
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(list.as_bytes()).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = common::binary::stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(lines[0]["report"]["matches"][0]["kind"], "near_duplicate");
    assert!(lines[1]["error"].as_str().unwrap().contains("missing.jpg"));
    assert_eq!(lines[2]["report"]["matches"].as_array().unwrap().len(), 0);
    assert_eq!(
        lines[3]["summary"],
        serde_json::json!({"pictures": 3, "with_copies": 1, "similar_only": 0, "without_matches": 1, "unreadable": 1})
    );

    // `-` twice is a usage error; a folder without pictures is an error.
    let twice = provenance(dir.path(), &["match", "-", "-"], &[]).await;
    assert_eq!(twice.status.code(), Some(2), "{}", stderr(&twice));
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let none = provenance(dir.path(), &["match", empty.to_str().unwrap()], &[]).await;
    assert_eq!(none.status.code(), Some(1));
    assert!(
        stderr(&none).contains("held no image files"),
        "{}",
        stderr(&none)
    );
}

/// Issue 19 item 1: `match` results are on stdout (stderr only names the
/// report files), `-q` keeps them, and counts speak proper English.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn match_results_go_to_stdout_and_quiet_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let indexed = fixture("hash");
    let index = ["index", indexed.to_str().unwrap(), "--embedder", "none"];
    let out = provenance(dir.path(), &index, &[]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let coffee = fixture("hash/coffee.jpg");
    for quiet in [false, true] {
        let mut args = vec!["match", coffee.to_str().unwrap(), "--embedder", "none"];
        if quiet {
            args.push("-q");
        }
        let out = provenance(dir.path(), &args, &[]).await;
        assert!(out.status.success(), "{}", stderr(&out));
        let results = common::binary::stdout(&out);
        assert!(
            results.starts_with("1 match for ")
                && results.contains("1 exact copy, 0 near-duplicates")
                && results.contains("1 sighting "),
            "quiet {quiet}: {results}"
        );
        let said = stderr(&out);
        assert!(
            said.lines().all(|l| l.starts_with("report: ")),
            "quiet {quiet}: only the report files on stderr: {said}"
        );
    }
}
