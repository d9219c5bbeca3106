//! The methods compared, and the table: recall@1 and the precision of the
//! "same picture" label (exact copy or near-duplicate) per transformation.

use std::cmp::Reverse;
use std::time::Duration;

use provenance::hash::STRICT_MATCH_DISTANCE;
use provenance::matching::{rank, Evidence, MatchCandidate, Thresholds};
use provenance::verify::VerifySettings;

use crate::eval::{QueryResult, Stored};
use crate::transforms;

/// A method's answer for one query: the top stored picture and every
/// stored picture it labels the same picture.
struct Answer {
    top: Option<usize>,
    labelled: Vec<usize>,
    /// Whether the original was among the pictures verified (methods
    /// with a shortlist only).
    shortlisted: Option<bool>,
}

/// Hash evidence (and optionally the embedding) through the project's
/// `matching::rank` with its default thresholds.
fn ranked(q: &QueryResult, with_clip: bool) -> Vec<(usize, bool)> {
    let candidates = (0..q.distances.len())
        .map(|i| MatchCandidate {
            image_id: i as i64,
            evidence: Evidence {
                same_bytes: q.same_bytes[i],
                hash_distance: q.distances[i],
                similarity: with_clip.then_some(q.similarities[i]),
                verified_inliers: None,
                hash_ambiguous: false,
                colour_distance: None,
            },
        })
        .collect();
    rank(candidates, &Thresholds::default(), usize::MAX)
        .into_iter()
        .map(|m| (m.image_id as usize, m.kind.is_same_picture()))
        .collect()
}

fn by_rank(q: &QueryResult, with_clip: bool) -> Answer {
    let ranked = ranked(q, with_clip);
    Answer {
        top: ranked.first().map(|(i, _)| *i),
        labelled: ranked.iter().filter(|(_, s)| *s).map(|(i, _)| *i).collect(),
        shortlisted: None,
    }
}

/// Keypoint verification of a shortlist (all pictures when `k` is None):
/// verified pictures first, most inliers first, then the hash ranking.
/// Same picture: same bytes, hash within the strict distance, or verified.
fn verified(q: &QueryResult, k: Option<usize>, settings: &VerifySettings) -> Answer {
    let n = q.distances.len();
    let shortlist: Vec<usize> = match k {
        None => (0..n).collect(),
        Some(k) => {
            let mut by_hash: Vec<usize> = (0..n).collect();
            by_hash.sort_by_key(|i| (q.distances[*i].unwrap_or(u32::MAX), *i));
            let mut by_clip: Vec<usize> = (0..n).collect();
            by_clip.sort_by(|a, b| q.similarities[*b].total_cmp(&q.similarities[*a]));
            let mut s: Vec<usize> = by_hash[..k.min(n)].to_vec();
            s.extend(&by_clip[..k.min(n)]);
            s.sort_unstable();
            s.dedup();
            s
        }
    };
    let mut passed: Vec<usize> = shortlist
        .iter()
        .copied()
        .filter(|i| q.inliers[*i] >= settings.min_inliers)
        .collect();
    passed.sort_by_key(|i| (Reverse(q.inliers[*i]), *i));
    let hash_order = ranked(q, false);
    let top = passed
        .first()
        .copied()
        .or(hash_order.first().map(|(i, _)| *i));
    let mut labelled = passed.clone();
    labelled.extend((0..n).filter(|i| {
        q.same_bytes[*i] || q.distances[*i].is_some_and(|d| d <= STRICT_MATCH_DISTANCE)
    }));
    labelled.sort_unstable();
    labelled.dedup();
    Answer {
        top,
        labelled,
        shortlisted: Some(shortlist.contains(&q.original)),
    }
}

#[derive(Default)]
struct Tally {
    queries: usize,
    top1: usize,
    labelled: usize,
    labelled_right: usize,
    original_labelled: usize,
    shortlisted: usize,
    with_shortlist: usize,
}

impl Tally {
    fn add(&mut self, q: &QueryResult, a: &Answer) {
        self.queries += 1;
        self.top1 += usize::from(a.top == Some(q.original));
        self.labelled += a.labelled.len();
        self.labelled_right += a.labelled.iter().filter(|i| **i == q.original).count();
        self.original_labelled += usize::from(a.labelled.contains(&q.original));
        self.shortlisted += usize::from(a.shortlisted == Some(true));
        self.with_shortlist += usize::from(a.shortlisted.is_some());
    }

    fn cells(&self) -> String {
        let ratio = |a: usize, b: usize| {
            if b == 0 {
                "–".to_owned()
            } else {
                format!("{:.3}", a as f64 / b as f64)
            }
        };
        format!(
            "{} | {} | {}",
            ratio(self.top1, self.queries),
            ratio(self.labelled_right, self.labelled),
            ratio(self.original_labelled, self.queries)
        )
    }
}

/// A method: evidence of one query → its answer.
type Method<'a> = Box<dyn Fn(&QueryResult) -> Answer + 'a>;

