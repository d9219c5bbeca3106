//! Gathering the evidence about stored pictures that may match the query:
//! exact bytes, perceptual-hash distance, embedding similarity and agreeing
//! keypoints. Each source adds [`MatchCandidate`]s; ranking merges them
//! once per picture. The pictures whose keypoints are compared come from
//! three shortlists: the nearest by hash, by embedding, and by the copy
//! index (what finds crops, screenshots and collages at any store size).

use std::collections::HashMap;
use std::sync::Arc;

use image::DynamicImage;

use super::copies::CopyIndexCache;
use super::{LookupError, LookupOptions};
use crate::copy_index::{QueryTerms, SearchSettings, Terms};
use crate::decode::{decode, DecodeLimits, Decoded};
use crate::embed::Embedder;
use crate::hash::{hash_distance, perceptual_hashes, sha256};
use crate::matching::{Evidence, MatchCandidate};
use crate::model::{ImageId, ModelInfo, PerceptualHash};
use crate::store::Store;
use crate::verify::{self, QueryFeatures, VerifySettings};

/// The query picture, decoded and hashed once.
#[derive(Debug, Clone)]
pub struct QueryPicture {
    /// How the report names it (a file path, an upload's name).
    pub label: String,
    /// SHA-256 of the bytes.
    pub sha256: [u8; 32],
    /// Width after EXIF orientation.
    pub width: u32,
    /// Height after EXIF orientation.
    pub height: u32,
    /// Its perceptual hashes (none for pictures too smooth to hash).
    pub hashes: Vec<PerceptualHash>,
    /// The picture.
    pub image: DynamicImage,
    /// Its keypoints, as it is and mirrored.
    pub features: QueryFeatures,
}

impl QueryPicture {
    /// Decodes and hashes `bytes` (CPU work: call it off the async
    /// threads for large pictures).
    pub fn decode(
        label: impl Into<String>,
        bytes: &[u8],
        limits: &DecodeLimits,
    ) -> Result<Self, LookupError> {
        let Decoded {
            image,
            width,
            height,
            ..
        } = decode(bytes, limits).map_err(LookupError::Decode)?;
        Ok(Self {
            label: label.into(),
            sha256: sha256(bytes),
            width,
            height,
            hashes: perceptual_hashes(&image),
            features: QueryFeatures::new(&image, &query_settings()),
            image,
        })
    }

    /// The query's copy-index terms.
    pub fn terms(&self) -> QueryTerms {
        QueryTerms {
            plain: Terms::of(&self.features.plain),
            mirrored: Terms::of(&self.features.mirrored),
        }
    }
}

/// Keypoints taken from a query: twice a stored picture's, so that a copy
/// that is only part of the query (a collage, a screenshot, a captioned
/// meme whose text takes keypoints) still brings enough of its own.
pub const QUERY_KEYPOINTS: usize = 768;

fn query_settings() -> VerifySettings {
    VerifySettings {
        max_keypoints: QUERY_KEYPOINTS,
        ..VerifySettings::default()
    }
}

/// What the sources found.
pub(super) struct Gathered {
    /// Evidence, possibly several pieces per picture.
    pub candidates: Vec<MatchCandidate>,
    /// The model whose vectors were compared, if any.
    pub model: Option<ModelInfo>,
    /// Sentences for the report about what could not be compared.
    pub notes: Vec<String>,
}

/// Runs every source, then verifies the keypoints of the nearest pictures.
pub(super) async fn gather(
    store: &dyn Store,
    embedder: Option<Arc<dyn Embedder>>,
    copies: &CopyIndexCache,
    query: &QueryPicture,
    options: &LookupOptions,
) -> Result<Gathered, LookupError> {
    let mut candidates = Vec::new();
    let mut notes = Vec::new();
    if let Some(image_id) = store.image_by_sha256(&query.sha256).await? {
        candidates.push(MatchCandidate {
            image_id,
            evidence: Evidence {
                same_bytes: true,
                ..Evidence::default()
            },
        });
    }
    let stored_hashes: HashMap<ImageId, Vec<PerceptualHash>> =
        store.all_perceptual_hashes().await?.into_iter().collect();
    let (by_hash, mut shortlist) = by_hash_distance(&query.hashes, &stored_hashes, options);
    candidates.extend(by_hash);
    if query.hashes.is_empty() {
        notes.push("The query is too smooth for a perceptual hash; only exact bytes and embeddings were compared.".into());
    }
    if options.verify_top > 0 && options.copy_index {
        copies.refresh(store).await?;
        let settings = SearchSettings {
            candidates: options.verify_top,
            ..SearchSettings::default()
        };
        let found = copies.candidates(query.terms(), settings).await?;
        shortlist.extend(found.iter().map(|c| c.image_id));
    }
    let model = embedder.as_ref().map(|e| e.model().clone());
    if let Some(embedder) = embedder {
        let vector = embed(embedder, &query.image).await?;
        let neighbours = store.nearest(&vector, options.neighbours()).await?;
        shortlist.extend(
            neighbours
                .iter()
                .take(options.verify_top)
                .map(|n| n.image_id),
        );
        candidates.extend(neighbours.into_iter().map(|n| {
            MatchCandidate {
                image_id: n.image_id,
                evidence: Evidence {
                    similarity: Some(n.similarity),
                    hash_distance: stored_hashes
                        .get(&n.image_id)
                        .and_then(|h| hash_distance(&query.hashes, h)),
                    ..Evidence::default()
                },
            }
        }));
    }
    if options.verify_top > 0 {
        candidates.extend(verify_shortlist(store, &query.features, shortlist).await?);
    }
    let strict = options.thresholds.near_duplicate_max_hash_distance;
    let close = hash_close(&query.hashes, &stored_hashes, strict);
    if close > 1 {
        notes.push(format!(
            "{close} stored pictures are within {strict}/64 of the query's perceptual hash, which cannot tell them apart (pictures with little detail share hashes): each counts as the same picture only where its keypoints or its embedding confirm it."
        ));
        for candidate in &mut candidates {
            candidate.evidence.hash_ambiguous = true;
        }
    }
    Ok(Gathered {
        candidates,
        model,
        notes,
    })
}

