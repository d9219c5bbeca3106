//! Putting a report together from what `provenance match` gathered: the
//! ranked matches and the store's records of them. Pure: the command does
//! the I/O (store look-ups, thumbnails) and hands the results in.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{Mode, QueryInfo, Report, ReportMatch, SCHEMA_VERSION};
use crate::matching::{order_origins, origin::missing_origin_evidence, RankedMatch, Thresholds};
use crate::model::{ImageId, ImageRecord, ModelInfo, SightingRecord};

/// At most this many origin claims are shown; the rest share weaker or equal
/// evidence and are counted in a note.
pub const MAX_ORIGIN_CLAIMS: usize = 20;

/// What the store holds about one matched image, plus its thumbnail.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchRecords {
    /// The image.
    pub image: ImageRecord,
    /// Every sighting of it.
    pub sightings: Vec<SightingRecord>,
    /// Its thumbnail, when one could be made.
    pub thumbnail_data_uri: Option<String>,
}

/// The parts of a report that do not come from the matches.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportContext {
    /// When the report is made.
    pub generated_at: DateTime<Utc>,
    /// The query.
    pub query: QueryInfo,
    /// Which evidence was used.
    pub mode: Mode,
    /// The embedding model, if any.
    pub model: Option<ModelInfo>,
    /// The thresholds the kinds were decided with.
    pub thresholds: Thresholds,
    /// Notes from the command (skipped candidates, …), shown first.
    pub notes: Vec<String>,
}

