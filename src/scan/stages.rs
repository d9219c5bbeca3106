//! The per-item work of each pipeline stage. `pipeline::run_scan` wires these
//! into tasks joined by bounded channels; each function here handles one
//! item (or one batch) and records what happened: a failure is a stored row
//! and a counter, never an abort. Only store errors abort a scan.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use url::Url;

use super::analyse::analyse;
use super::progress::Counter;
use super::{ScanError, StageContext};
use crate::fetch::FetchedImage;
use crate::local::{read_capped, LocalFileError};
use crate::model::{ImageId, NewFailure, NewImage, NewSighting, Outcome, Setback, Stage};
use crate::search::ImageCandidate;

/// A candidate whose bytes are in hand.
pub struct Fetched {
    /// What was looked for.
    pub candidate: ImageCandidate,
    /// What came back.
    pub image: FetchedImage,
}

/// A candidate whose bytes are the same as those of another candidate
/// already being decoded: it only needs its sightings recorded once the
/// first one is stored.
pub struct Waiting {
    candidate: ImageCandidate,
    last_modified: Option<DateTime<Utc>>,
    etag: Option<String>,
}

/// A candidate decoded and hashed, ready to embed and store. The full
/// picture is dropped here: only the model input travels on.
pub struct Prepared {
    /// What was looked for.
    pub candidate: ImageCandidate,
    /// The image row to write.
    pub image: NewImage,
    /// HTTP `Last-Modified` of the image response.
    pub last_modified: Option<DateTime<Utc>>,
    /// HTTP `ETag` of the image response.
    pub etag: Option<String>,
    /// Model input (when embedding).
    pub pixels: Option<Vec<f32>>,
}

/// Records why `url` was not taken and counts it: as skipped for a
/// polite skip, as failed otherwise.
pub async fn record_setback(
    ctx: &StageContext,
    url: &str,
    setback: Setback,
) -> Result<(), ScanError> {
    let Setback {
        stage,
        reason,
        attempts,
    } = setback;
    match stage.outcome {
        Outcome::Skipped => {
            tracing::info!(url, %stage, reason, "skipped");
            ctx.progress.bump(Counter::Skipped);
        }
        Outcome::Failed => {
            tracing::debug!(url, %stage, reason, "failed");
            ctx.progress.bump(Counter::Failed);
            if stage.stage == Stage::Ssrf {
                ctx.progress.bump(Counter::RefusedPrivate);
            }
        }
    }
    ctx.store
        .record_failure(&NewFailure {
            url: url.to_string(),
            stage,
            reason,
            scan_id: Some(ctx.scan_id),
            attempts,
            at: Utc::now(),
        })
        .await?;
    Ok(())
}

/// Records one sighting per page the candidate was seen on (one without a
/// page when it has none).
pub async fn record_sightings(
    ctx: &StageContext,
    image_id: ImageId,
    candidate: &ImageCandidate,
    last_modified: Option<DateTime<Utc>>,
    etag: Option<String>,
) -> Result<(), ScanError> {
    let base = NewSighting {
        image_id,
        image_url: candidate.image_url.to_string(),
        site: candidate.image_url.host_str().map(str::to_string),
        provider: candidate.providers.first().map(|p| p.to_string()),
        scan_id: Some(ctx.scan_id),
        rank: Some(candidate.best_rank),
        seen_at: Utc::now(),
        last_modified,
        etag,
        ..Default::default()
    };
    let sightings: Vec<NewSighting> = if candidate.pages.is_empty() {
        vec![NewSighting {
            page_title: candidate.title.clone(),
            source_facts: candidate.facts.clone().non_empty(),
            words: candidate.words.clone().non_empty(),
            ..base
        }]
    } else {
        candidate
            .pages
            .iter()
            .map(|page| NewSighting {
                page_url: Some(page.page_url.to_string()),
                page_title: page.page_title.clone(),
                site: page.site.clone().or_else(|| base.site.clone()),
                provider: Some(page.provider.to_string()),
                rank: Some(page.rank),
                source_facts: page.facts.clone().non_empty(),
                words: page.words.clone().non_empty(),
                ..base.clone()
            })
            .collect()
    };
    for sighting in &sightings {
        if ctx.store.upsert_sighting(sighting).await?.created {
            ctx.progress.bump(Counter::NewSightings);
        }
    }
    Ok(())
}

