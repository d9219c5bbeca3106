//! `provenance db migrate` and `provenance db status`.

use std::io::Write;

use anyhow::Context;

use super::args::DbCommand;
use super::exit;
use crate::config::{Config, OutputFormat};
use crate::store::{self, FailureRecord, Store, StoreStatus};

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
        OutputFormat::Human => out.write_all(render_status(&status).as_bytes())?,
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

/// Renders failures for people, newest first.
pub fn render_failures(failures: &[FailureRecord]) -> String {
    if failures.is_empty() {
        return "no failures recorded\n".into();
    }
    failures
        .iter()
        .map(|f| {
            format!(
                "{}  {:<12} {}×  {}\n    {}\n",
                f.last_at.format("%Y-%m-%d %H:%M:%S"),
                f.stage,
                f.attempts,
                f.url,
                f.reason
            )
        })
        .collect()
}

/// Renders `db status` for people.
pub fn render_status(s: &StoreStatus) -> String {
    let model = s
        .model
        .as_ref()
        .map_or_else(|| "none yet".to_string(), ToString::to_string);
    format!(
        "backend:    {}\nlocation:   {}\nschema:     version {}\nmodel:      {}\nimages:     {} ({} embedded)\nsightings:  {}\nscans:      {}\nfailures:   {}\n",
        s.backend, s.location, s.schema_version, model, s.images, s.embedded, s.sightings, s.scans, s.failures
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Backend, ModelInfo};

    #[test]
    fn status_renders_every_count() {
        let status = StoreStatus {
            backend: Backend::Sqlite,
            location: "/d/provenance.sqlite3".into(),
            schema_version: 1,
            model: Some(ModelInfo {
                id: "m".into(),
                dim: 512,
            }),
            images: 3,
            embedded: 2,
            sightings: 7,
            scans: 1,
            failures: 4,
        };
        assert_eq!(
            render_status(&status),
            "backend:    sqlite\nlocation:   /d/provenance.sqlite3\nschema:     version 1\nmodel:      m (512-d)\nimages:     3 (2 embedded)\nsightings:  7\nscans:      1\nfailures:   4\n"
        );
    }
}
