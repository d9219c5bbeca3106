//! Origins: among the postings of one picture (the query's exact copies and
//! near-duplicates), which carry evidence of being the source, and what
//! that evidence is, in plain words.
//!
//! Evidence, strongest first: the earliest EXIF `DateTimeOriginal` (the
//! camera's clock, kept by copies that keep metadata), the earliest HTTP
//! `Last-Modified` (the server's file date, reset by re-uploads), the largest
//! version (copies are rarely larger than their source), and the earliest
//! first sighting by us (only when we looked). None of it is proof; claims
//! only state what the evidence shows.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{ImageId, ImageRecord, SightingRecord};

mod wording;

/// Which kind of date a piece of evidence is; they are not equally strong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateKind {
    /// EXIF `DateTimeOriginal`: when the camera says it took the picture.
    ExifDateTimeOriginal,
    /// HTTP `Last-Modified` of the image response.
    HttpLastModified,
    /// The first time a scan of ours saw this posting.
    FirstSeenByUs,
}

/// One piece of evidence that a posting is the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OriginEvidence {
    /// The earliest date of its kind in the group.
    EarliestDate {
        /// Which kind of date.
        date_kind: DateKind,
        /// The date: EXIF as written in the file (no time zone), others in
        /// RFC 3339, UTC.
        date: String,
        /// How many candidates (versions for EXIF, postings otherwise) have
        /// a date of this kind.
        among: usize,
        /// How many other candidates have the same earliest date.
        tied_with: usize,
    },
    /// The version with the most pixels.
    LargestVersion {
        /// Pixel width.
        width: u32,
        /// Pixel height.
        height: u32,
        /// How many versions (distinct files) there are.
        among: usize,
        /// How many other versions are as large.
        tied_with: usize,
    },
}

impl OriginEvidence {
    /// Weight of this evidence when ordering claims; stronger is larger.
    fn weight(&self) -> u32 {
        match self {
            Self::EarliestDate {
                date_kind: DateKind::ExifDateTimeOriginal,
                ..
            } => 8,
            Self::EarliestDate {
                date_kind: DateKind::HttpLastModified,
                ..
            } => 4,
            Self::LargestVersion { .. } => 2,
            Self::EarliestDate {
                date_kind: DateKind::FirstSeenByUs,
                ..
            } => 1,
        }
    }
}

/// A posting with evidence of being the source, and why, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginClaim {
    /// The image (version) posted.
    pub image_id: ImageId,
    /// The sighting, when the image has one.
    pub sighting_id: Option<i64>,
    /// URL of the image.
    pub image_url: Option<String>,
    /// Page carrying it.
    pub page_url: Option<String>,
    /// Title of that page, as scraped.
    pub page_title: Option<String>,
    /// Site or domain.
    pub site: Option<String>,
    /// Pixel width of this version.
    pub width: u32,
    /// Pixel height of this version.
    pub height: u32,
    /// The evidence, strongest first.
    pub evidence: Vec<OriginEvidence>,
    /// The evidence in plain words, e.g. "earliest HTTP Last-Modified among
    /// 14 postings that send one (2024-05-01 10:00 UTC; …)".
    pub reasons: Vec<String>,
}

/// One place one version was seen (or the version alone, if never seen on a
/// page).
struct Posting<'a> {
    image: &'a ImageRecord,
    sighting: Option<&'a SightingRecord>,
}

impl Posting<'_> {
    fn first_seen(&self) -> DateTime<Utc> {
        self.sighting
            .map_or(self.image.first_seen_at, |s| s.first_seen_at)
    }

    /// `Last-Modified`, unless it is after we fetched the file (impossible,
    /// so a wrong server clock: no evidence).
    fn last_modified(&self) -> Option<DateTime<Utc>> {
        let s = self.sighting?;
        s.last_modified
            .filter(|lm| *lm <= s.last_seen_at + Duration::days(1))
    }
}

