//! `provenance db migrate`, `db status` (with the recent scans and, on
//! PostgreSQL, the batches of queued ones) and `db failures`.

use std::io::Write;

use anyhow::Context;
use sqlx::PgPool;

use super::args::{DbCommand, VectorIndexArg};
use super::exit;
use crate::config::{Config, ConfigError, OutputFormat, StoreLocation};
use crate::queue::batches;
use crate::report::{failed_batches, recent_scans, render_failures, store_status, ScanLine};
use crate::store::{self, PostgresStore, Store, VectorIndex};

/// Scans `db status` lists.
const RECENT_SCANS: u32 = 10;

/// Runs a `db` subcommand.
pub async fn run(config: &Config, command: DbCommand) -> anyhow::Result<u8> {
    if let DbCommand::Index { vectors } = command {
        return choose_index(config, vectors).await;
    }
    let (store, pool) = open(config)
        .await
        .with_context(|| format!("cannot open the store at {}", config.store))?;
    let migrate = match command {
        DbCommand::Failures { limit, batches } => {
            return list_failures(&*store, pool.as_ref(), limit, batches, config.format).await
        }
        DbCommand::Migrate => true,
        DbCommand::Status | DbCommand::Index { .. } => false,
    };
    let status = store
        .status()
        .await
        .context("cannot read the store's status")?;
    let mut out = std::io::stdout().lock();
    if migrate {
        match config.format {
            OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&status)?)?,
            OutputFormat::Human => writeln!(
                out,
                "{} store at {} is at schema version {}",
                status.backend, status.location, status.schema_version
            )?,
        }
        return Ok(exit::SUCCESS);
    }
    let scans = scan_lines(&*store).await?;
    let index = match &pool {
        Some(pool) => Some(VectorIndex::of(pool).await?),
        None => None,
    };
    match config.format {
        OutputFormat::Json => {
            let mut json = serde_json::to_value(&status)?;
            if let Some(index) = index {
                json["vector_index"] = serde_json::to_value(index)?;
            }
            json["recent_scans"] = serde_json::to_value(&scans)?;
            writeln!(out, "{}", serde_json::to_string_pretty(&json)?)?
        }
        OutputFormat::Human => {
            out.write_all(store_status(&status).as_bytes())?;
            if let Some(index) = index {
                writeln!(out, "index:      HNSW over {}", index.name())?;
            }
            out.write_all(recent_scans(&scans).as_bytes())?;
        }
    }
    Ok(exit::SUCCESS)
}

/// `db index --vectors FORM`.
async fn choose_index(config: &Config, vectors: VectorIndexArg) -> anyhow::Result<u8> {
    let StoreLocation::Postgres(url) = &config.store else {
        return Err(ConfigError::Invalid(
            "db index is for the PostgreSQL store; the embedded store searches its vectors exactly, with no index to choose".into(),
        )
        .into());
    };
    let form = match vectors {
        VectorIndexArg::Vector => VectorIndex::Vector,
        VectorIndexArg::Halfvec => VectorIndex::Halfvec,
    };
    let store = PostgresStore::open(url)
        .await
        .with_context(|| format!("cannot open the store at {}", config.store))?;
    let started = std::time::Instant::now();
    store
        .set_vector_index(form)
        .await
        .context("cannot rebuild the vector index")?;
    let mut out = std::io::stdout().lock();
    match config.format {
        OutputFormat::Json => writeln!(
            out,
            "{}",
            serde_json::json!({"vector_index": form, "secs": started.elapsed().as_secs_f64()})
        )?,
        OutputFormat::Human => writeln!(
            out,
            "the vector index is now HNSW over {} ({:.1} s)",
            form.name(),
            started.elapsed().as_secs_f64()
        )?,
    }
    Ok(exit::SUCCESS)
}

/// The store, and its pool when it is PostgreSQL (for the queue's tables).
async fn open(config: &Config) -> anyhow::Result<(Box<dyn Store>, Option<PgPool>)> {
    Ok(match &config.store {
        StoreLocation::Postgres(url) => {
            let store = PostgresStore::open(url).await?;
            let pool = store.pool().clone();
            (Box::new(store), Some(pool))
        }
        StoreLocation::Sqlite(_) => (store::open(&config.store).await?, None),
    })
}

/// The recent scans, with the batches of queued ones.
async fn scan_lines(store: &dyn Store) -> anyhow::Result<Vec<ScanLine>> {
    let scans = store
        .scans(RECENT_SCANS)
        .await
        .context("cannot read the scans")?;
    let ids: Vec<_> = scans.iter().map(|s| s.id).collect();
    let progress = store
        .batch_progress(&ids)
        .await
        .context("cannot read the queued batches")?;
    Ok(ScanLine::join(scans, progress))
}

async fn list_failures(
    store: &dyn Store,
    pool: Option<&PgPool>,
    limit: u32,
    only_batches: bool,
    format: OutputFormat,
) -> anyhow::Result<u8> {
    let failed = match pool {
        Some(pool) => batches::failed(pool, limit)
            .await
            .context("cannot read the failed batches")?,
        None => Vec::new(),
    };
    let mut out = std::io::stdout().lock();
    if only_batches {
        match format {
            OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&failed)?)?,
            OutputFormat::Human => out.write_all(failed_batches(&failed).as_bytes())?,
        }
        return Ok(exit::SUCCESS);
    }
    let failures = store
        .failures(limit)
        .await
        .context("cannot read the failures")?;
    match format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&failures)?)?,
        OutputFormat::Human => {
            if !failed.is_empty() {
                out.write_all(failed_batches(&failed).as_bytes())?;
            }
            out.write_all(render_failures(&failures).as_bytes())?
        }
    }
    Ok(exit::SUCCESS)
}
