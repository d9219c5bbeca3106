//! A PostgreSQL server of the test's own, which the test may stop and start
//! again: initdb into a temporary directory and `pg_ctl` on a free loopback
//! port, from the binaries `scripts/with-postgres.sh` exports as
//! `PROVENANCE_PG_BIN` (run as the unprivileged user that script uses when
//! the tests run as root, since PostgreSQL refuses to run as root).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The unprivileged user of `scripts/with-postgres.sh`.
const PG_USER: &str = "provenance-pg";

/// A running private cluster; stopped (immediately) on drop.
pub struct OwnPostgres {
    bin: PathBuf,
    libs: PathBuf,
    dir: tempfile::TempDir,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

/// The server binaries, or `None` (skip) when none are available and none
/// are required.
pub fn pg_bin() -> Option<PathBuf> {
    match std::env::var("PROVENANCE_PG_BIN") {
        Ok(bin) if !bin.is_empty() => Some(PathBuf::from(bin)),
        _ if std::env::var("PROVENANCE_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
            panic!("PROVENANCE_REQUIRE_POSTGRES=1 but PROVENANCE_PG_BIN is not set: run the tests with scripts/test.sh")
        }
        _ => {
            eprintln!("note: PROVENANCE_PG_BIN is not set; skipping this PostgreSQL test (use scripts/test.sh)");
            None
        }
    }
}

fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

impl OwnPostgres {
    /// Initialises and starts a cluster; `None` to skip.
    pub fn start() -> Option<Self> {
        let bin = pg_bin()?;
        let libs = bin.join("../../libs");
        let dir = tempfile::Builder::new()
            .prefix("provenance-own-pg")
            .tempdir()
            .expect("tempdir");
        let server = Self {
            bin,
            libs,
            dir,
            port: free_port(),
        };
        std::fs::create_dir_all(server.dir.path().join("sock")).expect("mkdir");
        if running_as_root() {
            server.chown(server.dir.path());
        }
        server.pg(
            "initdb",
            &[
                "-D",
                &server.data().display().to_string(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
            ],
        );
        server.restart();
        Some(server)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn chown(&self, path: &Path) {
        let status = Command::new("chown")
            .args(["-R", PG_USER])
            .arg(path)
            .status()
            .expect("chown");
        assert!(status.success(), "chown {} to {PG_USER}", path.display());
        // The temporary directory is 0700 and owned by root: let the user in.
        let status = Command::new("chmod")
            .args(["755"])
            .arg(path)
            .status()
            .expect("chmod");
        assert!(status.success());
    }

    /// Runs one server program (as the unprivileged user when root).
    fn pg(&self, program: &str, args: &[&str]) -> bool {
        let exe = self.bin.join(program);
        let mut cmd = if running_as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", PG_USER, "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd
            .args(args)
            .env("LD_LIBRARY_PATH", &self.libs)
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", exe.display()));
        if !out.status.success() {
            eprintln!(
                "{program} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        out.status.success()
    }

    /// Starts the (stopped) server again on the same port and data.
    pub fn restart(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            self.port,
            self.dir.path().join("sock").display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        let data = self.data().display().to_string();
        let started = self.pg(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-w", "-t", "60", "-o", &options, "start",
            ],
        );
        assert!(started, "PostgreSQL did not start");
    }

    /// Stops the server at once, as a crash or an operator would.
    pub fn stop(&self) {
        let data = self.data().display().to_string();
        self.pg("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}