/// Fetch stage: skips known URLs (recording the new sightings), downloads or
/// reads the bytes, and records failures.
pub async fn fetch_one(
    ctx: Arc<StageContext>,
    candidate: ImageCandidate,
) -> Result<Option<Fetched>, ScanError> {
    let url = candidate.image_url.clone();
    if !ctx.options.refresh {
        if let Some(id) = ctx.store.image_by_url(url.as_str()).await? {
            ctx.progress.bump(Counter::Skipped);
            ctx.progress.bump(Counter::AlreadyKnown);
            record_sightings(&ctx, id, &candidate, None, None).await?;
            return Ok(None);
        }
    }
    let result = if url.scheme() == "file" {
        read_local(&url, ctx.options.decode_limits.max_bytes).await
    } else {
        ctx.fetcher.fetch_image(&url).await.map_err(|e| e.setback())
    };
    match result {
        Ok(image) => {
            ctx.progress.bump(Counter::Fetched);
            ctx.progress.add(Counter::Bytes, image.bytes.len() as u64);
            Ok(Some(Fetched { candidate, image }))
        }
        Err(setback) => {
            record_setback(&ctx, url.as_str(), setback).await?;
            Ok(None)
        }
    }
}

async fn read_local(url: &Url, max_bytes: u64) -> Result<FetchedImage, Setback> {
    let path = url
        .to_file_path()
        .map_err(|()| Setback::failed(Stage::Read, format!("{url} is not a local path")))?;
    let read = tokio::task::spawn_blocking(move || {
        let bytes = read_capped(&path, max_bytes)?;
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        Ok::<_, LocalFileError>((bytes, modified))
    })
    .await
    .map_err(|e| Setback::failed(Stage::Read, format!("reading crashed: {e}")))?;
    let (bytes, modified) = read.map_err(|e| match e {
        LocalFileError::TooLarge { .. } => Setback::failed(Stage::TooLarge, e.to_string()),
        other => Setback::failed(Stage::Read, other.to_string()),
    })?;
    let bytes = bytes::Bytes::from(bytes);
    Ok(FetchedImage {
        final_url: url.clone(),
        sha256: crate::hash::sha256(&bytes),
        bytes,
        last_modified: modified.map(DateTime::<Utc>::from),
        etag: None,
        content_type: None,
    })
}

/// Decode stage: known bytes only add sightings; new bytes are decoded,
/// hashed and (when embedding) preprocessed on a worker thread.
pub async fn prepare_one(
    ctx: Arc<StageContext>,
    fetched: Fetched,
) -> Result<Option<Prepared>, ScanError> {
    let Fetched { candidate, image } = fetched;
    if let Some(id) = ctx.store.image_by_sha256(&image.sha256).await? {
        let needs_vector = ctx.embedder.is_some()
            && !ctx
                .store
                .image(id)
                .await?
                .is_some_and(|stored| stored.has_embedding);
        if !needs_vector {
            ctx.progress.bump(Counter::KnownBytes);
            ctx.store.touch_image(id, Utc::now()).await?;
            record_sightings(
                &ctx,
                id,
                &candidate,
                image.last_modified,
                image.etag.clone(),
            )
            .await?;
            return Ok(None);
        }
    }
    // The same bytes already on their way (another URL of the same file):
    // wait for them instead of decoding and embedding twice.
    {
        let mut pending = ctx.pending.lock().expect("pending lock");
        if let Some(waiting) = pending.get_mut(&image.sha256) {
            ctx.progress.bump(Counter::KnownBytes);
            waiting.push(Waiting {
                candidate,
                last_modified: image.last_modified,
                etag: image.etag,
            });
            return Ok(None);
        }
        pending.insert(image.sha256, Vec::new());
    }
    let limits = ctx.options.decode_limits;
    let embedder = ctx.embedder.clone();
    let bytes = image.bytes.clone();
    let reserved = ctx.options.decode_budget.reserve(&bytes).await;
    let work = tokio::task::spawn_blocking(move || analyse(&bytes, &limits, embedder.as_deref()));
    let done = work.await;
    drop(reserved);
    let reason = match done {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => Err(format!("decoder crashed: {panic}")),
    };
    let analysis = match reason {
        Ok(done) => done,
        Err(reason) => {
            let waiting = ctx
                .pending
                .lock()
                .expect("pending lock")
                .remove(&image.sha256);
            for same in
                std::iter::once(&candidate).chain(waiting.iter().flatten().map(|w| &w.candidate))
            {
                let setback = Setback::failed(Stage::Decode, reason.clone());
                record_setback(&ctx, same.image_url.as_str(), setback).await?;
            }
            return Ok(None);
        }
    };
    Ok(Some(Prepared {
        image: NewImage {
            sha256: image.sha256,
            sha1: Some(crate::hash::sha1(&image.bytes)),
            perceptual_hashes: analysis.hashes,
            width: analysis.width,
            height: analysis.height,
            format: analysis.format,
            byte_size: image.bytes.len() as u64,
            exif: analysis.exif,
            embedded: analysis.embedded,
            thumbnail: analysis.thumbnail,
            features: analysis.features,
            seen_at: Utc::now(),
        },
        candidate,
        last_modified: image.last_modified,
        etag: image.etag,
        pixels: analysis.pixels,
    }))
}

