//! `copy_eval photos DIR`: the photo set of `scripts/build_copy_eval_photos.sh`
//! through the product's own path. Every picture of `DIR/index` is analysed
//! as the scan does and stored in a real embedded store (`DIR/store/`,
//! reused between runs), then every query and negative goes through
//! `lookup::find_image` exactly as `provenance match` runs it, hash-only.
//! Prints recall@1 per edit, label precision, negatives called copies and
//! match latency, as Markdown on stdout.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chrono::Utc;
use provenance::decode::DecodeLimits;
use provenance::lookup::{self, LookupOptions, MatchIndex, QueryPicture};
use provenance::model::{NewImage, NewSighting};
use provenance::scan::analyse::analyse;
use provenance::store::{SqliteStore, Store};

use crate::eval::parallel;

/// What one query came to.
struct Outcome {
    edit: String,
    /// The expected picture's sha256 (hex); `None` for a negative.
    expected: Option<String>,
    /// The first match's sha256 and whether it was labelled the same picture.
    first: Option<(String, bool)>,
    /// Whether the expected picture is anywhere among the matches.
    anywhere: bool,
    /// Pictures labelled the same picture that are not the expected one.
    wrong_labels: usize,
    /// Pictures labelled the same picture.
    labels: usize,
    took: Duration,
}

/// Runs the evaluation; `copy_index` off measures the shortlists without it.
pub fn run(dir: &Path, verify_top: usize, copy_index: bool, edits: &[String]) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let store = SqliteStore::open(&dir.join("store/provenance.sqlite3")).await?;
        let shas = ingest(&store, dir).await?;
        let index = MatchIndex::default();
        index.index_missing(&store, &|_| {}).await?;
        index.refresh(&store).await?;
        let lengths = index.list_lengths();
        let total: usize = lengths.iter().sum();
        let at = |q: f64| lengths[((lengths.len() - 1) as f64 * q) as usize];
        let mut cumulative = 0;
        let share_in_top_1pc = {
            for l in lengths.iter().rev().take(lengths.len() / 100) {
                cumulative += l;
            }
            cumulative as f64 / total as f64
        };
        eprintln!(
            "copy index: {} pictures, {total} postings; list length mean {:.1}, p50 {}, p99 {}, max {}; top 1 % of lists hold {:.1} % of postings; empty lists {}",
            index.len(),
            total as f64 / lengths.len() as f64,
            at(0.5),
            at(0.99),
            at(1.0),
            100.0 * share_in_top_1pc,
            lengths.iter().filter(|&&l| l == 0).count()
        );
        let env = |name: &str, default: usize| {
            std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
        };
        let defaults = provenance::copy_index::SearchSettings::default();
        let options = LookupOptions {
            verify_top,
            copy_index,
            copy_search: provenance::copy_index::SearchSettings {
                max_postings: env("MAX_POSTINGS", defaults.max_postings),
                stop_factor: env("STOP_FACTOR", defaults.stop_factor as usize) as u32,
                ..defaults
            },
            ..LookupOptions::default()
        };
        let manifest = std::fs::read_to_string(dir.join("manifest.tsv"))?;
        let mut rows: Vec<(String, String, Option<String>)> = manifest
            .lines()
            .skip(1)
            .filter_map(|l| {
                let mut f = l.split('\t');
                let (query, edit, expected) = (f.next()?, f.next()?, f.next()?);
                let expected = match expected {
                    "-" => None,
                    name => Some(shas.get(name)?.clone()),
                };
                Some((query.to_owned(), edit.to_owned(), expected))
            })
            .collect();
        rows.retain(|(query, edit, _)| {
            edits.is_empty() || edits.iter().any(|e| e == edit || (e == "negative" && query.starts_with("negatives/")))
        });
        rows.sort();
        let mut outcomes = Vec::with_capacity(rows.len());
        for (i, (query, edit, expected)) in rows.iter().enumerate() {
            let bytes = std::fs::read(dir.join(query)).with_context(|| query.clone())?;
            let started = Instant::now();
            let picture = QueryPicture::decode(query.as_str(), &bytes, &DecodeLimits::default())?;
            let report = lookup::find_image(&store, None, &index, &picture, &options).await?;
            let took = started.elapsed();
            let same: Vec<&str> = report
                .matches
                .iter()
                .filter(|m| m.kind.is_same_picture())
                .map(|m| m.image.sha256.as_str())
                .collect();
            let is_expected = |sha: &str| expected.as_deref() == Some(sha);
            if let Some(m) = report.matches.iter().find(|m| is_expected(&m.image.sha256)) {
                let near = report
                    .matches
                    .iter()
                    .filter(|m| m.hash_distance.is_some_and(|d| d <= 8))
                    .count();
                eprintln!(
                    "hit: {edit} {:?} distance {:?} inliers {:?} within8 {near}",
                    m.kind, m.hash_distance, m.verified_inliers
                );
            }
            for m in report.matches.iter().filter(|m| m.kind.is_same_picture()) {
                if !is_expected(&m.image.sha256) {
                    eprintln!(
                        "wrong label: {query} -> image {} ({}x{}): distance {:?}, inliers {:?}",
                        m.image.id,
                        m.image.width,
                        m.image.height,
                        m.hash_distance,
                        m.verified_inliers
                    );
                }
            }
            if let Some(expected) = expected.as_deref() {
                if !report
                    .matches
                    .first()
                    .is_some_and(|m| m.image.sha256 == expected && m.kind.is_same_picture())
                {
                    diagnose(&store, &index, &picture, expected, query).await?;
                }
            }
            outcomes.push(Outcome {
                edit: if expected.is_some() {
                    edit.clone()
                } else {
                    format!("negative ({edit})")
                },
                expected: expected.clone(),
                first: report
                    .matches
                    .first()
                    .map(|m| (m.image.sha256.clone(), m.kind.is_same_picture())),
                anywhere: report.matches.iter().any(|m| is_expected(&m.image.sha256)),
                wrong_labels: same.iter().filter(|s| !is_expected(s)).count(),
                labels: same.len(),
                took,
            });
            if (i + 1) % 100 == 0 {
                eprintln!("{} of {} queries", i + 1, rows.len());
            }
        }
        print(&outcomes, verify_top, copy_index, store_size(dir));
        Ok(())
    })
}

