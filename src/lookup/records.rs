//! Reading back what the store holds about each ranked match — the
//! picture, every sighting, the stored thumbnail — and assembling the
//! report from it.

use std::collections::BTreeMap;

use super::LookupError;
use crate::matching::RankedMatch;
use crate::model::ImageId;
use crate::report::{assemble, MatchRecords, Report, ReportContext};
use crate::store::Store;
use crate::thumbnail::jpeg_data_uri;

/// The report for `ranked`; a match no longer in the store is left out
/// with a note (another process may have deleted it meanwhile).
pub(super) async fn report(
    store: &dyn Store,
    context: ReportContext,
    ranked: &[RankedMatch],
) -> Result<Report, LookupError> {
    let mut records = BTreeMap::new();
    for m in ranked {
        if let Some(found) = match_records(store, m.image_id).await? {
            records.insert(m.image_id, found);
        }
    }
    Ok(assemble(context, ranked, &records))
}

/// One match's records, read together.
async fn match_records(
    store: &dyn Store,
    id: ImageId,
) -> Result<Option<MatchRecords>, LookupError> {
    let (image, sightings, thumbnail) =
        tokio::try_join!(store.image(id), store.sightings(id), store.thumbnail(id))?;
    Ok(image.map(|image| MatchRecords {
        image,
        sightings,
        thumbnail_data_uri: thumbnail.map(|jpeg| jpeg_data_uri(&jpeg)),
    }))
}
