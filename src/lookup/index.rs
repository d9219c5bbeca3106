//! What a lookup keeps in memory for one store, so a match never reads the
//! whole store: every picture's perceptual hashes (scanned for the nearest
//! by distance) and the copy index ([`crate::copy_index`]: keypoint terms
//! filed by key). Both are read once and then kept in step: each lookup
//! first reads what was stored since, by any process (image ids only grow;
//! every [`REREAD_EVERY`] the last [`REREAD`] ids are read again, so a
//! picture whose transaction committed after a later one's is not missed
//! for longer than that — PostgreSQL hands out ids before commit).
//!
//! Pictures stored before the copy index existed have keypoint features but
//! no terms; [`MatchIndex::index_missing`] computes and stores theirs —
//! resumable, as each picture's terms are stored as they are made.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::hash_table::HashTable;
use super::LookupError;
use crate::copy_index::{CopyIndex, IndexCandidate, QueryTerms, SearchSettings, Terms, TERMS_KIND};
use crate::hash::colour_layout;
use crate::model::{ImageFeatures, ImageId};
use crate::store::Store;
use crate::verify;

/// Rows read from the store at a time.
const PAGE: u32 = 2_000;

/// Image ids below the last one read that are read again now and then.
const REREAD: ImageId = 1_000;

/// How often those are read again. Reading them at every lookup cost
/// 12 ms of a 50 ms match (1,000 rows of terms, timed 2026-12-02); a late
/// commit is rare and seconds late is soon.
const REREAD_EVERY: Duration = Duration::from_secs(10);

/// Where each part of the index has read up to.
#[derive(Debug, Default)]
struct Cursors {
    hashes: ImageId,
    terms: ImageId,
    layouts: ImageId,
    /// When the last ids were last read again.
    reread_at: Option<Instant>,
}

impl Cursors {
    /// How far back this refresh starts: at the cursor, or [`REREAD`]
    /// before it when it is time to read the last ids again.
    fn start(&self, cursor: ImageId, reread: bool) -> ImageId {
        if reread {
            (cursor - REREAD).max(0)
        } else {
            cursor
        }
    }
}

/// Stored smooth pictures and their colour layouts.
type Layouts = Vec<(ImageId, Vec<u8>)>;

/// One store's match index, shared by every lookup of a process.
#[derive(Debug, Default)]
pub struct MatchIndex {
    copies: Arc<RwLock<CopyIndex>>,
    hashes: Arc<RwLock<HashTable>>,
    /// Colour layouts of the smooth pictures (few: those with no hash).
    layouts: Arc<RwLock<Layouts>>,
    cursors: Mutex<Cursors>,
}

impl MatchIndex {
    /// Reads the hashes and terms stored since the last look.
    pub async fn refresh(&self, store: &dyn Store) -> Result<(), LookupError> {
        let mut cursors = self.cursors.lock().await;
        // Every row of any kind up to this id is read by the end: the
        // cursors move there even where a kind has no rows (smooth
        // pictures are rare: a layout cursor left at the last one made
        // every lookup read all the features stored after it).
        let last = store.last_image_id().await?.unwrap_or(0);
        let reread = cursors
            .reread_at
            .is_none_or(|at| at.elapsed() >= REREAD_EVERY);
        if reread {
            cursors.reread_at = Some(Instant::now());
        }
        let mut after = cursors.start(cursors.hashes, reread);
        loop {
            let page = store.perceptual_hashes_after(after, PAGE).await?;
            let Some(&(page_end, _)) = page.last() else {
                break;
            };
            let mut hashes = self.hashes.write().unwrap_or_else(|e| e.into_inner());
            for (id, found) in &page {
                hashes.insert(*id, found);
            }
            after = page_end;
            cursors.hashes = cursors.hashes.max(page_end);
        }
        let mut after = cursors.start(cursors.terms, reread);
        let mut damaged = Vec::new();
        loop {
            let page = store.features_after(TERMS_KIND, after, PAGE).await?;
            let Some(&(page_end, _)) = page.last() else {
                break;
            };
            let mut copies = self.copies.write().unwrap_or_else(|e| e.into_inner());
            let unfiled: Vec<_> = page
                .into_iter()
                .filter(|(id, _)| !copies.contains(*id))
                .collect();
            for (id, bytes) in unfiled {
                match Terms::decode(&bytes) {
                    Ok(terms) => copies.insert(id, &terms),
                    Err(e) => {
                        tracing::warn!(image = id, error = %e, "damaged copy-index terms: rebuilt from the keypoints");
                        damaged.push(id);
                    }
                }
            }
            after = page_end;
            cursors.terms = cursors.terms.max(page_end);
        }
        for id in damaged {
            self.rebuild_terms(store, id).await?;
        }
        let mut after = cursors.start(cursors.layouts, reread);
        loop {
            let page = store
                .features_after(colour_layout::KIND, after, PAGE)
                .await?;
            let Some(&(page_end, _)) = page.last() else {
                break;
            };
            let mut layouts = self.layouts.write().unwrap_or_else(|e| e.into_inner());
            for (id, bytes) in page {
                if !layouts.iter().any(|(known, _)| *known == id) {
                    layouts.push((id, bytes));
                }
            }
            after = page_end;
            cursors.layouts = cursors.layouts.max(page_end);
        }
        cursors.hashes = cursors.hashes.max(last);
        cursors.terms = cursors.terms.max(last);
        cursors.layouts = cursors.layouts.max(last);
        Ok(())
    }