/// Prints the tables and the costs.
pub fn print(
    results: &[QueryResult],
    index: &[Stored],
    settings: &VerifySettings,
    shortlist: usize,
    index_time: Duration,
) {
    let methods: Vec<(String, Method)> = vec![
        (
            "pHash (project thresholds)".into(),
            Box::new(|q| by_rank(q, false)),
        ),
        (
            "pHash + CLIP (tiny random weights: meaningless)".into(),
            Box::new(|q| by_rank(q, true)),
        ),
        (
            format!("pHash + keypoints, shortlist {shortlist} by hash ∪ {shortlist} by CLIP"),
            Box::new(move |q| verified(q, Some(shortlist), settings)),
        ),
        (
            format!(
                "pHash + keypoints, shortlist {} by hash ∪ {} by CLIP",
                4 * shortlist,
                4 * shortlist
            ),
            Box::new(move |q| verified(q, Some(4 * shortlist), settings)),
        ),
        (
            "pHash + keypoints, every stored picture".into(),
            Box::new(|q| verified(q, None, settings)),
        ),
    ];
    let originals = index.iter().filter(|s| s.name.starts_with("o_")).count();
    println!(
        "{} stored pictures ({originals} originals, {} distractors), {} queries; \
         keypoints: {} per picture, same picture at ≥ {} inliers.\n",
        index.len(),
        index.len() - originals,
        results.len(),
        settings.max_keypoints,
        settings.min_inliers
    );
    for (name, method) in &methods {
        println!("**{name}** — recall@1 | label precision | label recall\n");
        println!("| transformation | queries | recall@1 | label precision | label recall | original shortlisted |");
        println!("|---|---|---|---|---|---|");
        let mut all = Tally::default();
        for transform in transforms::NAMES {
            let mut tally = Tally::default();
            for q in results.iter().filter(|q| q.transform == transform) {
                let answer = method(q);
                tally.add(q, &answer);
                all.add(q, &answer);
            }
            println!(
                "| {transform} | {} | {} | {} |",
                tally.queries,
                tally.cells(),
                format_ratio(tally.shortlisted, tally.with_shortlist)
            );
        }
        println!(
            "| **all** | {} | {} | {} |\n",
            all.queries,
            all.cells(),
            format_ratio(all.shortlisted, all.with_shortlist)
        );
    }
    print_misses(results, index, settings);
    print_margins(results, settings);
    print_costs(results, index.len(), index_time);
}

fn format_ratio(a: usize, b: usize) -> String {
    if b == 0 {
        "–".to_owned()
    } else {
        format!("{:.3}", a as f64 / b as f64)
    }
}

/// How far apart same-picture and different-picture inlier counts are.
fn print_margins(results: &[QueryResult], settings: &VerifySettings) {
    let mut negatives: Vec<usize> = results
        .iter()
        .flat_map(|q| {
            q.inliers
                .iter()
                .enumerate()
                .filter(move |(i, _)| *i != q.original)
                .map(|(_, n)| *n)
        })
        .collect();
    negatives.sort_unstable();
    let at = |p: f64| negatives[((negatives.len() - 1) as f64 * p) as usize];
    let over = negatives
        .iter()
        .filter(|n| **n >= settings.min_inliers)
        .count();
    println!(
        "Inliers between different pictures ({} pairs): median {}, 99.9th percentile {}, \
         99.99th {}, max {}; {over} pairs at or above the threshold {}.\n",
        negatives.len(),
        at(0.5),
        at(0.999),
        at(0.9999),
        negatives.last().copied().unwrap_or(0),
        settings.min_inliers
    );
    println!("| transformation | inliers with the original: min | median |");
    println!("|---|---|---|");
    for transform in transforms::NAMES {
        let mut positives: Vec<usize> = results
            .iter()
            .filter(|q| q.transform == transform)
            .map(|q| q.inliers[q.original])
            .collect();
        positives.sort_unstable();
        if let (Some(min), Some(median)) = (positives.first(), positives.get(positives.len() / 2)) {
            println!("| {transform} | {min} | {median} |");
        }
    }
    println!();
}

fn print_costs(results: &[QueryResult], stored: usize, index_time: Duration) {
    let n = results.len().max(1) as u32;
    let total = |f: fn(&QueryResult) -> Duration| results.iter().map(f).sum::<Duration>();
    let comparisons = (results.len() * stored).max(1) as f64;
    println!(
        "Costs (wall clock, all cores busy): indexing {:.1} ms per stored picture \
         (decode, hashes, keypoints, tiny CLIP); per query: pHash {:.2} ms, keypoints \
         (plain + mirrored) {:.1} ms, verification {:.1} µs per stored picture compared \
         ({:.0} ms for the whole index of {stored}).",
        index_time.as_secs_f64() * 1000.0 / stored.max(1) as f64,
        (total(|q| q.hash_time) / n).as_secs_f64() * 1000.0,
        (total(|q| q.feature_time) / n).as_secs_f64() * 1000.0,
        total(|q| q.verify_time).as_secs_f64() * 1e6 / comparisons,
        (total(|q| q.verify_time) / n).as_secs_f64() * 1000.0,
    );
}

/// The queries keypoint verification of every stored picture gets wrong.
fn print_misses(results: &[QueryResult], index: &[Stored], settings: &VerifySettings) {
    println!("Misses of keypoint verification over every stored picture:\n");
    for q in results {
        let answer = verified(q, None, settings);
        if answer.top != Some(q.original) {
            let top = answer.top.map_or("nothing".to_owned(), |t| {
                format!("{} ({} inliers)", index[t].name, q.inliers[t])
            });
            println!(
                "- {} {}: original {} inliers, first answer {top}",
                index[q.original].name, q.transform, q.inliers[q.original]
            );
        }
    }
    println!();
}