/// Why a copy was missed: where the copy index ranked its original, and
/// how many keypoints agree with it.
async fn diagnose(
    store: &SqliteStore,
    index: &MatchIndex,
    picture: &QueryPicture,
    expected: &str,
    query: &str,
) -> Result<()> {
    let mut sha = [0u8; 32];
    hex::decode_to_slice(expected, &mut sha)?;
    let id = store
        .image_by_sha256(&sha)
        .await?
        .context("expected picture stored")?;
    let settings = provenance::copy_index::SearchSettings {
        candidates: 1000,
        min_votes: 0,
        ..Default::default()
    };
    let found = index.candidates(picture.terms(), settings).await?;
    let rank = found.iter().position(|c| c.image_id == id);
    let votes = rank.map(|r| found[r].votes);
    let top = found.first().map(|c| (c.image_id, c.votes));
    let stored = store
        .features(id, provenance::verify::FEATURE_KIND)
        .await?
        .context("features stored")?;
    let features = provenance::verify::decode(&stored)?;
    let v = provenance::verify::verify(&picture.features, &features, &Default::default());
    eprintln!(
        "miss: {query}: index rank {rank:?} votes {votes:?} (top {top:?}), inliers {} of {} matches, query keypoints {}",
        v.inliers,
        v.matches,
        picture.features.plain.keypoints.len()
    );
    Ok(())
}

