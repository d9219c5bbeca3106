//! The copy index of one store, in memory ([`crate::copy_index`]), kept in
//! step with what the store holds: every picture's terms are read once,
//! and each lookup first reads the terms of pictures stored since (by any
//! process: image ids only grow). Pictures stored before the index existed
//! have keypoint features but no terms; [`CopyIndexCache::index_missing`]
//! computes and stores theirs — resumable, as each picture's terms are
//! stored as they are made.

use std::sync::{Arc, RwLock};

use tokio::sync::Mutex;

use super::LookupError;
use crate::copy_index::{CopyIndex, IndexCandidate, QueryTerms, SearchSettings, Terms, TERMS_KIND};
use crate::model::{ImageFeatures, ImageId};
use crate::store::Store;
use crate::verify;

/// Rows read from the store at a time.
const PAGE: u32 = 2_000;

/// A store's copy index, shared by every lookup of a process.
#[derive(Debug, Default)]
pub struct CopyIndexCache {
    index: Arc<RwLock<CopyIndex>>,
    /// The highest image id whose terms were read.
    read_up_to: Mutex<ImageId>,
}

impl CopyIndexCache {
    /// Reads the terms stored since the last look.
    pub async fn refresh(&self, store: &dyn Store) -> Result<(), LookupError> {
        let mut cursor = self.read_up_to.lock().await;
        loop {
            let page = store.features_after(TERMS_KIND, *cursor, PAGE).await?;
            let Some(&(last, _)) = page.last() else {
                return Ok(());
            };
            let decoded: Vec<(ImageId, Terms)> = page
                .into_iter()
                .filter_map(|(id, bytes)| match Terms::decode(&bytes) {
                    Ok(terms) => Some((id, terms)),
                    Err(e) => {
                        // The picture stays findable by its hashes and
                        // embedding; only the copy index leaves it out.
                        tracing::warn!(image = id, error = %e, "unreadable copy-index terms");
                        None
                    }
                })
                .collect();
            let mut index = self.index.write().unwrap_or_else(|e| e.into_inner());
            for (id, terms) in &decoded {
                index.insert(*id, terms);
            }
            *cursor = last;
        }
    }

    /// Computes, stores and files the terms of pictures that have keypoint
    /// features but no terms (stored by an older version). `progress` hears
    /// how many were done so far. Returns how many were done.
    pub async fn index_missing(
        &self,
        store: &dyn Store,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<u64, LookupError> {
        let mut done = 0u64;
        let mut after = 0;
        loop {
            let page = store
                .features_lacking(verify::FEATURE_KIND, TERMS_KIND, after, PAGE)
                .await?;
            let Some(&(last, _)) = page.last() else {
                return Ok(done);
            };
            after = last;
            let made = tokio::task::spawn_blocking(move || {
                page.into_iter()
                    .filter_map(|(id, bytes)| {
                        let features = verify::decode(&bytes).ok()?;
                        Some((id, Terms::of(&features)))
                    })
                    .collect::<Vec<_>>()
            })
            .await
            .map_err(|e| LookupError::Task(e.to_string()))?;
            for (id, terms) in made {
                let stored = ImageFeatures {
                    kind: TERMS_KIND.to_string(),
                    bytes: terms.encode(),
                };
                store.add_features(id, &stored).await?;
                self.index
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(id, &terms);
                done += 1;
            }
            progress(done);
        }
    }

    /// Posting-list lengths, sorted (for statistics).
    pub fn list_lengths(&self) -> Vec<usize> {
        self.index
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .list_lengths()
    }

    /// How many pictures are filed.
    pub fn len(&self) -> usize {
        self.index.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether no picture is filed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The stored pictures sharing the most rotation-consistent keypoints
    /// with the query (on a worker thread: the voting is CPU work).
    pub async fn candidates(
        &self,
        query: QueryTerms,
        settings: SearchSettings,
    ) -> Result<Vec<IndexCandidate>, LookupError> {
        let index = Arc::clone(&self.index);
        tokio::task::spawn_blocking(move || {
            index
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .candidates(&query, &settings)
        })
        .await
        .map_err(|e| LookupError::Task(e.to_string()))
    }
}
