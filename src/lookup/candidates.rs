//! Gathering the evidence about stored pictures that may match the query:
//! exact bytes, perceptual-hash distance, embedding similarity and agreeing
//! keypoints. Each source adds [`MatchCandidate`]s; ranking merges them
//! once per picture. The pictures whose keypoints are compared come from
//! three shortlists: the nearest by hash, by embedding, and by the copy
//! index (what finds crops, screenshots and collages at any store size).

use std::collections::BTreeMap;
use std::sync::Arc;

use image::DynamicImage;

use super::hash_table::{query_word, HashTable};
use super::index::MatchIndex;
use super::{LookupError, LookupOptions};
use crate::copy_index::{IndexCandidate, QueryTerms, SearchSettings, Terms};
use crate::decode::{decode, DecodeLimits, Decoded};
use crate::embed::Embedder;
use crate::hash::{colour_layout, hash_detail, perceptual_hashes, sha256, trim_uniform_border};
use crate::matching::{Evidence, MatchCandidate};
use crate::model::{ImageId, ModelInfo, PerceptualHash};
use crate::store::Store;
use crate::verify::{self, Halves, QueryFeatures, VerifySettings};

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
    /// Its colour layout, when it is smooth enough to be a copy of a
    /// stored smooth picture (compared with theirs only).
    pub colour_layout: Option<Vec<u8>>,
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
            colour_layout: (hash_detail(&trim_uniform_border(&image)) < LAYOUT_MAX_DETAIL)
                .then(|| colour_layout::colour_layout(&image)),
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

/// Queries with less detail than this are compared by colour layout with
/// the stored smooth pictures: a copy of a smooth picture gains detail when
/// shrunk or re-encoded (up to 3.6 measured), photos have 5 and more
/// (`examples/colour_layout_eval.rs`).
const LAYOUT_MAX_DETAIL: f32 = 4.0;

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

/// The copy index shortlists this many pictures per `verify_top`: its
/// candidates are the ones that find crops, screenshots and collages, and
/// a 50 % crop's original can rank past 50th among pictures of the same
/// kind (photo set, 2026-12-02: ×1 found 0.88 of 50 % crops first, ×3
/// 0.92, for +9 ms a match).
const COPY_CANDIDATES_PER_VERIFIED: usize = 3;

/// Past the first `verify_top`, a copy-index candidate is verified only
/// with at least this share (in %) of the best candidate's votes: a query
/// whose copy is in the store votes for it far above the rest, and the
/// long tail is then chance (at 100k pictures: 41 ms a match instead of
/// 53, the photo set's recall unchanged, 2026-12-02).
const TAIL_MIN_VOTE_SHARE: u32 = 50;

/// The copy index's candidates to verify, with both halves of the query
/// (the copy index's better half is no reliable hint for a weak copy).
fn worth_verifying(
    found: &[IndexCandidate],
    verify_top: usize,
) -> impl Iterator<Item = (ImageId, Halves)> + '_ {
    let best = found.first().map_or(0, |c| c.votes);
    found
        .iter()
        .enumerate()
        .filter(move |(rank, c)| {
            *rank < verify_top
                || u64::from(c.votes) * 100 >= u64::from(best) * u64::from(TAIL_MIN_VOTE_SHARE)
        })
        .map(|(_, c)| (c.image_id, Halves::Both))
}

/// What the sources found.
pub(super) struct Gathered {
    /// Evidence, possibly several pieces per picture.
    pub candidates: Vec<MatchCandidate>,
    /// The model whose vectors were compared, if any.
    pub model: Option<ModelInfo>,
    /// Sentences for the report about what could not be compared.
    pub notes: Vec<String>,
    /// The closest any stored picture came, to explain a weak result.
    pub closest: Closest,
}

/// How close the nearest stored pictures came on each kind of evidence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Closest {
    /// Keypoints of the query (both halves' larger count).
    pub query_keypoints: usize,
    /// Most agreeing keypoints of any verified picture.
    pub inliers: Option<u32>,
    /// Pictures the keypoints were compared with.
    pub verified: usize,
    /// Smallest perceptual-hash distance to any stored picture.
    pub hash_distance: Option<u32>,
}