/// Orders the postings of one picture by the evidence that they are its
/// source, strongest first; postings with no such evidence are left out.
///
/// `group` holds each version (an exact copy or near-duplicate of the
/// query) with its sightings. A criterion is used only when it tells
/// postings apart (or when there is a single candidate); ties are reported
/// as ties. Claims are ordered by their strongest evidence (EXIF date, then
/// Last-Modified, then size, then first seen), then by image and sighting id.
pub fn order_origins(group: &[(ImageRecord, Vec<SightingRecord>)]) -> Vec<OriginClaim> {
    let postings = postings_of(group);
    let mut evidence: BTreeMap<usize, Vec<OriginEvidence>> = BTreeMap::new();
    let mut add = |found: Vec<(usize, OriginEvidence)>| {
        for (i, e) in found {
            evidence.entry(i).or_default().push(e);
        }
    };
    add(earliest_exif(&postings));
    add(earliest_last_modified(&postings));
    add(largest_version(&postings));
    add(earliest_first_seen(&postings));
    let mut claims: Vec<(u32, OriginClaim)> = evidence
        .into_iter()
        .map(|(i, mut e)| {
            e.sort_by_key(|x| std::cmp::Reverse(x.weight()));
            (
                e.iter().map(OriginEvidence::weight).sum(),
                claim(&postings[i], e),
            )
        })
        .collect();
    claims.sort_by(|(wa, a), (wb, b)| {
        wb.cmp(wa)
            .then(a.image_id.cmp(&b.image_id))
            .then(a.sighting_id.cmp(&b.sighting_id))
    });
    claims.into_iter().map(|(_, c)| c).collect()
}

/// Sentences about evidence the group lacks, for the report's notes.
pub fn missing_origin_evidence(group: &[(ImageRecord, Vec<SightingRecord>)]) -> Vec<String> {
    let postings = postings_of(group);
    let mut notes = Vec::new();
    if postings.is_empty() {
        return notes;
    }
    if !postings.iter().any(|p| exif_date(p.image).is_some()) {
        notes.push(
            "No version carries an EXIF DateTimeOriginal, so there is no capture date.".to_string(),
        );
    }
    if !postings.iter().any(|p| p.last_modified().is_some()) {
        notes.push("No posting sent a usable HTTP Last-Modified date.".to_string());
    }
    notes
}

fn postings_of(group: &[(ImageRecord, Vec<SightingRecord>)]) -> Vec<Posting<'_>> {
    group
        .iter()
        .flat_map(|(image, sightings)| {
            let seen: Vec<Posting<'_>> = sightings
                .iter()
                .map(|s| Posting {
                    image,
                    sighting: Some(s),
                })
                .collect();
            if seen.is_empty() {
                vec![Posting {
                    image,
                    sighting: None,
                }]
            } else {
                seen
            }
        })
        .collect()
}

fn claim(p: &Posting<'_>, evidence: Vec<OriginEvidence>) -> OriginClaim {
    OriginClaim {
        image_id: p.image.id,
        sighting_id: p.sighting.map(|s| s.id),
        image_url: p.sighting.map(|s| s.image_url.clone()),
        page_url: p.sighting.and_then(|s| s.page_url.clone()),
        page_title: p.sighting.and_then(|s| s.page_title.clone()),
        site: p.sighting.and_then(|s| s.site.clone()),
        width: p.image.width,
        height: p.image.height,
        reasons: evidence.iter().map(wording::reason).collect(),
        evidence,
    }
}

