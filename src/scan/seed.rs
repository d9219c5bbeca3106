//! The seed stage: candidates from the seed (a search, a reverse search, a
//! URL list, a folder), then, with `follow_pages`, the images of the pages
//! they were found on, merged so an image listed and shown on a page is
//! fetched once.

use std::path::PathBuf;
use std::sync::Arc;

use futures::{stream, StreamExt};
use tokio::sync::mpsc;
use url::Url;

use super::progress::Counter;
use super::{sources, stages, ScanError, Seed, StageContext};
use crate::model::{Setback, Stage};
use crate::scrape::{candidates_from_page, extract_images};
use crate::search::{dedupe, gather, normalize_url, ImageCandidate, ImageSearch, SearchQuery};

/// Seed stage: candidates from the seed, then (optionally) from the pages
/// they were found on.
pub(super) async fn produce_candidates(
    ctx: Arc<StageContext>,
    seed: Seed,
    tx: mpsc::Sender<ImageCandidate>,
) -> Result<(), ScanError> {
    let found = match seed {
        Seed::Folder(root) => return produce_folder(ctx, root, tx).await,
        seed => find(seed).await?,
    };
    ctx.progress.add(Counter::DroppedResults, found.dropped);
    let pages = ctx
        .options
        .follow_pages
        .then(|| page_urls(&found.candidates, found.pages, ctx.options.max_pages));
    // With pages to follow, their images are merged with the search's
    // before anything is fetched: an image both listed and shown on a page
    // is fetched once, with every page it was seen on.
    let candidates = match pages {
        Some(pages) => {
            sources::merge_candidates(found.candidates, follow_pages(&ctx, pages).await?)
        }
        None => found.candidates,
    };
    ctx.progress.set_total(candidates.len() as u64);
    emit(&ctx, &tx, candidates).await;
    Ok(())
}

/// What a seed found, before any page is followed.
#[derive(Debug, Default)]
pub struct Found {
    /// The pictures, merged by address.
    pub candidates: Vec<ImageCandidate>,
    /// Pages that showed the picture but gave no picture address (Lens
    /// exact matches): worth following too.
    pub pages: Vec<Url>,
    /// Results the providers gave that could not be used.
    pub dropped: u64,
}

/// Asks the seed's search, or takes its list. A folder has nothing to ask:
/// it is walked by the stage itself, so it finds nothing here.
pub async fn find(seed: Seed) -> Result<Found, ScanError> {
    Ok(match seed {
        Seed::Search { providers, query } => search_all(&providers, &query).await?,
        Seed::Lens {
            lens,
            image_url,
            max_results,
        } => {
            let matches = lens.search(&image_url, max_results).await?;
            Found {
                candidates: dedupe(matches.candidates),
                pages: matches.exact_pages,
                dropped: 0,
            }
        }
        Seed::TinEye {
            tineye,
            image,
            max_results,
        } => {
            let found = tineye.search(&image, max_results).await?;
            Found {
                candidates: dedupe(found.candidates),
                pages: Vec::new(),
                dropped: found.dropped as u64,
            }
        }
        Seed::Candidates(candidates) => Found {
            candidates,
            ..Found::default()
        },
        Seed::Batch { candidates, pages } => Found {
            candidates,
            pages,
            dropped: 0,
        },
        Seed::Folder(_) => Found::default(),
    })
}

/// Asks every provider at once and merges their answers. One provider
/// failing while another answers is logged and the scan goes on; when all
/// fail, the first failure stops the scan (with a single provider, its
/// error, as before).
async fn search_all(
    providers: &[Box<dyn ImageSearch>],
    query: &SearchQuery,
) -> Result<Found, ScanError> {
    let mut gathered = gather(providers, query).await;
    if gathered.all_failed() {
        return Err(gathered.failures.remove(0).error.into());
    }
    Ok(Found {
        candidates: gathered.images,
        pages: Vec::new(),
        dropped: gathered.dropped as u64,
    })
}

/// Sends candidates on; false once the next stage has gone.
async fn emit(
    ctx: &StageContext,
    tx: &mpsc::Sender<ImageCandidate>,
    candidates: Vec<ImageCandidate>,
) -> bool {
    for candidate in candidates {
        ctx.progress.bump(Counter::Candidates);
        if tx.send(candidate).await.is_err() {
            return false;
        }
    }
    true
}

async fn produce_folder(
    ctx: Arc<StageContext>,
    root: PathBuf,
    tx: mpsc::Sender<ImageCandidate>,
) -> Result<(), ScanError> {
    let walk_root = root.clone();
    let (files, errors) = tokio::task::spawn_blocking(move || sources::image_files(&walk_root))
        .await
        .map_err(|e| ScanError::Task(e.to_string()))?;
    for (path, error) in errors {
        let setback = Setback::failed(Stage::Read, error.to_string());
        stages::record_setback(&ctx, &path.display().to_string(), setback).await?;
    }
    ctx.progress.set_total(files.len() as u64);
    for (index, path) in files.iter().enumerate() {
        let rank = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let Some(candidate) = sources::local_candidate(path, rank) else {
            let setback = Setback::failed(Stage::Read, "not an absolute local path");
            stages::record_setback(&ctx, &path.display().to_string(), setback).await?;
            continue;
        };
        if !emit(&ctx, &tx, vec![candidate]).await {
            break;
        }
    }
    Ok(())
}

/// The distinct pages the candidates were seen on (best first), then the
/// extra pages, at most `max_pages`.
fn page_urls(candidates: &[ImageCandidate], extra: Vec<Url>, max_pages: usize) -> Vec<Url> {
    let mut seen = std::collections::HashSet::new();
    candidates
        .iter()
        .flat_map(|c| c.pages.iter().map(|p| p.page_url.clone()))
        .chain(extra)
        .filter(|url| seen.insert(normalize_url(url)))
        .take(max_pages)
        .collect()
}

/// Fetches each page (politely, through the fetcher) and takes its images.
async fn follow_pages(
    ctx: &Arc<StageContext>,
    pages: Vec<Url>,
) -> Result<Vec<ImageCandidate>, ScanError> {
    let fetched: Vec<_> = stream::iter(pages)
        .map(|url| async move { (ctx.fetcher.fetch_page(&url).await, url) })
        .buffer_unordered(ctx.options.fetch_workers.max(1))
        .collect()
        .await;
    let mut candidates = Vec::new();
    for (result, url) in fetched {
        match result {
            Ok(page) => {
                let extracted = tokio::task::spawn_blocking(move || {
                    let images = extract_images(&page.html, &page.final_url);
                    candidates_from_page(&images, &page.final_url)
                })
                .await
                .map_err(|e| ScanError::Task(e.to_string()))?;
                candidates.extend(extracted);
            }
            Err(e) => {
                // The page as a whole: a robots.txt refusal is a skip here
                // too, counted as one, never as a failure.
                let setback = if e.is_skip() {
                    Setback::skipped(Stage::Page, e.reason())
                } else {
                    if e.stage() == Stage::Ssrf {
                        ctx.progress.bump(Counter::RefusedPrivate);
                    }
                    Setback::failed(Stage::Page, e.reason())
                };
                stages::record_setback(ctx, url.as_str(), setback).await?;
            }
        }
    }
    Ok(dedupe(candidates))
}
