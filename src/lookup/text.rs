//! Text queries: stored pictures that fit a description, found two ways
//! and fused — CLIP's text encoder against the pictures, and full-text
//! search over the words they were posted with (alt text, captions, the
//! text around them) — by reciprocal rank fusion; postings found by their
//! words alone (`search --in-pages`); and the postings of a picture
//! query's matches that mention given words (`match --text`).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;

use super::{choose_mode, ensure_not_empty, records, LookupError, LookupOptions};
use crate::embed::Embedder;
use crate::matching::{Decider, Evidence, MatchKind, RankedMatch, Thresholds};
use crate::model::{ImageId, PostingHit, Snippet, TextQuery};
use crate::report::{FoundBy, Mode, QueryInfo, Report, ReportContext, Signal};
use crate::store::Store;

/// The constant of reciprocal rank fusion (Cormack, Clarke and Büttcher,
/// 2009): a result's score is the sum over signals of 1 / (k + rank).
pub const RRF_K: f64 = 60.0;

/// Postings looked at per picture kept, when pictures are ranked by their
/// postings' words (a picture posted many times takes several).
const POSTINGS_PER_PICTURE: usize = 20;

/// Most postings of a `match --text` report's matches searched.
const MAX_MARKED_POSTINGS: u32 = 10_000;

/// How a text search is made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextSearch {
    /// Pictures kept (at least 1).
    pub top: usize,
    /// Lowest CLIP text-to-picture similarity taken.
    pub min_similarity: f32,
    /// Compare the text with the pictures (needs a model and vectors).
    pub pictures: bool,
    /// Compare the text with the words of the pages.
    pub page_words: bool,
}

/// Postings whose words hold every word of `text`, most relevant first.
pub async fn find_postings(
    store: &dyn Store,
    text: &str,
    top: usize,
) -> Result<Vec<PostingHit>, LookupError> {
    if top == 0 {
        return Err(LookupError::Invalid("--top must be at least 1".into()));
    }
    let query = TextQuery::parse(text).map_err(|e| LookupError::Invalid(e.to_string()))?;
    ensure_not_empty(store).await?;
    let limit = u32::try_from(top).unwrap_or(u32::MAX);
    Ok(store.search_postings(&query, None, limit).await?)
}

/// Finds stored pictures that fit a text: by CLIP's text encoder (when
/// `embedder` is given and the store holds vectors) and by the words of
/// their pages, fused by rank. Each match says which signal found it and
/// at which rank; postings whose words hold the text carry the excerpt.
pub async fn find_text(
    store: &dyn Store,
    embedder: Option<Arc<dyn Embedder>>,
    text: &str,
    search: &TextSearch,
) -> Result<Report, LookupError> {
    let thresholds = Thresholds::default().with_min_similarity(search.min_similarity);
    LookupOptions {
        top: search.top,
        thresholds,
        ..LookupOptions::default()
    }
    .validate()?;
    ensure_not_empty(store).await?;
    let mut notes = Vec::new();
    let embedder = match search.pictures {
        true => {
            let (embedder, _, _) = choose_mode(store, embedder).await?;
            if embedder.is_none() {
                notes.push(match store.model().await? {
                    None => "The store holds no vectors (built with --embedder none): pictures were found by the words of their pages only.",
                    Some(_) => "No model was used (--embedder none): pictures were found by the words of their pages only.",
                }.to_string());
            }
            embedder
        }
        false => None,
    };
    let query = match (search.page_words, TextQuery::parse(text)) {
        (true, Ok(query)) => Some(query),
        (true, Err(e)) if embedder.is_some() => {
            notes.push(format!("The words of the pages were not searched: {e}."));
            None
        }
        (true, Err(e)) => return Err(LookupError::Invalid(e.to_string())),
        (false, _) => None,
    };
    if embedder.is_none() && query.is_none() {
        return Err(LookupError::NoVectors);
    }
    let wide = search.top.saturating_mul(4).max(50);
    let mut lists = Vec::new();
    let mut similarity = HashMap::new();
    let model = embedder.as_ref().map(|e| e.model().clone());
    if let Some(embedder) = embedder {
        let by_picture = nearest_to_text(store, embedder, text, wide).await?;
        let kept: Vec<_> = by_picture
            .into_iter()
            .filter(|(_, s)| *s >= search.min_similarity)
            .collect();
        similarity.extend(kept.iter().copied());
        lists.push((
            Signal::Picture,
            kept.into_iter().map(|(id, _)| id).collect(),
        ));
    }
    let mut hits = Vec::new();
    if let Some(query) = &query {
        let limit = u32::try_from(wide.saturating_mul(POSTINGS_PER_PICTURE)).unwrap_or(u32::MAX);
        hits = store.search_postings(query, None, limit).await?;
        lists.push((Signal::PageWords, pictures_of(&hits)));
    }
    let fused = fuse(&lists, search.top);
    let ranked: Vec<RankedMatch> = fused
        .iter()
        .map(|(id, found_by)| RankedMatch {
            image_id: *id,
            kind: MatchKind::Similar,
            decided_by: match found_by.iter().any(|f| f.signal == Signal::Picture) {
                true => Decider::Embedding,
                false => Decider::PageWords,
            },
            evidence: Evidence {
                similarity: similarity.get(id).copied(),
                ..Evidence::default()
            },
        })
        .collect();
    let context = ReportContext {
        generated_at: Utc::now(),
        query: QueryInfo {
            label: text.to_owned(),
            sha256: None,
            width: None,
            height: None,
            thumbnail_data_uri: None,
        },
        mode: Mode::Text,
        model,
        thresholds,
        notes,
    };
    let mut report = records::report(store, context, &ranked).await?;
    for m in &mut report.matches {
        if let Some((_, found_by)) = fused.iter().find(|(id, _)| *id == m.image.id) {
            m.found_by = found_by.clone();
        }
    }
    if let Some(query) = &query {
        mark_postings(&mut report, query, &hits);
    }
    Ok(report)
}