/// EXIF `DateTimeOriginal` of a version, if it parses and is not after the
/// file was first seen (a camera clock set in the future is no evidence).
fn exif_date(image: &ImageRecord) -> Option<NaiveDateTime> {
    let raw = image.exif.date_time_original.as_deref()?.trim();
    let parsed = [
        "%Y:%m:%d %H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())?;
    let latest_possible = (image.first_seen_at + Duration::days(1)).naive_utc();
    (parsed <= latest_possible).then_some(parsed)
}

/// The candidates holding the smallest key of one criterion.
struct Leaders<K> {
    /// The smallest key.
    key: K,
    /// Indices of the postings of the leading candidates.
    postings: Vec<usize>,
    /// How many candidates have a key at all.
    among: usize,
    /// How many leading candidates besides the first.
    tied_with: usize,
}

impl<K> Leaders<K> {
    /// The same evidence for every posting of every leader.
    fn award(self, evidence: OriginEvidence) -> Vec<(usize, OriginEvidence)> {
        self.postings
            .into_iter()
            .map(|i| (i, evidence.clone()))
            .collect()
    }
}

/// Finds the candidates with the smallest key, among those with one;
/// `None` when no candidate has a key, or when several do and all tie (the
/// criterion then tells nothing apart). `candidate` names what counts as one
/// candidate: a version or a posting.
fn earliest<K: Ord + Copy>(
    postings: &[Posting<'_>],
    key: impl Fn(&Posting<'_>) -> Option<K>,
    candidate: impl Fn(usize, &Posting<'_>) -> (ImageId, usize),
) -> Option<Leaders<K>> {
    let mut by_candidate: BTreeMap<(ImageId, usize), (K, Vec<usize>)> = BTreeMap::new();
    for (i, p) in postings.iter().enumerate() {
        if let Some(k) = key(p) {
            let entry = by_candidate
                .entry(candidate(i, p))
                .or_insert((k, Vec::new()));
            entry.1.push(i);
        }
    }
    let min = by_candidate.values().map(|(k, _)| *k).min()?;
    let leaders: Vec<&Vec<usize>> = by_candidate
        .values()
        .filter(|(k, _)| *k == min)
        .map(|(_, v)| v)
        .collect();
    let among = by_candidate.len();
    if among > 1 && leaders.len() == among {
        return None;
    }
    Some(Leaders {
        key: min,
        tied_with: leaders.len() - 1,
        postings: leaders.into_iter().flatten().copied().collect(),
        among,
    })
}

fn per_version(_: usize, p: &Posting<'_>) -> (ImageId, usize) {
    (p.image.id, 0)
}

fn per_posting(i: usize, p: &Posting<'_>) -> (ImageId, usize) {
    (p.image.id, i)
}

/// Evidence for the leaders of a date criterion, the date shown by `show`.
fn date_evidence<K>(
    leaders: Option<Leaders<K>>,
    date_kind: DateKind,
    show: impl Fn(&K) -> String,
) -> Vec<(usize, OriginEvidence)> {
    let Some(leaders) = leaders else {
        return Vec::new();
    };
    let evidence = OriginEvidence::EarliestDate {
        date_kind,
        date: show(&leaders.key),
        among: leaders.among,
        tied_with: leaders.tied_with,
    };
    leaders.award(evidence)
}

fn earliest_exif(postings: &[Posting<'_>]) -> Vec<(usize, OriginEvidence)> {
    let leaders = earliest(postings, |p| exif_date(p.image), per_version);
    date_evidence(leaders, DateKind::ExifDateTimeOriginal, |d| {
        d.format("%Y:%m:%d %H:%M:%S").to_string()
    })
}

fn earliest_last_modified(postings: &[Posting<'_>]) -> Vec<(usize, OriginEvidence)> {
    let leaders = earliest(postings, |p| p.last_modified(), per_posting);
    date_evidence(leaders, DateKind::HttpLastModified, rfc3339)
}

fn earliest_first_seen(postings: &[Posting<'_>]) -> Vec<(usize, OriginEvidence)> {
    let leaders = earliest(postings, |p| Some(p.first_seen()), per_posting);
    date_evidence(leaders, DateKind::FirstSeenByUs, rfc3339)
}

/// The versions with the most pixels, if some version has fewer.
fn largest_version(postings: &[Posting<'_>]) -> Vec<(usize, OriginEvidence)> {
    let Some(leaders) = earliest(postings, fewest_pixels_first, per_version) else {
        return Vec::new();
    };
    if leaders.among < 2 {
        return Vec::new();
    }
    let (among, tied_with) = (leaders.among, leaders.tied_with);
    // Each leader with its own width and height (equal pixel counts may
    // differ in shape).
    leaders
        .postings
        .into_iter()
        .map(|i| {
            let image = postings[i].image;
            let evidence = OriginEvidence::LargestVersion {
                width: image.width,
                height: image.height,
                among,
                tied_with,
            };
            (i, evidence)
        })
        .collect()
}

/// Pixel count as a key whose smallest value is the largest image.
fn fewest_pixels_first(p: &Posting<'_>) -> Option<std::cmp::Reverse<u64>> {
    Some(std::cmp::Reverse(
        u64::from(p.image.width) * u64::from(p.image.height),
    ))
}

fn rfc3339(date: &DateTime<Utc>) -> String {
    date.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests;
