//! `provenance match IMAGE` and `provenance search TEXT`: gather candidates
//! from the store (exact bytes, perceptual hashes, CLIP k-NN), rank them,
//! assemble the report and write it (HTML, JSON, Markdown). The ranking,
//! origin ordering and rendering are pure functions in `matching` and
//! `report`; this file only does the I/O around them.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::Arc;

use anyhow::Context;
use chrono::Utc;

use super::args::{EmbedderArg, MatchArgs, ModelArgs, ReportArgs, SearchArgs};
use super::{exit, setup};
use crate::config::{Config, ConfigError, OutputFormat};
use crate::decode::{decode, DecodeLimits};
use crate::embed::Embedder;
use crate::hash::{hash_distance, perceptual_hashes, sha256};
use crate::matching::{rank, Evidence, MatchCandidate, MatchKind, RankedMatch, Thresholds};
use crate::report::{
    assemble, jpeg_data_uri, render_json, thumbnail_data_uri, write_reports, MatchRecords, Mode,
    QueryInfo, Report, ReportContext,
};
use crate::store::{self, ImageId, ModelInfo, Store, StoreError};
use crate::verify::{self, QueryFeatures, VerifySettings};

/// Longest side of the query's thumbnail in the report.
const QUERY_THUMBNAIL_SIDE: u32 = 240;

/// Runs `match`.
pub async fn run_match(config: &Config, args: MatchArgs, quiet: bool) -> anyhow::Result<u8> {
    if args.top == 0 {
        return Err(ConfigError::Invalid("--top must be at least 1".into()).into());
    }
    let mut thresholds = Thresholds {
        min_verified_inliers: args.min_inliers,
        ..Thresholds::default()
    };
    if let Some(min) = args.min_similarity {
        thresholds = thresholds.with_min_similarity(min);
    }
    thresholds
        .validate()
        .map_err(|e| ConfigError::Invalid(e.to_string()))?;

    let bytes = std::fs::read(&args.image)
        .with_context(|| format!("cannot read {}", args.image.display()))?;
    let decoded = decode(&bytes, &DecodeLimits::default()).with_context(|| {
        format!(
            "{} is not an image provenance can read",
            args.image.display()
        )
    })?;
    let query_sha = sha256(&bytes);
    let query_hashes = perceptual_hashes(&decoded.image);

    let store = open_nonempty(config).await?;
    let (embedder, mode, mut notes) = choose_mode(&*store, &args.model, config, quiet).await?;

    let mut evidence: HashMap<ImageId, Evidence> = HashMap::new();
    if let Some(id) = store.image_by_sha256(&query_sha).await? {
        evidence.entry(id).or_default().same_bytes = true;
    }
    let all_hashes = store.all_perceptual_hashes().await?;
    let mut stored_hashes = HashMap::with_capacity(all_hashes.len());
    let mut by_distance = Vec::new();
    for (id, hashes) in all_hashes {
        if let Some(d) = hash_distance(&query_hashes, &hashes) {
            if d <= thresholds.probable_duplicate_max_hash_distance {
                evidence.entry(id).or_default().hash_distance = Some(d);
            }
            by_distance.push((d, id));
        }
        stored_hashes.insert(id, hashes);
    }
    by_distance.sort_unstable();
    let mut shortlist: Vec<ImageId> = by_distance
        .iter()
        .take(args.verify_top)
        .map(|&(_, id)| id)
        .collect();
    if query_hashes.is_empty() {
        notes.push("The query is too smooth for a perceptual hash; only exact bytes and embeddings were compared.".into());
    }
    if let Some(embedder) = &embedder {
        let image = decoded.image.clone();
        let model = embedder.clone();
        let vector = tokio::task::spawn_blocking(move || model.embed_images(&[image]))
            .await
            .context("embedding crashed")?
            .context("cannot embed the query image")?
            .pop()
            .context("the model returned no vector")?;
        let neighbors = store
            .nearest(&vector, (args.top * 4).max(50).max(args.verify_top))
            .await?;
        shortlist.extend(neighbors.iter().take(args.verify_top).map(|n| n.image_id));
        for neighbor in neighbors {
            let e = evidence.entry(neighbor.image_id).or_default();
            e.similarity = Some(neighbor.similarity);
            if e.hash_distance.is_none() {
                e.hash_distance = stored_hashes
                    .get(&neighbor.image_id)
                    .and_then(|h| hash_distance(&query_hashes, h));
            }
        }
    }
    if args.verify_top > 0 {
        verify_shortlist(&*store, &decoded.image, shortlist, &mut evidence).await?;
    }
    let candidates = evidence
        .into_iter()
        .map(|(image_id, evidence)| MatchCandidate { image_id, evidence })
        .collect();
    let ranked = rank(candidates, &thresholds, args.top);
    let query = QueryInfo {
        label: args.image.display().to_string(),
        sha256: Some(hex::encode(query_sha)),
        width: Some(decoded.width),
        height: Some(decoded.height),
        thumbnail_data_uri: thumbnail_data_uri(&decoded.image, QUERY_THUMBNAIL_SIDE).ok(),
    };
    let model = embedder.as_ref().map(|e| e.model().clone());
    let report = build_report(&*store, query, mode, model, thresholds, notes, &ranked).await?;
    deliver(config, &report, &args.report)
}

