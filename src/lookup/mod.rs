//! `match` and `search` as library calls: find a picture (or a text) among
//! stored ones and return the [`Report`]. The CLI and the web service both
//! come here; nothing in this module prints, reads flags or writes files.
//!
//! A picture query runs in four steps:
//! 1. **candidates** ([`candidates`]): the stored picture with the same
//!    bytes, every picture within the probable-duplicate hash distance, and
//!    the nearest by embedding when a model is in use;
//! 2. **verification**: the keypoints of the nearest `verify_top` by hash
//!    and by embedding, and of up to three times as many by the copy index
//!    ([`MatchIndex`]: stored pictures sharing rotation-consistent local
//!    features), are compared with the query's, in one read of the store
//!    and on every core — what finds crops, rotations, screenshots and
//!    collages a hash cannot see;
//! 3. **ranking** ([`crate::matching::rank`]): all evidence merged once per
//!    picture, classified, ordered;
//! 4. **records** ([`records`]): each match's picture, sightings and
//!    thumbnail read back and the report assembled.

mod candidates;
mod compare;
mod hash_table;
mod index;
mod records;
mod text;

use std::sync::Arc;

use chrono::Utc;

use crate::copy_index::SearchSettings;
use crate::decode::{DecodeError, DecodeLimits};
use crate::embed::{EmbedError, Embedder};
use crate::matching::{rank, MatchError, Thresholds};
use crate::model::TextQuery;
use crate::report::{Mode, QueryInfo, Report, ReportContext};
use crate::store::{Store, StoreError};
use crate::thumbnail::thumbnail_data_uri;

use candidates::Closest;
pub use candidates::QueryPicture;
pub use compare::{compare, Comparison, Corner, Frame};
pub use index::MatchIndex;
pub use text::{
    find_postings, find_text, fuse, mark_matching_postings, mark_postings, pictures_of, TextSearch,
    RRF_K,
};

/// Longest side of the query's thumbnail in the report.
const QUERY_THUMBNAIL_SIDE: u32 = 240;