/// Runs every source, then verifies the keypoints of the nearest pictures.
pub(super) async fn gather(
    store: &dyn Store,
    embedder: Option<Arc<dyn Embedder>>,
    index: &MatchIndex,
    query: &QueryPicture,
    options: &LookupOptions,
) -> Result<Gathered, LookupError> {
    index.refresh(store).await?;
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
    let mut shortlist = Vec::new();
    let model = embedder.as_ref().map(|e| e.model().clone());
    let mut neighbours = Vec::new();
    if let Some(embedder) = embedder {
        let vector = embed(embedder, &query.image).await?;
        neighbours = store.nearest(&vector, options.neighbours()).await?;
        shortlist.extend(
            neighbours
                .iter()
                .take(options.verify_top)
                .map(|n| (n.image_id, Halves::Both)),
        );
    }
    let by_hash = match query_word(&query.hashes) {
        None => ByHash::default(),
        Some(word) => {
            let options = options.clone();
            let neighbour_ids: Vec<ImageId> = neighbours.iter().map(|n| n.image_id).collect();
            index
                .with_hashes(move |table| by_hash_distance(table, word, &options, &neighbour_ids))
                .await?
        }
    };
    let ByHash {
        candidates: found,
        nearest,
        nearest_halves,
        close,
        neighbour_distances,
    } = by_hash;
    let mut closest = Closest {
        query_keypoints: query
            .features
            .plain
            .keypoints
            .len()
            .max(query.features.mirrored.keypoints.len()),
        hash_distance: nearest.first().map(|&(d, _)| d),
        ..Closest::default()
    };
    let nearest = nearest.into_iter().map(|(_, id)| id);
    let neighbour_distances = neighbour_distances
        .into_iter()
        .chain(std::iter::repeat(None));
    candidates.extend(found);
    shortlist.extend(nearest.zip(nearest_halves));
    candidates.extend(
        neighbours
            .into_iter()
            .zip(neighbour_distances)
            .map(|(n, hash_distance)| MatchCandidate {
                image_id: n.image_id,
                evidence: Evidence {
                    similarity: Some(n.similarity),
                    hash_distance,
                    ..Evidence::default()
                },
            }),
    );
    if let Some(layout) = &query.colour_layout {
        let close = index.close_layouts(layout);
        let ambiguous = close.len() > 1;
        candidates.extend(close.into_iter().map(|(d, image_id)| MatchCandidate {
            image_id,
            evidence: Evidence {
                colour_distance: Some(d),
                hash_ambiguous: ambiguous,
                ..Evidence::default()
            },
        }));
    }
    if query.hashes.is_empty() {
        notes.push("The query is too smooth for a perceptual hash: it was compared by exact bytes, keypoints, its colour layout (with the stored smooth pictures) and embeddings.".into());
    }
    if options.verify_top > 0 && options.copy_index {
        let settings = SearchSettings {
            candidates: options.verify_top * COPY_CANDIDATES_PER_VERIFIED,
            ..options.copy_search
        };
        let found = index.candidates(query.terms(), settings).await?;
        shortlist.extend(worth_verifying(&found, options.verify_top));
    }
    if options.verify_top > 0 {
        let verified = verify_shortlist(store, &query.features, shortlist).await?;
        closest.verified = verified.len();
        closest.inliers = verified
            .iter()
            .filter_map(|c| c.evidence.verified_inliers)
            .max();
        candidates.extend(verified);
    }
    if close > 1 {
        let strict = options.thresholds.near_duplicate_max_hash_distance;
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
        closest,
    })
}

/// What the hash table says about the query.
#[derive(Debug, Default)]
struct ByHash {
    /// Every stored picture within the probable-duplicate distance.
    candidates: Vec<MatchCandidate>,
    /// The `verify_top` nearest, whatever their distance, nearest first.
    nearest: Vec<(u32, ImageId)>,
    /// The halves of the query each of those points to.
    nearest_halves: Vec<Halves>,
    /// How many are within the near-duplicate distance.
    close: usize,
    /// The distance of each embedding neighbour asked about.
    neighbour_distances: Vec<Option<u32>>,
}