/// Compares the query's keypoints with those of each shortlisted image and
/// records the agreeing matches: this is what finds crops, rotations and
/// framed copies that hashes miss and embeddings only call similar.
async fn verify_shortlist(
    store: &dyn Store,
    query: &image::DynamicImage,
    mut shortlist: Vec<ImageId>,
    evidence: &mut HashMap<ImageId, Evidence>,
) -> anyhow::Result<()> {
    shortlist.sort_unstable();
    shortlist.dedup();
    let mut stored = Vec::with_capacity(shortlist.len());
    for id in shortlist {
        if let Some(bytes) = store.features(id, verify::FEATURE_KIND).await? {
            stored.push((id, bytes));
        }
    }
    let query = query.clone();
    let inliers = tokio::task::spawn_blocking(move || {
        let settings = VerifySettings::default();
        let query = QueryFeatures::new(&query, &settings);
        stored
            .into_iter()
            .filter_map(|(id, bytes)| {
                let features = verify::decode(&bytes).ok()?;
                Some((id, verify::verify(&query, &features, &settings).inliers))
            })
            .collect::<Vec<_>>()
    })
    .await
    .context("keypoint verification crashed")?;
    for (id, n) in inliers {
        evidence.entry(id).or_default().verified_inliers = Some(n as u32);
    }
    Ok(())
}

/// Runs `search`.
pub async fn run_search(config: &Config, args: SearchArgs, quiet: bool) -> anyhow::Result<u8> {
    if args.top == 0 {
        return Err(ConfigError::Invalid("--top must be at least 1".into()).into());
    }
    if args.model.embedder == EmbedderArg::None {
        return Err(ConfigError::Invalid(
            "text search needs the CLIP model; drop --embedder none".into(),
        )
        .into());
    }
    let store = open_nonempty(config).await?;
    let (embedder, _, notes) = choose_mode(&*store, &args.model, config, quiet).await?;
    let Some(embedder) = embedder else {
        anyhow::bail!("this store holds no vectors (it was built with --embedder none); text search needs a store built with CLIP");
    };
    let text = args.text.clone();
    let model = embedder.clone();
    let vector = tokio::task::spawn_blocking(move || model.embed_texts(&[text.as_str()]))
        .await
        .context("embedding crashed")?
        .context("cannot embed the text")?
        .pop()
        .context("the model returned no vector")?;
    let ranked: Vec<RankedMatch> = store
        .nearest(&vector, args.top)
        .await?
        .into_iter()
        .filter(|n| n.similarity >= args.min_similarity)
        .map(|n| RankedMatch {
            image_id: n.image_id,
            kind: MatchKind::Similar,
            evidence: Evidence {
                similarity: Some(n.similarity),
                ..Evidence::default()
            },
        })
        .collect();
    let query = QueryInfo {
        label: args.text.clone(),
        sha256: None,
        width: None,
        height: None,
        thumbnail_data_uri: None,
    };
    let thresholds = Thresholds::default().with_min_similarity(args.min_similarity);
    let model = Some(embedder.model().clone());
    let report = build_report(
        &*store,
        query,
        Mode::Text,
        model,
        thresholds,
        notes,
        &ranked,
    )
    .await?;
    deliver(config, &report, &args.report)
}

async fn open_nonempty(config: &Config) -> anyhow::Result<Box<dyn Store>> {
    let store = store::open(&config.store)
        .await
        .with_context(|| format!("cannot open the store at {}", config.store))?;
    if store.status().await?.images == 0 {
        anyhow::bail!(
            "the store at {} is empty: run `provenance scan` or `provenance index` first",
            config.store
        );
    }
    Ok(store)
}