/// Builds the report: matches in ranked order with their sightings, origin
/// evidence from the exact copies and near-duplicates (the strongest
/// [`MAX_ORIGIN_CLAIMS`]), and notes about what is missing. A ranked image without records is left out, with a note.
pub fn assemble(
    context: ReportContext,
    ranked: &[RankedMatch],
    records: &BTreeMap<ImageId, MatchRecords>,
) -> Report {
    let mut notes = context.notes;
    let mut matches = Vec::with_capacity(ranked.len());
    let mut group = Vec::new();
    for m in ranked {
        let Some(r) = records.get(&m.image_id) else {
            notes.push(format!(
                "Image {} was ranked but is no longer in the store; it is left out.",
                m.image_id
            ));
            continue;
        };
        let rank = u32::try_from(matches.len() + 1).unwrap_or(u32::MAX);
        matches.push(ReportMatch::new(
            rank,
            m,
            &r.image,
            &r.sightings,
            r.thumbnail_data_uri.clone(),
        ));
        if m.kind.is_same_picture() {
            group.push((r.image.clone(), r.sightings.clone()));
        }
    }
    if context.mode == Mode::HashOnly {
        notes.push(
            "Hash-only mode: without embeddings, similar pictures cannot be found, and probable duplicates (hash distance in the probable band: light crops, frames) cannot be confirmed, so they are shown as similar."
                .to_string(),
        );
    }
    notes.extend(missing_origin_evidence(&group));
    let mut origins = order_origins(&group);
    if origins.len() > MAX_ORIGIN_CLAIMS {
        notes.push(format!(
            "{} more postings with weaker or equal evidence of origin are not listed.",
            origins.len() - MAX_ORIGIN_CLAIMS
        ));
        origins.truncate(MAX_ORIGIN_CLAIMS);
    }
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        generated_at: context.generated_at,
        query: context.query,
        mode: context.mode,
        model: context.model,
        thresholds: context.thresholds,
        matches,
        origins,
        timeline: Vec::new(),
        likely_original: None,
        words_query: None,
        notes,
    };
    super::timeline::settle(&mut report);
    report
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::matching::{Decider, Evidence, MatchKind};
    use crate::model::ExifSummary;

    fn at(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, d, 0, 0, 0).single().unwrap()
    }

    fn records(id: ImageId, width: u32) -> MatchRecords {
        let image = ImageRecord {
            id,
            sha256: format!("{id:064x}"),
            sha1: None,
            perceptual_hashes: Vec::new(),
            width,
            height: width,
            format: "png".into(),
            byte_size: 10,
            exif: ExifSummary::default(),
            embedded: None,
            has_embedding: false,
            first_seen_at: at(1),
            last_seen_at: at(2),
        };
        let sighting = SightingRecord {
            id: id * 10,
            image_id: id,
            image_url: format!("https://e.example/{id}.png"),
            page_url: None,
            page_title: None,
            site: None,
            provider: None,
            scan_id: None,
            keyphrase: None,
            rank: None,
            first_seen_at: at(u32::try_from(id).unwrap()),
            last_seen_at: at(20),
            last_modified: None,
            etag: None,
            source_facts: None,
            words: None,
            checked_at: None,
            gone_at: None,
        };
        MatchRecords {
            image,
            sightings: vec![sighting],
            thumbnail_data_uri: None,
        }
    }

    fn ranked(image_id: ImageId, kind: MatchKind) -> RankedMatch {
        RankedMatch {
            image_id,
            kind,
            evidence: Evidence::default(),
            decided_by: Decider::Embedding,
        }
    }

    fn context() -> ReportContext {
        ReportContext {
            generated_at: at(22),
            query: QueryInfo {
                label: "q.png".into(),
                sha256: None,
                width: None,
                height: None,
                thumbnail_data_uri: None,
            },
            mode: Mode::HashOnly,
            model: None,
            thresholds: Thresholds::default(),
            notes: vec!["2 candidates skipped.".into()],
        }
    }

    #[test]
    fn origins_come_from_the_same_picture_only_and_ranks_stay_consecutive() {
        let store: BTreeMap<ImageId, MatchRecords> =
            [records(1, 100), records(2, 400), records(3, 900)]
                .into_iter()
                .map(|r| (r.image.id, r))
                .collect();
        let ranking = [
            ranked(1, MatchKind::ExactCopy),
            ranked(9, MatchKind::NearDuplicate), // gone from the store
            ranked(2, MatchKind::NearDuplicate),
            ranked(3, MatchKind::Similar), // larger, but another picture
        ];
        let report = assemble(context(), &ranking, &store);
        let ranks: Vec<(u32, ImageId)> = report
            .matches
            .iter()
            .map(|m| (m.rank, m.image.id))
            .collect();
        assert_eq!(ranks, [(1, 1), (2, 2), (3, 3)]);
        let claimed: Vec<ImageId> = report.origins.iter().map(|c| c.image_id).collect();
        // Image 2 is the larger version; image 1 was first seen earlier.
        assert_eq!(claimed, [2, 1]);
        assert_eq!(report.notes[0], "2 candidates skipped.");
        assert_eq!(
            report.notes[1],
            "Image 9 was ranked but is no longer in the store; it is left out."
        );
        assert!(report.notes[2].starts_with("Hash-only mode"));
        assert_eq!(report.notes.len(), 5, "{:?}", report.notes);
    }

    #[test]
    fn origin_claims_are_capped_with_a_note() {
        let image = ImageRecord {
            id: 1,
            sha256: "00".repeat(32),
            sha1: None,
            perceptual_hashes: Vec::new(),
            width: 10,
            height: 10,
            format: "png".into(),
            byte_size: 1,
            exif: ExifSummary::default(),
            embedded: None,
            has_embedding: false,
            first_seen_at: at(1),
            last_seen_at: at(20),
        };
        // 30 postings, all with the same Last-Modified, first seen at once
        // except one seen later: 29 tie on both criteria.
        let sightings: Vec<SightingRecord> = (0..30)
            .map(|i| SightingRecord {
                id: i,
                image_id: 1,
                image_url: format!("https://e.example/{i}.png"),
                page_url: None,
                page_title: None,
                site: None,
                provider: None,
                scan_id: None,
                keyphrase: None,
                rank: None,
                first_seen_at: if i == 29 { at(9) } else { at(2) },
                last_seen_at: at(20),
                last_modified: Some(at(1)),
                etag: None,
                source_facts: None,
                words: None,
                checked_at: None,
                gone_at: None,
            })
            .collect();
        let records = BTreeMap::from([(
            1,
            MatchRecords {
                image,
                sightings,
                thumbnail_data_uri: None,
            },
        )]);
        let ranked = [RankedMatch {
            image_id: 1,
            kind: MatchKind::ExactCopy,
            evidence: Evidence::default(),
            decided_by: Decider::SameBytes,
        }];
        let report = assemble(context(), &ranked, &records);
        assert_eq!(report.origins.len(), MAX_ORIGIN_CLAIMS);
        assert_eq!(report.origins[0].sighting_id, Some(0));
        assert!(report.notes.contains(
            &"9 more postings with weaker or equal evidence of origin are not listed.".to_string()
        ));
    }
}