/// How many stored pictures are within `distance` of the query's hashes.
fn hash_close(
    query: &[PerceptualHash],
    stored: &HashMap<ImageId, Vec<PerceptualHash>>,
    distance: u32,
) -> usize {
    stored
        .values()
        .filter(|hashes| hash_distance(query, hashes).is_some_and(|d| d <= distance))
        .count()
}

/// Every stored picture within the probable-duplicate distance becomes a
/// candidate; the `verify_top` nearest by distance (whatever it is) go on
/// to keypoint verification.
fn by_hash_distance(
    query: &[PerceptualHash],
    stored: &HashMap<ImageId, Vec<PerceptualHash>>,
    options: &LookupOptions,
) -> (Vec<MatchCandidate>, Vec<ImageId>) {
    let limit = options.thresholds.probable_duplicate_max_hash_distance;
    let mut by_distance: Vec<(u32, ImageId)> = stored
        .iter()
        .filter_map(|(&id, hashes)| Some((hash_distance(query, hashes)?, id)))
        .collect();
    by_distance.sort_unstable();
    let candidates = by_distance
        .iter()
        .filter(|&&(d, _)| d <= limit)
        .map(|&(d, image_id)| MatchCandidate {
            image_id,
            evidence: Evidence {
                hash_distance: Some(d),
                ..Evidence::default()
            },
        })
        .collect();
    let shortlist = by_distance
        .iter()
        .take(options.verify_top)
        .map(|&(_, id)| id)
        .collect();
    (candidates, shortlist)
}

async fn embed(embedder: Arc<dyn Embedder>, image: &DynamicImage) -> Result<Vec<f32>, LookupError> {
    let image = image.clone();
    tokio::task::spawn_blocking(move || embedder.embed_images(&[image]))
        .await
        .map_err(|e| LookupError::Task(e.to_string()))?
        .map_err(LookupError::Embed)?
        .pop()
        .ok_or_else(|| LookupError::Task("the model returned no vector".into()))
}

/// Compares the query's keypoints with those of each shortlisted picture
/// and records the agreeing matches: this is what finds crops, rotations
/// and framed copies that hashes miss and embeddings only call similar.
async fn verify_shortlist(
    store: &dyn Store,
    query: &QueryFeatures,
    mut shortlist: Vec<ImageId>,
) -> Result<Vec<MatchCandidate>, LookupError> {
    shortlist.sort_unstable();
    shortlist.dedup();
    let mut stored = Vec::with_capacity(shortlist.len());
    for id in shortlist {
        if let Some(bytes) = store.features(id, verify::FEATURE_KIND).await? {
            stored.push((id, bytes));
        }
    }
    let query = query.clone();
    tokio::task::spawn_blocking(move || {
        let settings = VerifySettings::default();
        stored
            .into_iter()
            .filter_map(|(image_id, bytes)| {
                let features = verify::decode(&bytes).ok()?;
                let inliers = verify::verify(&query, &features, &settings).inliers;
                Some(MatchCandidate {
                    image_id,
                    evidence: Evidence {
                        verified_inliers: Some(u32::try_from(inliers).unwrap_or(u32::MAX)),
                        ..Evidence::default()
                    },
                })
            })
            .collect()
    })
    .await
    .map_err(|e| LookupError::Task(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(byte: u8) -> Vec<PerceptualHash> {
        vec![PerceptualHash {
            kind: "phash64".into(),
            bits: vec![byte; 8],
        }]
    }

    #[test]
    fn hash_candidates_stop_at_the_probable_distance_but_the_shortlist_does_not() {
        // 0x00 vs 0x01 differs by 8 bits of 64, vs 0x0F by 32, vs 0xFF by 64.
        let stored: HashMap<ImageId, Vec<PerceptualHash>> = [
            (1, hash(0x01)),
            (2, hash(0x0F)),
            (3, hash(0xFF)),
            (4, Vec::new()),
        ]
        .into_iter()
        .collect();
        let options = LookupOptions {
            verify_top: 2,
            ..LookupOptions::default()
        };
        let (candidates, shortlist) = by_hash_distance(&hash(0x00), &stored, &options);
        let ids: Vec<ImageId> = candidates.iter().map(|c| c.image_id).collect();
        assert_eq!(ids, [1]);
        assert_eq!(candidates[0].evidence.hash_distance, Some(8));
        assert_eq!(shortlist, [1, 2]);
    }

    #[test]
    fn a_query_without_hashes_has_no_hash_candidates() {
        let stored: HashMap<ImageId, Vec<PerceptualHash>> = [(1, hash(0))].into_iter().collect();
        let (candidates, shortlist) = by_hash_distance(&[], &stored, &LookupOptions::default());
        assert!(candidates.is_empty() && shortlist.is_empty());
    }
}