/// CLIP + hashes when the store has vectors and the embedder is wanted;
/// hashes only otherwise. A different model than the store's is an error.
async fn choose_mode(
    store: &dyn Store,
    model_args: &ModelArgs,
    config: &Config,
    quiet: bool,
) -> anyhow::Result<(Option<Arc<dyn Embedder>>, Mode, Vec<String>)> {
    let stored: Option<ModelInfo> = store.model().await?;
    if model_args.embedder == EmbedderArg::None || stored.is_none() {
        let why = if stored.is_none() {
            "The store holds no vectors (built with --embedder none): matches were found by exact bytes and perceptual hashes only."
        } else {
            "--embedder none: matches were found by exact bytes and perceptual hashes only."
        };
        return Ok((None, Mode::HashOnly, vec![why.to_string()]));
    }
    let embedder = setup::embedder(model_args, &config.data_dir, quiet)
        .await?
        .context("no embedder was loaded")?;
    if let Some(stored) = stored.filter(|s| s != embedder.model()) {
        return Err(StoreError::ModelMismatch {
            stored,
            current: embedder.model().clone(),
        }
        .into());
    }
    Ok((Some(embedder), Mode::ClipHash, Vec::new()))
}

async fn build_report(
    store: &dyn Store,
    query: QueryInfo,
    mode: Mode,
    model: Option<ModelInfo>,
    thresholds: Thresholds,
    notes: Vec<String>,
    ranked: &[RankedMatch],
) -> anyhow::Result<Report> {
    let mut records = BTreeMap::new();
    for m in ranked {
        let Some(image) = store.image(m.image_id).await? else {
            continue;
        };
        let sightings = store.sightings(m.image_id).await?;
        let thumbnail_data_uri = store
            .thumbnail(m.image_id)
            .await?
            .map(|jpeg| jpeg_data_uri(&jpeg));
        records.insert(
            m.image_id,
            MatchRecords {
                image,
                sightings,
                thumbnail_data_uri,
            },
        );
    }
    let context = ReportContext {
        generated_at: Utc::now(),
        query,
        mode,
        model,
        thresholds,
        notes,
    };
    Ok(assemble(context, ranked, &records))
}

/// Writes the report files and prints: JSON on stdout, or a short summary
/// and the file paths on stderr.
fn deliver(config: &Config, report: &Report, args: &ReportArgs) -> anyhow::Result<u8> {
    let paths = if args.no_report {
        Vec::new()
    } else {
        let dir = args
            .report_dir
            .clone()
            .unwrap_or_else(|| config.data_dir.join("reports"));
        write_reports(&dir, report, &args.report_format)
            .with_context(|| format!("cannot write the reports in {}", dir.display()))?
    };
    match config.format {
        OutputFormat::Json => writeln!(std::io::stdout().lock(), "{}", render_json(report))?,
        OutputFormat::Human => eprint!("{}", render_overview(report)),
    }
    for path in paths {
        eprintln!("report: {}", path.display());
    }
    Ok(exit::SUCCESS)
}

/// A few lines for people: how many matches of each kind and the best ones.
pub fn render_overview(report: &Report) -> String {
    let count = |kind: MatchKind| report.matches.iter().filter(|m| m.kind == kind).count();
    let mut text = format!(
        "{} matches for {}: {} exact copies, {} near-duplicates, {} similar\n",
        report.matches.len(),
        report.query.label,
        count(MatchKind::ExactCopy),
        count(MatchKind::NearDuplicate),
        count(MatchKind::Similar),
    );
    for m in report.matches.iter().take(10) {
        let first = m.sightings.first();
        let place = first
            .map(|s| s.page_url.clone().unwrap_or_else(|| s.image_url.clone()))
            .unwrap_or_default();
        text.push_str(&format!(
            "  {:>2}. {:<15} {}x{}  {} sighting(s)  {}\n",
            m.rank,
            m.kind.label(),
            m.image.width,
            m.image.height,
            m.sightings.len(),
            place
        ));
    }
    for claim in report.origins.iter().take(3) {
        let place = claim
            .page_url
            .as_deref()
            .or(claim.image_url.as_deref())
            .unwrap_or("?");
        text.push_str(&format!(
            "  origin candidate: {place}: {}\n",
            claim.reasons.join("; ")
        ));
    }
    text
}
