//! The command-line front end: parses arguments, validates them into a
//! `Config`, runs the command and maps the outcome to an exit code.
//! This is the only layer that uses `anyhow` and prints to the terminal.

pub mod args;
mod batch;
mod config_file;
mod db;
mod docs;
mod lookup;
mod scan;
mod serve;
mod settings;
mod setup;
mod trace;
mod watch;
mod worker;

use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, Parser};

use crate::config::{default_data_dir, Config, ConfigError, StoreLocation};
use args::{Cli, Command, GlobalArgs};

/// Exit codes (documented in the README).
pub mod exit {
    /// The command did what was asked.
    pub const SUCCESS: u8 = 0;
    /// The command failed (store unreachable, unreadable input, …).
    pub const FAILURE: u8 = 1;
    /// Bad usage or configuration (clap also uses 2).
    pub const USAGE: u8 = 2;
    /// Interrupted by Ctrl-C (128 + SIGINT); a rerun resumes.
    pub const INTERRUPTED: u8 = 130;
}

/// Entry point of the binary: loads `.env`, parses, runs, prints errors.
pub fn main() -> ExitCode {
    // `.env` is optional and never overrides the real environment.
    let _ = dotenvy::dotenv();
    // Then the config file fills what neither set (flags still win).
    if let Err(e) = config_file::apply(&config_file::known_variables(&Cli::command())) {
        eprintln!("error: {e}");
        return ExitCode::from(exit::USAGE);
    }
    let cli = Cli::parse();
    init_logging(&cli.global);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    let outcome = runtime.block_on(run(cli));
    // Do not wait for a model batch still running on a worker thread after
    // Ctrl-C: what matters has been stored or recorded already.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            let usage = err.chain().any(|cause| cause.is::<ConfigError>());
            ExitCode::from(if usage { exit::USAGE } else { exit::FAILURE })
        }
    }
}

fn init_logging(global: &GlobalArgs) {
    let level = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    // Only our own crate gets the chosen level; dependencies stay at warn
    // unless RUST_LOG says otherwise.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("warn,provenance={level}")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour_on_stderr())
        .with_target(false)
        .try_init();
}

/// Colour codes only for a person at a terminal: never in a pipe or a
/// file, never with `NO_COLOR` set (https://no-color.org).
fn colour_on_stderr() -> bool {
    use std::io::IsTerminal;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    std::io::stderr().is_terminal() && !no_color
}

/// Validates the shared settings into a `Config`.
pub fn config_from(global: &GlobalArgs) -> Result<Config, ConfigError> {
    let data_dir = match &global.data_dir {
        Some(dir) => dir.clone(),
        None => default_data_dir()?,
    };
    let store = StoreLocation::resolve(global.database_url.as_deref(), &data_dir)?;
    Ok(Config {
        store,
        data_dir,
        format: global.format,
    })
}

/// Runs a parsed command line; returns the exit code.
pub async fn run(cli: Cli) -> anyhow::Result<u8> {
    // Generated from the definitions alone: no configuration needed.
    match &cli.command {
        Command::Completions { shell } => return docs::completions(*shell),
        Command::Man => return docs::man(),
        _ => {}
    }
    let config = config_from(&cli.global).context("invalid configuration")?;
    tracing::debug!(store = %config.store, data_dir = %config.data_dir.display(), "configuration");
    let quiet = cli.global.quiet;
    match cli.command {
        Command::Db(command) => db::run(&config, command).await,
        Command::Scan(args) => scan::run_scan(&config, args, quiet).await,
        Command::Index(args) => scan::run_index(&config, args, quiet).await,
        Command::Match(args) => lookup::run_match(&config, args, quiet).await,
        Command::Search(args) => lookup::run_search(&config, args, quiet).await,
        Command::Trace(args) => trace::run_trace(&config, args, quiet).await,
        Command::Serve(args) => serve::run_serve(&config, args, quiet).await,
        Command::Watch(command) => watch::run_watch(&config, command, quiet).await,
        Command::Changes(args) => watch::run_changes(&config, args).await,
        Command::Worker(args) => worker::run_worker(&config, args, quiet).await,
        Command::Completions { .. } | Command::Man => Ok(exit::SUCCESS),
    }
}
