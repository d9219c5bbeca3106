//! Raw command-line arguments ("low args"): what clap parses from flags and
//! the environment. `cli::run` validates them into a `Config`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::OutputFormat;

const EXAMPLES: &str = "\
Examples:
  provenance scan \"summer festival poster 2026\"
  provenance match suspect.jpg
  provenance db status
  DATABASE_URL=postgres://user:pass@localhost/provenance provenance db migrate";

/// Find where an image lives on the web: where else it appears, where it came
/// from, and which copies are altered.
#[derive(Debug, Parser)]
#[command(name = "provenance", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// Settings every command shares.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Settings every command shares.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// PostgreSQL + pgvector URL (postgres://USER:PASSWORD@HOST:PORT/DB). Unset: the embedded SQLite store in the data directory.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// Directory for the embedded store, reports and caches [default: the platform data directory, e.g. ~/.local/share/provenance].
    #[arg(long, env = "PROVENANCE_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// More detail on stderr (-v, -vv, -vvv). Secrets are never printed.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Output on stdout: text for people or stable JSON for programs.
    #[arg(
        long,
        value_enum,
        default_value = "human",
        env = "PROVENANCE_FORMAT",
        global = true
    )]
    pub format: OutputFormat,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Search the web for a keyphrase, fetch the images found, hash, embed and store them.
    #[command(after_help = "Example:\n  provenance scan \"summer festival poster 2026\"")]
    Scan(ScanArgs),
    /// Find where an image appears among stored images and report its likely origins.
    #[command(
        name = "match",
        after_help = "Example:\n  provenance match suspect.jpg"
    )]
    Match(MatchArgs),
    /// Manage the store.
    #[command(
        subcommand,
        after_help = "Examples:\n  provenance db migrate\n  provenance db status --format json"
    )]
    Db(DbCommand),
}

/// Arguments of `scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Words to search images for, e.g. the title on a poster.
    pub keyphrase: String,
}

/// Arguments of `match`.
#[derive(Debug, Args)]
pub struct MatchArgs {
    /// The image to look for.
    pub image: PathBuf,
}

/// `db` subcommands.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Create the store or bring its schema up to date.
    #[command(after_help = "Example:\n  provenance db migrate")]
    Migrate,
    /// Show the backend, schema version, model and counts.
    #[command(after_help = "Example:\n  provenance db status --format json")]
    Status,
}
