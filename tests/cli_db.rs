//! The real binary, run in a temporary directory: `db migrate`, `db status`
//! on both backends, and the configuration errors the user can hit.

mod common;

use std::process::Output;

use common::binary::stderr;

fn provenance(dir: &std::path::Path, args: &[&str], database_url: Option<&str>) -> Output {
    let env: Vec<(&str, String)> = database_url
        .map(|url| vec![("DATABASE_URL", url.to_string())])
        .unwrap_or_default();
    common::binary::run_blocking(dir, args, &env)
}

fn status_json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "stderr: {}", stderr(out));
    serde_json::from_slice(&out.stdout).expect("status is JSON")
}

#[test]
fn migrate_and_status_on_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    let out = provenance(dir.path(), &["db", "migrate"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.path().join("data/provenance.sqlite3").exists());
    assert!(String::from_utf8_lossy(&out.stdout).contains("schema version 6"));

    let status = status_json(&provenance(
        dir.path(),
        &["db", "status", "--format", "json"],
        None,
    ));
    assert_eq!(status["backend"], "sqlite");
    assert_eq!(status["schema_version"], 6);
    assert_eq!(status["images"], 0);
    assert_eq!(status["model"], serde_json::Value::Null);

    let human = provenance(dir.path(), &["db", "status"], None);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("backend:    sqlite") && text.contains("failures:   0"),
        "{text}"
    );
}

#[tokio::test]
async fn migrate_and_status_on_postgres() {
    let Some(url) = common::fresh_postgres_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = provenance(dir.path(), &["db", "migrate"], Some(&url));
    assert!(out.status.success(), "{}", stderr(&out));
    let status = status_json(&provenance(
        dir.path(),
        &["--format", "json", "db", "status"],
        Some(&url),
    ));
    assert_eq!(status["backend"], "postgres");
    assert_eq!(status["schema_version"], 6);
    assert_eq!(status["scans"], 0);
    assert_eq!(status["vector_index"], "vector");
    assert_eq!(status["recent_scans"], serde_json::json!([]));
    assert!(
        !dir.path().join("data/provenance.sqlite3").exists(),
        "postgres run must not create a sqlite file"
    );
    let out = provenance(
        dir.path(),
        &["db", "index", "--vectors", "halfvec"],
        Some(&url),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("now HNSW over halfvec"));
    let human = provenance(dir.path(), &["db", "status"], Some(&url));
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("index:      HNSW over halfvec"), "{text}");
    assert!(text.contains("recent scans: none yet"), "{text}");
}

#[test]
fn the_embedded_store_has_no_vector_index_to_choose() {
    let dir = tempfile::tempdir().unwrap();
    let out = provenance(dir.path(), &["db", "index", "--vectors", "halfvec"], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("searches its vectors exactly"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn malformed_database_url_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["not a url", "mysql://h/db", "postgres:///nohost"] {
        let out = provenance(dir.path(), &["db", "status"], Some(bad));
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("DATABASE_URL"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "one sentence: {err}");
    }
}

#[test]
fn unreachable_postgres_is_a_clear_failure_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = provenance(
        dir.path(),
        &["db", "status"],
        Some("postgres://u:s3cr3t-pw@127.0.0.1:1/db"),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("cannot connect to postgres at 127.0.0.1:1"),
        "{err}"
    );
    assert!(!err.contains("s3cr3t-pw"), "password leaked: {err}");
}

#[tokio::test]
async fn postgres_without_pgvector_is_refused_and_nothing_is_written() {
    let Some(admin) = common::postgres_admin_url() else {
        return;
    };
    let Ok(url) = std::env::var("PROVENANCE_TEST_NO_PGVECTOR_URL") else {
        // A user-supplied DATABASE_URL has pgvector; the no-pgvector server
        // only exists under scripts/with-postgres.sh.
        assert_ne!(
            std::env::var("PROVENANCE_REQUIRE_POSTGRES").as_deref(),
            Ok("1"),
            "{admin}: no no-pgvector server"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = provenance(dir.path(), &["db", "migrate"], Some(&url));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("has no pgvector extension"), "{err}");
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let tables: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(tables, 0, "nothing may be written half-way");
}

#[test]
fn unusable_data_dir_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), b"x").unwrap();
    let unusable = dir.path().join("file/sub");
    let out = common::binary::run_blocking(
        dir.path(),
        &["db", "migrate", "--data-dir", unusable.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("cannot use the data directory") && err.contains("--data-dir"),
        "{err}"
    );
}

