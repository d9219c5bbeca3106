//! How a person looks at a report: matches sorted (by rank, oldest first,
//! largest first, by kind), filtered (by kind, site, decision), grouped by
//! site; the scores in words; every dated piece of evidence on one
//! timeline. Pure functions shared by the static HTML report and the web
//! UI, so both show the same.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Report, ReportMatch, ReportSighting};
use crate::matching::{MatchKind, Thresholds, HASH_BITS};

/// Order of the matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// As ranked: strongest evidence first.
    #[default]
    Rank,
    /// Earliest known date first (first seen, Last-Modified).
    Oldest,
    /// Most pixels first.
    Largest,
    /// Exact copies, near-duplicates, similar; rank within each.
    Kind,
}

impl Sort {
    /// Every order, as offered.
    pub const ALL: [Self; 4] = [Self::Rank, Self::Oldest, Self::Largest, Self::Kind];

    /// Name in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rank => "rank",
            Self::Oldest => "oldest",
            Self::Largest => "largest",
            Self::Kind => "kind",
        }
    }

    /// In words.
    pub fn label(self) -> &'static str {
        match self {
            Self::Rank => "best evidence first",
            Self::Oldest => "oldest first",
            Self::Largest => "largest first",
            Self::Kind => "by kind",
        }
    }
}

/// How the matches are shown; from the results page's query string, every
/// field optional (an empty value is no filter).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct View {
    /// Order.
    #[serde(default)]
    pub sort: Sort,
    /// `site` groups the matches by the site they were seen on.
    #[serde(default)]
    pub group: String,
    /// Only this kind (`exact_copy`, `near_duplicate`, `similar`).
    #[serde(default)]
    pub kind: String,
    /// Only matches seen on this site.
    #[serde(default)]
    pub site: String,
    /// Only this decision (`confirmed`, `not_a_copy`, `ignored`) or
    /// `unreviewed`.
    #[serde(default)]
    pub review: String,
}

/// Matches under one heading.
#[derive(Debug, Clone, PartialEq)]
pub struct Group<'r> {
    /// The site, when grouped by site.
    pub site: Option<String>,
    /// The matches, in the view's order.
    pub matches: Vec<&'r ReportMatch>,
}

impl View {
    /// Grouped by site.
    pub fn by_site(&self) -> bool {
        self.group == "site"
    }

    fn keeps(&self, m: &ReportMatch) -> bool {
        let kind_ok = self.kind.is_empty() || m.kind.as_str() == self.kind;
        let site_ok = self.site.is_empty() || sites_of(m).contains(&self.site);
        let review_ok = match (self.review.as_str(), &m.review) {
            ("", _) => true,
            ("unreviewed", r) => r.is_none(),
            (wanted, Some(r)) => r.decision.as_str() == wanted,
            (_, None) => false,
        };
        kind_ok && site_ok && review_ok
    }

    /// The report's matches as this view shows them.
    pub fn arrange<'r>(&self, report: &'r Report) -> Vec<Group<'r>> {
        let mut kept: Vec<&ReportMatch> = report.matches.iter().filter(|m| self.keeps(m)).collect();
        match self.sort {
            Sort::Rank => kept.sort_by_key(|m| m.rank),
            Sort::Oldest => kept.sort_by_key(|m| (earliest(m).is_none(), earliest(m), m.rank)),
            Sort::Largest => kept.sort_by_key(|m| {
                (
                    std::cmp::Reverse(u64::from(m.image.width) * u64::from(m.image.height)),
                    m.rank,
                )
            }),
            Sort::Kind => kept.sort_by_key(|m| (m.kind, m.rank)),
        }
        if !self.by_site() {
            return vec![Group {
                site: None,
                matches: kept,
            }];
        }
        let sites: BTreeSet<String> = kept.iter().flat_map(|m| sites_of(m)).collect();
        let mut groups: Vec<Group> = sites
            .into_iter()
            .filter(|s| self.site.is_empty() || *s == self.site)
            .map(|site| Group {
                matches: kept
                    .iter()
                    .copied()
                    .filter(|m| sites_of(m).contains(&site))
                    .collect(),
                site: Some(site),
            })
            .collect();
        let unseen: Vec<&ReportMatch> = kept
            .into_iter()
            .filter(|m| m.sightings.is_empty())
            .collect();
        if !unseen.is_empty() && self.site.is_empty() {
            groups.push(Group {
                site: Some(NO_SITE.into()),
                matches: unseen,
            });
        }
        groups
    }
}

/// The heading of matches never seen on a page (local files).
pub const NO_SITE: &str = "(not seen on the web)";

/// The site of a sighting: as recorded, else the host of its page or image.
pub fn site_of(s: &ReportSighting) -> String {
    s.site
        .clone()
        .filter(|x| !x.trim().is_empty())
        .or_else(|| {
            let url = s.page_url.as_deref().unwrap_or(&s.image_url);
            url::Url::parse(url).ok()?.host_str().map(str::to_string)
        })
        .unwrap_or_else(|| "(no site)".into())
}

/// Every site a match was seen on.
pub fn sites_of(m: &ReportMatch) -> BTreeSet<String> {
    m.sightings.iter().map(site_of).collect()
}

/// Every site in the report, sorted.
pub fn sites(report: &Report) -> Vec<String> {
    report
        .matches
        .iter()
        .flat_map(sites_of)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The earliest date known of a match: first seen by us, or a
/// `Last-Modified` of one of its postings.
pub fn earliest(m: &ReportMatch) -> Option<DateTime<Utc>> {
    m.sightings
        .iter()
        .flat_map(|s| [Some(s.first_seen_at), s.last_modified])
        .flatten()
        .chain([m.image.first_seen_at])
        .min()
}

/// Why the match is what it is, in sentences.
pub fn explain(m: &ReportMatch, t: &Thresholds) -> Vec<String> {
    let mut why = Vec::new();
    if m.kind == MatchKind::ExactCopy {
        why.push("The very same file: the bytes are identical (same SHA-256).".into());
    }
    if let Some(n) = m.verified_inliers {
        why.push(if n >= t.min_verified_inliers {
            format!("{n} keypoints agree on one placement (shift, turn, scale); {} make the same picture, so a crop, screenshot, rotation or collage of it.", t.min_verified_inliers)
        } else {
            format!("Only {n} keypoints agree on one placement ({} would make the same picture).", t.min_verified_inliers)
        });
    }
    if let Some(d) = m.hash_distance {
        let closeness = if d <= t.near_duplicate_max_hash_distance {
            "close enough to be the same picture"
        } else if d <= t.probable_duplicate_max_hash_distance {
            "close, but not enough alone"
        } else {
            "not alike"
        };
        why.push(format!(
            "The perceptual hashes differ in {d} of {HASH_BITS} bits: {closeness} (a copy is within {}).",
            t.near_duplicate_max_hash_distance
        ));
    }
    if let Some(s) = m.similarity.filter(|s| s.is_finite()) {
        why.push(format!(
            "Embedding similarity {s:.3} (similar from {:.2}, the same picture from {:.2}).",
            t.similar_min_similarity, t.near_duplicate_min_similarity
        ));
    }
    match super::words::found_by(&m.found_by) {
        Some(found) => why.push(found),
        None => {
            if let Some(by) = m.decided_by {
                why.push(format!("Decided by {}.", by.label()));
            }
        }
    }
    why
}