/// Stores every picture of `DIR/index` not stored yet; returns each index
/// file's sha256 (hex) by its manifest name (`index/p0001.jpg`).
async fn ingest(store: &SqliteStore, dir: &Path) -> Result<HashMap<String, String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("index"))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    let mut shas = HashMap::new();
    let mut missing = Vec::new();
    for name in &names {
        let bytes = std::fs::read(dir.join("index").join(name))?;
        let sha = provenance::hash::sha256(&bytes);
        shas.insert(format!("index/{name}"), hex::encode(sha));
        if store.image_by_sha256(&sha).await?.is_none() {
            missing.push(name.clone());
        }
    }
    if missing.is_empty() {
        return Ok(shas);
    }
    eprintln!("analysing {} pictures…", missing.len());
    let started = Instant::now();
    let analysed = parallel(&missing, |name| {
        let bytes = std::fs::read(dir.join("index").join(name))?;
        let a = analyse(&bytes, &DecodeLimits::default(), None)?;
        Ok((
            name.clone(),
            bytes.len(),
            provenance::hash::sha256(&bytes),
            a,
        ))
    })?;
    for (name, size, sha, a) in analysed {
        let id = store
            .upsert_image(&NewImage {
                sha256: sha,
                sha1: None,
                perceptual_hashes: a.hashes,
                width: a.width,
                height: a.height,
                format: a.format,
                byte_size: size as u64,
                exif: a.exif,
                embedded: None,
                thumbnail: a.thumbnail,
                features: a.features,
                seen_at: Utc::now(),
            })
            .await?
            .id;
        store
            .upsert_sighting(&NewSighting {
                image_id: id,
                image_url: format!("file:///index/{name}"),
                seen_at: Utc::now(),
                ..NewSighting::default()
            })
            .await?;
    }
    eprintln!("stored in {:.1?}", started.elapsed());
    Ok(shas)
}

/// Bytes of the store's file (and its WAL).
fn store_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir.join("store"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn print(outcomes: &[Outcome], verify_top: usize, copy_index: bool, store_bytes: u64) {
    println!(
        "## Photo set, hash-only, `--verify-top {verify_top}`, copy index {}\n",
        if copy_index { "on" } else { "off" }
    );
    println!("| edit | queries | recall@1 | found at all | wrong same-picture labels | p50 ms | p95 ms |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let mut by_edit: BTreeMap<&str, Vec<&Outcome>> = BTreeMap::new();
    for o in outcomes {
        by_edit.entry(o.edit.as_str()).or_default().push(o);
    }
    let row = |name: &str, group: &[&Outcome]| {
        let n = group.len();
        let hits = group.iter().filter(|o| recalled(o)).count();
        let anywhere = group.iter().filter(|o| o.anywhere).count();
        let wrong: usize = group.iter().map(|o| o.wrong_labels).sum();
        let (p50, p95) = percentiles(group);
        let share = |k: usize| {
            if group[0].expected.is_some() {
                format!("{:.3}", k as f64 / n as f64)
            } else {
                "–".into()
            }
        };
        println!(
            "| {name} | {n} | {} | {} | {wrong} | {p50:.0} | {p95:.0} |",
            share(hits),
            share(anywhere)
        );
    };
    for (edit, group) in &by_edit {
        row(edit, group);
    }
    let positives: Vec<&Outcome> = outcomes.iter().filter(|o| o.expected.is_some()).collect();
    let negatives: Vec<&Outcome> = outcomes.iter().filter(|o| o.expected.is_none()).collect();
    row("**all copies**", &positives);
    let labels: usize = positives.iter().map(|o| o.labels).sum();
    let wrong: usize = outcomes.iter().map(|o| o.wrong_labels).sum();
    let negatives_called = negatives.iter().filter(|o| o.labels > 0).count();
    println!(
        "\nSame-picture labels: {labels} on index, {wrong} wrong in all (label precision {:.4}); negatives called a copy: {negatives_called} of {}. Store: {:.1} MB.",
        (labels - wrong.min(labels)) as f64 / labels.max(1) as f64,
        negatives.len(),
        store_bytes as f64 / 1e6
    );
}

/// The first match is the expected picture, labelled the same picture.
fn recalled(o: &Outcome) -> bool {
    matches!((&o.first, &o.expected), (Some((sha, true)), Some(expected)) if sha == expected)
}

fn percentiles(group: &[&Outcome]) -> (f64, f64) {
    let mut ms: Vec<f64> = group.iter().map(|o| o.took.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.95))
}
