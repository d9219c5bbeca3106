//! `provenance db migrate` and `provenance db status`.

use std::io::Write;

use anyhow::Context;

use super::args::DbCommand;
use super::exit;
use crate::config::{Config, OutputFormat};
use crate::report::{render_failures, store_status};
use crate::store::{self, Store};

/// Runs a `db` subcommand.
pub async fn run(config: &Config, command: DbCommand) -> anyhow::Result<u8> {
    let store = store::open(&config.store)
        .await
        .with_context(|| format!("cannot open the store at {}", config.store))?;
    let migrate = match command {
        DbCommand::Failures { limit } => return list_failures(&*store, limit, config.format).await,
        DbCommand::Migrate => true,
        DbCommand::Status => false,
    };
    let status = store
        .status()
        .await
        .context("cannot read the store's status")?;
    let mut out = std::io::stdout().lock();
    match config.format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&status)?)?,
        OutputFormat::Human if migrate => writeln!(
            out,
            "{} store at {} is at schema version {}",
            status.backend, status.location, status.schema_version
        )?,
        OutputFormat::Human => out.write_all(store_status(&status).as_bytes())?,
    }
    Ok(exit::SUCCESS)
}

async fn list_failures(store: &dyn Store, limit: u32, format: OutputFormat) -> anyhow::Result<u8> {
    let failures = store
        .failures(limit)
        .await
        .context("cannot read the failures")?;
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&failures)?)?,
        OutputFormat::Human => out.write_all(render_failures(&failures).as_bytes())?,
    }
    Ok(exit::SUCCESS)
}