/// The `k` stored pictures nearest to `text` by CLIP, with similarities.
async fn nearest_to_text(
    store: &dyn Store,
    embedder: Arc<dyn Embedder>,
    text: &str,
    k: usize,
) -> Result<Vec<(ImageId, f32)>, LookupError> {
    let owned = text.to_owned();
    let vector = tokio::task::spawn_blocking(move || embedder.embed_texts(&[owned.as_str()]))
        .await
        .map_err(|e| LookupError::Task(e.to_string()))?
        .map_err(LookupError::Embed)?
        .pop()
        .ok_or_else(|| LookupError::Task("the model returned no vector".into()))?;
    Ok(store
        .nearest(&vector, k)
        .await?
        .into_iter()
        .map(|n| (n.image_id, n.similarity))
        .collect())
}

/// The pictures of `hits`, in the order of each one's best posting.
pub fn pictures_of(hits: &[PostingHit]) -> Vec<ImageId> {
    let mut seen = std::collections::HashSet::new();
    hits.iter()
        .map(|h| h.image_id)
        .filter(|id| seen.insert(*id))
        .collect()
}

/// Reciprocal rank fusion of ranked lists of pictures: the `top` pictures
/// by the sum of 1 / ([`RRF_K`] + rank) over the lists they are in, each
/// with the signals that found it and its rank there. Ties go to the
/// picture first in the earlier list.
pub fn fuse(lists: &[(Signal, Vec<ImageId>)], top: usize) -> Vec<(ImageId, Vec<FoundBy>)> {
    let mut fused: Vec<(ImageId, f64, Vec<FoundBy>)> = Vec::new();
    for (signal, ids) in lists {
        for (at, id) in ids.iter().enumerate() {
            let rank = u32::try_from(at + 1).unwrap_or(u32::MAX);
            let found = FoundBy {
                signal: *signal,
                rank,
            };
            let score = 1.0 / (RRF_K + f64::from(rank));
            match fused.iter_mut().find(|(known, _, _)| known == id) {
                Some((_, total, by)) => {
                    *total += score;
                    by.push(found);
                }
                None => fused.push((*id, score, vec![found])),
            }
        }
    }
    fused.sort_by(|a, b| b.1.total_cmp(&a.1));
    fused.truncate(top);
    fused.into_iter().map(|(id, _, by)| (id, by)).collect()
}

/// Marks each posting of the report's matches whose words hold the query
/// (its excerpt in `words_hit`), puts those first among the match's
/// postings, best first, and records the query and a note of how many.
pub fn mark_postings(report: &mut Report, query: &TextQuery, hits: &[PostingHit]) {
    let by_sighting: HashMap<i64, (usize, &Snippet)> = hits
        .iter()
        .enumerate()
        .map(|(at, h)| (h.sighting_id, (at, &h.snippet)))
        .collect();
    let (mut marked, mut total) = (0, 0);
    for m in &mut report.matches {
        for s in &mut m.sightings {
            total += 1;
            if let Some((_, snippet)) = by_sighting.get(&s.id) {
                s.words_hit = Some((*snippet).clone());
                marked += 1;
            }
        }
        m.sightings
            .sort_by_key(|s| by_sighting.get(&s.id).map_or(usize::MAX, |(at, _)| *at));
    }
    report.words_query = Some(query.display());
    report.notes.push(format!(
        "{marked} of the {total} postings of these matches were posted with the words {}.",
        query.display()
    ));
}

/// `match --text`: marks the postings of the report's matches whose words
/// hold `query`, those first.
pub async fn mark_matching_postings(
    store: &dyn Store,
    report: &mut Report,
    query: &TextQuery,
) -> Result<(), LookupError> {
    let ids: Vec<ImageId> = report.matches.iter().map(|m| m.image.id).collect();
    let hits = store
        .search_postings(query, Some(&ids), MAX_MARKED_POSTINGS)
        .await?;
    mark_postings(report, query, &hits);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fusion_rewards_agreement_and_says_who_found_what() {
        let lists = [
            (Signal::Picture, vec![1, 2, 3]),
            (Signal::PageWords, vec![3, 4]),
        ];
        let fused = fuse(&lists, 10);
        let order: Vec<ImageId> = fused.iter().map(|(id, _)| *id).collect();
        assert_eq!(order, [3, 1, 2, 4], "found by both beats first by one");
        assert_eq!(
            fused[0].1,
            [
                FoundBy {
                    signal: Signal::Picture,
                    rank: 3
                },
                FoundBy {
                    signal: Signal::PageWords,
                    rank: 1
                }
            ]
        );
        assert_eq!(fuse(&lists, 2).len(), 2);
        assert!(fuse(&[], 5).is_empty());
    }

    #[test]
    fn ties_keep_the_earlier_lists_order() {
        let fused = fuse(
            &[(Signal::Picture, vec![7]), (Signal::PageWords, vec![8])],
            5,
        );
        assert_eq!(fused.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [7, 8]);
    }
}