/// Why a lookup could not be made.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// An option out of range (`top` = 0, thresholds that contradict).
    #[error("{0}")]
    Invalid(String),
    /// The store is empty: there is nothing to look in.
    #[error("the store is empty: run `provenance scan` or `provenance index` first")]
    EmptyStore,
    /// A text search needs vectors and the store has none.
    #[error("this store holds no vectors (it was built with --embedder none); text search needs a store built with CLIP")]
    NoVectors,
    /// The query is not a picture provenance can read.
    #[error("the query is not an image provenance can read")]
    Decode(#[source] DecodeError),
    /// The model failed on the query.
    #[error("cannot embed the query")]
    Embed(#[source] EmbedError),
    /// The store failed (or was built with another model).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A worker thread died.
    #[error("internal error while matching: {0}")]
    Task(String),
}

impl From<MatchError> for LookupError {
    fn from(e: MatchError) -> Self {
        Self::Invalid(e.to_string())
    }
}

/// How a picture is looked up.
#[derive(Debug, Clone, PartialEq)]
pub struct LookupOptions {
    /// Matches kept (at least 1). Default 10.
    pub top: usize,
    /// Where the kinds are divided.
    pub thresholds: Thresholds,
    /// Keypoint verification of this many nearest pictures by hash, as
    /// many by embedding and up to three times as many by the copy index
    /// (0: off). Default 50.
    pub verify_top: usize,
    /// Nearest neighbours asked of the vector index; `None`: four per
    /// match kept, at least 50 and at least `verify_top`.
    pub neighbours: Option<usize>,
    /// Shortlist by the copy index too (on by default; off only to measure
    /// what it adds).
    pub copy_index: bool,
    /// How the copy index is searched (its `candidates` is three times
    /// `verify_top`).
    pub copy_search: SearchSettings,
    /// Bounds on decoding the query.
    pub decode_limits: DecodeLimits,
    /// Words to look for in the matches' postings (`match --text`): the
    /// postings holding them are marked and put first.
    pub words: Option<TextQuery>,
}

impl Default for LookupOptions {
    fn default() -> Self {
        Self {
            top: 10,
            thresholds: Thresholds::default(),
            verify_top: 50,
            neighbours: None,
            copy_index: true,
            copy_search: SearchSettings::default(),
            decode_limits: DecodeLimits::default(),
            words: None,
        }
    }
}

impl LookupOptions {
    /// Checks that the options can be used.
    pub fn validate(&self) -> Result<(), LookupError> {
        if self.top == 0 {
            return Err(LookupError::Invalid("--top must be at least 1".into()));
        }
        self.thresholds.validate()?;
        Ok(())
    }

    /// How many nearest neighbours to ask the vector index for.
    pub fn neighbours(&self) -> usize {
        self.neighbours
            .unwrap_or_else(|| (self.top * 4).max(50).max(self.verify_top))
    }
}

/// Finds `query` among the stored pictures: exact copies, near-duplicates
/// and similar pictures, with every sighting and the origin evidence.
///
/// With an `embedder` (which must be the model the store's vectors come
/// from, else [`StoreError::ModelMismatch`]) embeddings are compared too;
/// without one, or when the store has no vectors, exact bytes, perceptual
/// hashes and keypoints only, and the report says so.
pub async fn find_image(
    store: &dyn Store,
    embedder: Option<Arc<dyn Embedder>>,
    index: &MatchIndex,
    query: &QueryPicture,
    options: &LookupOptions,
) -> Result<Report, LookupError> {
    options.validate()?;
    ensure_not_empty(store).await?;
    let (embedder, mode, mut notes) = choose_mode(store, embedder).await?;
    let gathered = candidates::gather(store, embedder, index, query, options).await?;
    notes.extend(gathered.notes);
    let ranked = rank(gathered.candidates, &options.thresholds, options.top);
    if !ranked.iter().any(|m| m.kind.is_same_picture()) {
        notes.push(explain_no_copy(&gathered.closest, &options.thresholds));
    }
    let info = QueryInfo {
        label: query.label.clone(),
        sha256: Some(hex::encode(query.sha256)),
        width: Some(query.width),
        height: Some(query.height),
        thumbnail_data_uri: thumbnail_data_uri(&query.image, QUERY_THUMBNAIL_SIDE).ok(),
    };
    let context = ReportContext {
        generated_at: Utc::now(),
        query: info,
        mode,
        model: gathered.model,
        thresholds: options.thresholds,
        notes,
    };
    let mut report = records::report(store, context, &ranked).await?;
    report.attach_reviews(&store.reviews(&query.sha256).await?);
    if let Some(words) = &options.words {
        mark_matching_postings(store, &mut report, words).await?;
    }
    Ok(report)
}

/// Why nothing was called the same picture, in words: how close the
/// nearest stored pictures came on each kind of evidence.
fn explain_no_copy(closest: &Closest, t: &Thresholds) -> String {
    let mut why = String::from("No stored picture was found to be the same picture.");
    if closest.query_keypoints < MIN_QUERY_KEYPOINTS {
        why.push_str(&format!(
            " The query has only {} keypoints (a flat, tiny or blurred picture), too few to recognise a crop or a screenshot.",
            closest.query_keypoints
        ));
    }
    match closest.inliers {
        Some(n) => why.push_str(&format!(
            " Of the {} stored pictures whose keypoints were compared (those sharing the most local features, and the nearest by hash), the closest had {n} agreeing on one geometry ({} needed).",
            closest.verified, t.min_verified_inliers
        )),
        None if closest.verified == 0 => {
            why.push_str(" No stored picture shares enough local features to be compared.")
        }
        None => {}
    }
    if let Some(d) = closest.hash_distance {
        why.push_str(&format!(
            " The nearest perceptual hash is {d}/64 away (a copy is within {}/64).",
            t.near_duplicate_max_hash_distance
        ));
    }
    why
}

/// Below this many keypoints a query can hardly be recognised by them.
const MIN_QUERY_KEYPOINTS: usize = 40;

/// Checks that `store` can be searched (it is not empty) and says whether a
/// lookup in it would use a model: only when it holds vectors. Callers load
/// a model only then, and only after this check.
pub async fn vectors_in_use(store: &dyn Store) -> Result<bool, LookupError> {
    ensure_not_empty(store).await?;
    Ok(store.model().await?.is_some())
}

async fn ensure_not_empty(store: &dyn Store) -> Result<(), LookupError> {
    if store.last_image_id().await?.is_none() {
        return Err(LookupError::EmptyStore);
    }
    Ok(())
}

/// CLIP + hashes when the store has vectors and an embedder is given;
/// hashes only otherwise, with a note saying why. A different model than
/// the store's is an error.
async fn choose_mode(
    store: &dyn Store,
    embedder: Option<Arc<dyn Embedder>>,
) -> Result<(Option<Arc<dyn Embedder>>, Mode, Vec<String>), LookupError> {
    let stored = store.model().await?;
    let why = match (&stored, &embedder) {
        (None, _) => "The store holds no vectors (built with --embedder none): matches were found by exact bytes and perceptual hashes only.",
        (Some(_), None) => "--embedder none: matches were found by exact bytes and perceptual hashes only.",
        (Some(stored), Some(embedder)) if stored != embedder.model() => {
            return Err(StoreError::ModelMismatch {
                stored: stored.clone(),
                current: embedder.model().clone(),
            }
            .into())
        }
        (Some(_), Some(_)) => return Ok((embedder, Mode::ClipHash, Vec::new())),
    };
    Ok((None, Mode::HashOnly, vec![why.to_string()]))
}