/// Every stored picture within the probable-duplicate distance becomes a
/// candidate; the `verify_top` nearest by distance (whatever it is) go on
/// to keypoint verification.
fn by_hash_distance(
    table: &HashTable,
    query: u64,
    options: &LookupOptions,
    neighbours: &[ImageId],
) -> ByHash {
    let thresholds = &options.thresholds;
    let (within, nearest) = table.scan(
        query,
        thresholds.probable_duplicate_max_hash_distance,
        options.verify_top,
    );
    ByHash {
        close: within
            .iter()
            .filter(|&&(d, _)| d <= thresholds.near_duplicate_max_hash_distance)
            .count(),
        candidates: within
            .into_iter()
            .map(|(d, image_id)| MatchCandidate {
                image_id,
                evidence: Evidence {
                    hash_distance: Some(d),
                    ..Evidence::default()
                },
            })
            .collect(),
        nearest_halves: nearest
            .iter()
            .map(|&(_, id)| table.halves(query, id))
            .collect(),
        nearest,
        neighbour_distances: neighbours
            .iter()
            .map(|&id| table.distance_to(query, id))
            .collect(),
    }
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
    shortlist: Vec<(ImageId, Halves)>,
) -> Result<Vec<MatchCandidate>, LookupError> {
    let mut halves: BTreeMap<ImageId, Halves> = BTreeMap::new();
    for (id, h) in shortlist {
        halves
            .entry(id)
            .and_modify(|known| *known = known.and(h))
            .or_insert(h);
    }
    let ids: Vec<ImageId> = halves.keys().copied().collect();
    let mut stored = store
        .features_of(&ids, verify::FEATURE_KIND)
        .await?
        .into_iter()
        .map(|(id, bytes)| (id, halves[&id], bytes))
        .collect::<Vec<_>>();
    stored.sort_unstable_by_key(|(id, _, _)| *id);
    let query = query.clone();
    tokio::task::spawn_blocking(move || verify_in_parallel(&query, stored))
        .await
        .map_err(|e| LookupError::Task(e.to_string()))
}

/// Verifies the shortlisted pictures on every core (each comparison is
/// independent: on two cores about half the time of one).
fn verify_in_parallel(
    query: &QueryFeatures,
    stored: Vec<(ImageId, Halves, Vec<u8>)>,
) -> Vec<MatchCandidate> {
    let settings = VerifySettings::default();
    let one = |(image_id, halves, bytes): &(ImageId, Halves, Vec<u8>)| {
        let features = verify::decode(bytes).ok()?;
        let inliers = verify::verify_halves(query, &features, &settings, *halves).inliers;
        Some(MatchCandidate {
            image_id: *image_id,
            evidence: Evidence {
                verified_inliers: Some(u32::try_from(inliers).unwrap_or(u32::MAX)),
                ..Evidence::default()
            },
        })
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = stored.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = stored
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().filter_map(one).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    })
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
        let mut table = HashTable::default();
        for (id, byte) in [(1, 0x01), (2, 0x0F), (3, 0xFF)] {
            table.insert(id, &hash(byte));
        }
        table.insert(4, &[]);
        let options = LookupOptions {
            verify_top: 2,
            ..LookupOptions::default()
        };
        let query = query_word(&hash(0x00)).unwrap();
        let found = by_hash_distance(&table, query, &options, &[3, 4]);
        let ids: Vec<ImageId> = found.candidates.iter().map(|c| c.image_id).collect();
        assert_eq!(ids, [1]);
        assert_eq!(found.candidates[0].evidence.hash_distance, Some(8));
        assert_eq!(found.nearest, [(8, 1), (32, 2)]);
        assert_eq!(found.close, 1);
        assert_eq!(found.neighbour_distances, [Some(64), None]);
    }

    #[test]
    fn the_copy_index_tail_is_verified_only_near_the_best_votes() {
        let found: Vec<IndexCandidate> = [(7, 400), (3, 390), (9, 210), (4, 199), (5, 20)]
            .into_iter()
            .map(|(image_id, votes)| IndexCandidate { image_id, votes })
            .collect();
        let ids: Vec<ImageId> = worth_verifying(&found, 2).map(|(id, _)| id).collect();
        assert_eq!(
            ids,
            [7, 3, 9],
            "the first two always, then 50 % of 400 or more"
        );
        assert_eq!(worth_verifying(&found, 10).count(), 5);
        assert!(worth_verifying(&found, 2).all(|(_, h)| h == Halves::Both));
        assert_eq!(worth_verifying(&[], 2).count(), 0);
    }

    #[test]
    fn a_query_without_hashes_has_no_word() {
        assert_eq!(query_word(&[]), None);
    }
}
