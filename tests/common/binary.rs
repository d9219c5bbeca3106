//! Running the real binary (`CARGO_BIN_EXE_provenance`) the one way every
//! test does: in a directory of the test's own, data under `dir/data`, with
//! an environment cleared of everything the binary reads (every
//! `PROVENANCE_*` variable, `DATABASE_URL`, API keys, `RUST_LOG`, …), so a
//! developer's shell cannot change what a test sees, plus what the test
//! passes in `env`. The config directory is `dir/config`, so the user's
//! config file is never read. The web archive is off (`PROVENANCE_NO_ARCHIVE=1`)
//! unless a test turns it on with its own loopback archive: `match` would
//! otherwise ask web.archive.org.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

/// Variables outside the `PROVENANCE_` prefix that the binary reads.
const READ_BY_THE_BINARY: [&str; 8] = [
    "DATABASE_URL",
    "SERPAPI_API_KEY",
    "BRAVE_API_KEY",
    "SERPER_API_KEY",
    "SEARXNG_URL",
    "TINEYE_API_KEY",
    "RUST_LOG",
    "NO_COLOR",
];

/// Whether the binary would read `name` from the environment.
fn read_by_the_binary(name: &str) -> bool {
    name.starts_with("PROVENANCE_") || READ_BY_THE_BINARY.contains(&name)
}

/// Removes from `cmd` every variable of this process the binary would read.
pub fn clear_environment(cmd: &mut tokio::process::Command) {
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(read_by_the_binary) {
            cmd.env_remove(&name);
        }
    }
}

/// The binary with `args`, run in `dir` with its data in `dir/data` (unless
/// `args` name a `--data-dir`), a clean environment plus `env`; killed if
/// the test drops it.
pub fn command(dir: &Path, args: &[&str], env: &[(&str, String)]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_provenance"));
    cmd.current_dir(dir).kill_on_drop(true);
    if !args.contains(&"--data-dir") {
        cmd.arg("--data-dir").arg(dir.join("data"));
    }
    cmd.args(args);
    clear_environment(&mut cmd);
    cmd.env("PROVENANCE_NO_ARCHIVE", "1");
    // The user's config file is never read: the config directory is the
    // test's own (empty unless the test writes one).
    cmd.env("XDG_CONFIG_HOME", dir.join("config"));
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd
}

/// Runs the binary to its end (bounded by a generous watchdog).
pub async fn run(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Output {
    let child = command(dir, args, env).output();
    tokio::time::timeout(Duration::from_secs(120), child)
        .await
        .unwrap_or_else(|_| panic!("provenance {args:?} did not finish in 120 s"))
        .expect("run provenance")
}

/// [`run`], waiting on this thread (from a plain `#[test]` or inside a
/// runtime alike: the run gets a runtime of its own on another thread).
pub fn run_blocking(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Output {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime")
                    .block_on(run(dir, args, env))
            })
            .join()
            .expect("the run's thread")
    })
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Standard output as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Standard output parsed as JSON; the run must have succeeded.
pub fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        stderr(out)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn what_the_binary_reads_is_cleared_and_nothing_else() {
    assert!(read_by_the_binary("PROVENANCE_DATA_DIR"));
    assert!(read_by_the_binary("PROVENANCE_ANYTHING_ADDED_LATER"));
    assert!(read_by_the_binary("DATABASE_URL"));
    assert!(!read_by_the_binary("PATH"));
    assert!(!read_by_the_binary("HOME"));
}