    /// Computes a picture's terms again from its stored keypoints, stores
    /// them in place of damaged ones and files them. A picture whose
    /// keypoints are damaged too stays findable by hash and embedding.
    async fn rebuild_terms(&self, store: &dyn Store, id: ImageId) -> Result<(), LookupError> {
        let Some(bytes) = store.features(id, verify::FEATURE_KIND).await? else {
            return Ok(());
        };
        let Ok(features) = verify::decode(&bytes) else {
            tracing::warn!(image = id, "damaged keypoints: left out of the copy index");
            return Ok(());
        };
        self.store_and_file(store, id, &Terms::of(&features)).await
    }

    /// Stores a picture's terms (replacing any) and files them.
    async fn store_and_file(
        &self,
        store: &dyn Store,
        id: ImageId,
        terms: &Terms,
    ) -> Result<(), LookupError> {
        let stored = ImageFeatures {
            kind: TERMS_KIND.to_string(),
            bytes: terms.encode(),
        };
        store.add_features(id, &stored).await?;
        self.copies
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, terms);
        Ok(())
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
                self.store_and_file(store, id, &terms).await?;
                done += 1;
            }
            progress(done);
        }
    }

    /// The stored smooth pictures within the colour-layout match distance
    /// of `query`: (distance, id), nearest first.
    pub fn close_layouts(&self, query: &[u8]) -> Vec<(u32, ImageId)> {
        let layouts = self.layouts.read().unwrap_or_else(|e| e.into_inner());
        let mut close: Vec<(u32, ImageId)> = layouts
            .iter()
            .filter_map(|(id, layout)| {
                let d = colour_layout::colour_distance(query, layout)?;
                (d <= colour_layout::COLOUR_MATCH_DISTANCE).then_some((d, *id))
            })
            .collect();
        close.sort_unstable();
        close
    }

    /// Pictures with a perceptual hash in the hash table.
    pub fn hashed(&self) -> usize {
        self.hashes.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Pictures in the copy index.
    pub fn len(&self) -> usize {
        self.copies.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether the copy index is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Posting-list lengths of the copy index, sorted (for statistics).
    pub fn list_lengths(&self) -> Vec<usize> {
        self.copies
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .list_lengths()
    }

    /// The stored pictures sharing the most rotation-consistent keypoints
    /// with the query (on a worker thread: the voting is CPU work).
    pub async fn candidates(
        &self,
        query: QueryTerms,
        settings: SearchSettings,
    ) -> Result<Vec<IndexCandidate>, LookupError> {
        let copies = Arc::clone(&self.copies);
        tokio::task::spawn_blocking(move || {
            copies
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .candidates(&query, &settings)
        })
        .await
        .map_err(|e| LookupError::Task(e.to_string()))
    }

    /// Runs `work` over every stored picture's hashes (on a worker thread).
    pub(super) async fn with_hashes<T: Send + 'static>(
        &self,
        work: impl FnOnce(&HashTable) -> T + Send + 'static,
    ) -> Result<T, LookupError> {
        let hashes = Arc::clone(&self.hashes);
        tokio::task::spawn_blocking(move || work(&hashes.read().unwrap_or_else(|e| e.into_inner())))
            .await
            .map_err(|e| LookupError::Task(e.to_string()))
    }
}