/// Embed stage: one forward pass for the batch; if it fails, each image
/// alone, so one bad image cannot cost the others their vectors.
pub async fn embed_batch(
    ctx: &Arc<StageContext>,
    batch: &mut [Prepared],
) -> Result<Vec<Option<Vec<f32>>>, ScanError> {
    let Some(embedder) = ctx.embedder.clone() else {
        return Ok(vec![None; batch.len()]);
    };
    let pixels: Vec<Vec<f32>> = batch.iter_mut().filter_map(|p| p.pixels.take()).collect();
    if pixels.len() != batch.len() {
        return Ok(vec![None; batch.len()]);
    }
    let whole = {
        let embedder = embedder.clone();
        let pixels = pixels.clone();
        tokio::task::spawn_blocking(move || embedder.embed_pixels(&pixels)).await
    };
    if let Ok(Ok(vectors)) = whole {
        return Ok(vectors.into_iter().map(Some).collect());
    }
    let mut out = Vec::with_capacity(batch.len());
    for (item, one) in batch.iter().zip(pixels) {
        let embedder = embedder.clone();
        let result = tokio::task::spawn_blocking(move || embedder.embed_pixels(&[one])).await;
        let reason = match result {
            Ok(Ok(mut v)) if v.len() == 1 => {
                out.push(v.pop());
                continue;
            }
            Ok(Ok(_)) => "model returned no vector".to_string(),
            Ok(Err(e)) => e.to_string(),
            Err(panic) => format!("model crashed: {panic}"),
        };
        let setback = Setback::failed(Stage::Embed, reason);
        record_setback(ctx, item.candidate.image_url.as_str(), setback).await?;
        out.push(None);
    }
    Ok(out)
}

/// Store stage: the image, its vector, its sightings.
pub async fn store_one(
    ctx: &StageContext,
    item: Prepared,
    vector: Option<Vec<f32>>,
) -> Result<(), ScanError> {
    let upserted = ctx.store.upsert_image(&item.image).await?;
    if upserted.created {
        ctx.progress.bump(Counter::NewImages);
    }
    if let Some(vector) = vector {
        let lacks_vector = upserted.created
            || !ctx
                .store
                .image(upserted.id)
                .await?
                .is_some_and(|stored| stored.has_embedding);
        if lacks_vector {
            ctx.store.set_embedding(upserted.id, &vector).await?;
            ctx.progress.bump(Counter::Embedded);
        }
    }
    record_sightings(
        ctx,
        upserted.id,
        &item.candidate,
        item.last_modified,
        item.etag,
    )
    .await?;
    let waiting = ctx
        .pending
        .lock()
        .expect("pending lock")
        .remove(&item.image.sha256);
    for w in waiting.into_iter().flatten() {
        record_sightings(ctx, upserted.id, &w.candidate, w.last_modified, w.etag).await?;
    }
    Ok(())
}