#[test]
fn dotenv_is_read_but_the_environment_wins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "PROVENANCE_FORMAT=json\nDATABASE_URL=mysql://from-dotenv/db\n",
    )
    .unwrap();
    // .env supplies the format…
    let out = provenance(dir.path(), &["db", "status"], Some("sqlite:store.db"));
    let status = status_json(&out);
    // …but DATABASE_URL from the real environment overrides .env.
    assert_eq!(status["backend"], "sqlite");
    assert!(dir.path().join("store.db").exists());
    // The flag overrides both.
    let out = provenance(
        dir.path(),
        &["db", "status", "--format", "human"],
        Some("sqlite:store.db"),
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("backend:"));
}

#[test]
fn help_shows_examples_and_no_environment_values() {
    let dir = tempfile::tempdir().unwrap();
    let out = provenance(dir.path(), &["--help"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("provenance scan \"summer festival poster 2026\""),
        "{text}"
    );
    for sub in [
        "scan",
        "index",
        "match",
        "search",
        "trace",
        "serve",
        "completions",
        "man",
        "db",
    ] {
        let out = provenance(dir.path(), &[sub, "--help"], None);
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("Example"), "{sub}");
        // Regression (issue 19): `[env: PROVENANCE_DATA_DIR=]` showed a
        // stray `=` (and would show a variable's value when set).
        assert!(!help.contains("=]"), "{sub}: {help}");
    }
    // Issue 19 item 5: options grouped under headings.
    let out = provenance(dir.path(), &["scan", "--help"], None);
    let help = String::from_utf8_lossy(&out.stdout);
    let headings: Vec<&str> = help
        .lines()
        .filter(|l| l.ends_with(':') && !l.starts_with(' '))
        .collect();
    for heading in [
        "Searching:",
        "Pictures:",
        "Model:",
        "Fetching:",
        "Store and output:",
    ] {
        assert!(headings.contains(&heading), "{heading} in {headings:?}");
    }
    let fetching = help.find("\nFetching:").unwrap();
    let model = help.find("\nModel:").unwrap();
    let retries = help.find("--retries <N>").unwrap();
    assert!(
        retries > fetching && (fetching > model || retries < model),
        "--retries under Fetching"
    );
}

#[test]
fn completions_and_the_man_page_come_from_the_same_definitions() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "_provenance()"),
        ("zsh", "#compdef provenance"),
        ("fish", "complete -c provenance"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[provenance]"),
    ] {
        let out = provenance(dir.path(), &["completions", shell], None);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains(marker), "{shell}: {script}");
        for word in ["trace", "archive-max", "keyphrase", "openverse"] {
            assert!(script.contains(word), "{shell} completes {word}");
        }
    }
    let out = provenance(dir.path(), &["man"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.contains(".TH provenance 1"), "{page}");
    for command in ["scan", "match", "trace", "serve", "completions"] {
        assert!(page.contains(command), "the man page lists {command}");
    }
    let out = provenance(dir.path(), &["completions", "nushell"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("possible values: bash"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("data").exists(), "nothing was created");
}

#[test]
fn zero_counts_and_timeouts_are_refused_as_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let pictures = dir.path().join("pictures");
    std::fs::create_dir(&pictures).unwrap();
    let folder = pictures.to_str().unwrap();
    for (command, flag) in [
        (["scan", "poster"], "--max-results"),
        (["scan", "poster"], "--timeout"),
        (["scan", "poster"], "--read-timeout"),
        (["scan", "poster"], "--max-image-mb"),
        (["scan", "poster"], "--decode-workers"),
        (["index", folder], "--max-image-mb"),
        (["index", folder], "--decode-workers"),
        (["index", folder], "--decode-memory-mb"),
    ] {
        let args = [command[0], command[1], flag, "0"];
        let out = provenance(dir.path(), &args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(flag) && err.contains("must be at least 1"),
            "{args:?}: {err}"
        );
    }
    // Nothing was created by a refused command.
    assert!(!dir.path().join("data").exists());
}

#[test]
fn log_lines_carry_no_colour_codes_when_piped() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("urls.txt");
    std::fs::write(&list, "not a url\n").unwrap();
    let data = dir.path().join("data");
    let args = [
        "--data-dir",
        data.to_str().unwrap(),
        "-v",
        "scan",
        "--urls",
        list.to_str().unwrap(),
        "--embedder",
        "none",
    ];
    let out = provenance(dir.path(), &args, None);
    let text = stderr(&out);
    assert!(
        text.contains("urls.txt:1"),
        "the warning about the bad line: {text}"
    );
    assert!(
        !text.contains('\u{1b}'),
        "no ANSI escape in a pipe: {text:?}"
    );
}

#[test]
fn a_negative_min_similarity_is_a_value_not_a_flag() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let picture = common::photos::fixture("hash/coffee.jpg");
    let args = [
        "--data-dir",
        data.to_str().unwrap(),
        "match",
        picture.to_str().unwrap(),
        "--min-similarity",
        "-1",
        "--embedder",
        "none",
    ];
    let out = provenance(dir.path(), &args, None);
    let text = stderr(&out);
    // Parsed, validated, then refused for what it is: an empty store.
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("is empty"), "{text}");
}

/// Issue 19 defect: "Two commands opening a new store race" — on a new data
/// directory, concurrent commands lost with "database is locked" or
/// "table store_meta already exists". Creation and migration are now one
/// process at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_opening_a_new_store_at_once_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let runs: Vec<_> = (0..12)
        .map(|_| {
            let dir = dir.path().to_path_buf();
            tokio::spawn(async move {
                common::binary::run(&dir, &["db", "status", "--format", "json"], &[]).await
            })
        })
        .collect();
    for run in runs {
        let out = run.await.unwrap();
        assert_eq!(status_json(&out)["schema_version"], 6);
    }
}

/// Issue 19 item 8: a config file fills what neither the environment nor
/// a flag sets (flags > environment > config file > defaults), refuses a
/// key nobody reads, and takes a secret only from a file private to the
/// user.
#[test]
fn the_config_file_fills_settings_below_flags_and_environment() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let config_dir = dir.path().join("config/provenance");
    std::fs::create_dir_all(&config_dir).unwrap();
    let file = config_dir.join("config.toml");
    std::fs::write(&file, "format = \"json\"\n").unwrap();
    let is_json = |out: &Output| serde_json::from_slice::<serde_json::Value>(&out.stdout).is_ok();
    let human = || ("PROVENANCE_FORMAT", "human".to_string());
    let out = common::binary::run_blocking(dir.path(), &["db", "status"], &[]);
    assert!(is_json(&out), "the file sets the format: {}", stderr(&out));
    let out = common::binary::run_blocking(dir.path(), &["db", "status"], &[human()]);
    assert!(!is_json(&out), "the environment beats the file");
    let out = common::binary::run_blocking(
        dir.path(),
        &["--format", "json", "db", "status"],
        &[human()],
    );
    assert!(is_json(&out), "a flag beats the environment");

    // A typo is refused, naming the key.
    std::fs::write(&file, "modle_dir = \"/m\"\n").unwrap();
    let out = provenance(dir.path(), &["db", "status"], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("`modle_dir` is not a setting"),
        "{}",
        stderr(&out)
    );

    // A secret in a file others can read: refused, never printed.
    std::fs::write(&file, "serpapi_api_key = \"sk-from-file-123\"\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = provenance(dir.path(), &["db", "status"], None);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("chmod 600") && !err.contains("sk-from-file-123"),
        "{err}"
    );
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = provenance(dir.path(), &["db", "status"], None);
    assert!(out.status.success(), "{}", stderr(&out));
}
