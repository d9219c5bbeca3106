//! How a query and one stored picture line up: the keypoint verification
//! of the pair redone, with the transform it found turned into the outline
//! of each picture inside the other — what the compare view draws.

use serde::Serialize;

use super::{LookupError, QueryPicture};
use crate::model::ImageId;
use crate::store::Store;
use crate::verify::{self, Features, Similarity, VerifySettings};

/// A point as fractions of a picture's width and height (0 to 1 inside it;
/// outside when the other picture reaches past its edges).
pub type Corner = [f32; 2];

/// The verification of one pair, for people.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The stored picture.
    pub image_id: ImageId,
    /// Keypoint matches agreeing on one transform.
    pub inliers: u32,
    /// The agreement was found with the query mirrored.
    pub mirrored: bool,
    /// How many pixels of the stored picture one pixel of the query covers
    /// (1: the same size; 0.5: the query is twice as large as the copy).
    pub scale: Option<f32>,
    /// How far the query is turned in the stored picture, degrees.
    pub rotation_degrees: Option<f32>,
    /// The query's outline inside the stored picture (top-left, top-right,
    /// bottom-right, bottom-left of the query).
    pub query_in_image: Option<[Corner; 4]>,
    /// The stored picture's outline inside the query.
    pub image_in_query: Option<[Corner; 4]>,
}

/// Compares the query with a stored picture by keypoints; `None` when the
/// picture is not stored. A picture with no keypoints stored (flat,
/// tiny) compares with no agreement and no outline.
pub async fn compare(
    store: &dyn Store,
    query: &QueryPicture,
    image_id: ImageId,
) -> Result<Option<Comparison>, LookupError> {
    let Some(record) = store.image(image_id).await? else {
        return Ok(None);
    };
    let stored = match store.features(image_id, verify::FEATURE_KIND).await? {
        Some(bytes) => verify::decode(&bytes).unwrap_or_default(),
        None => Features::default(),
    };
    let stored_frame = Some(Frame::of(&stored)).filter(|f| f.width > 0.0 && f.height > 0.0);
    let features = query.features.clone();
    let found = tokio::task::spawn_blocking(move || {
        verify::verify(&features, &stored, &VerifySettings::default())
    })
    .await
    .map_err(|e| LookupError::Task(e.to_string()))?;
    let frame = Frame::of(&query.features.plain);
    let outline = found.transform.filter(|_| found.inliers > 0);
    Ok(Some(Comparison {
        image_id,
        inliers: u32::try_from(found.inliers).unwrap_or(u32::MAX),
        mirrored: found.mirrored,
        scale: outline
            .zip(stored_frame)
            .map(|(t, s)| pixel_scale(t.scale(), (query.width, frame), (record.width, s))),
        rotation_degrees: outline.map(|t| t.rotation_degrees()),
        query_in_image: outline
            .zip(stored_frame)
            .map(|(t, s)| query_in_image(&t, frame, s, found.mirrored)),
        image_in_query: outline
            .zip(stored_frame)
            .map(|(t, s)| image_in_query(&t, frame, s, found.mirrored)),
    }))
}

/// A scale between keypoint frames as one between the pictures' pixels:
/// how many pixels of the stored picture one pixel of the query covers.
fn pixel_scale(
    frame_scale: f32,
    (query_px, query): (u32, Frame),
    (stored_px, stored): (u32, Frame),
) -> f32 {
    let stored_per_frame = stored_px as f32 / stored.width.max(1.0);
    let query_per_frame = query_px as f32 / query.width.max(1.0);
    frame_scale * stored_per_frame / query_per_frame.max(f32::EPSILON)
}

/// The level-0 size keypoints are given in (the picture with uniform
/// borders trimmed, its longer side at 512).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// Width in keypoint pixels.
    pub width: f32,
    /// Height in keypoint pixels.
    pub height: f32,
}

impl Frame {
    fn of(f: &Features) -> Self {
        Self {
            width: f32::from(f.width),
            height: f32::from(f.height),
        }
    }

    fn corners(self) -> [(f32, f32); 4] {
        [
            (0.0, 0.0),
            (self.width, 0.0),
            (self.width, self.height),
            (0.0, self.height),
        ]
    }

    fn fraction(self, (x, y): (f32, f32)) -> Corner {
        [x / self.width.max(1.0), y / self.height.max(1.0)]
    }
}

/// The query's corners carried into the stored picture. A mirrored match's
/// transform starts from the mirrored query, so each corner is mirrored
/// first.
pub fn query_in_image(t: &Similarity, query: Frame, stored: Frame, mirrored: bool) -> [Corner; 4] {
    query.corners().map(|(x, y)| {
        let x = if mirrored { query.width - x } else { x };
        stored.fraction(t.apply(x, y))
    })
}

/// The stored picture's corners carried back into the query.
pub fn image_in_query(t: &Similarity, query: Frame, stored: Frame, mirrored: bool) -> [Corner; 4] {
    let norm = t.a * t.a + t.b * t.b;
    stored.corners().map(|(cx, cy)| {
        let (dx, dy) = (cx - t.tx, cy - t.ty);
        let x = (t.a * dx + t.b * dy) / norm.max(f32::EPSILON);
        let y = (-t.b * dx + t.a * dy) / norm.max(f32::EPSILON);
        let x = if mirrored { query.width - x } else { x };
        query.fraction((x, y))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUERY: Frame = Frame {
        width: 200.0,
        height: 100.0,
    };
    const STORED: Frame = Frame {
        width: 400.0,
        height: 400.0,
    };

    #[test]
    fn a_query_that_is_the_left_half_at_double_size_is_drawn_there() {
        // The stored picture shows the query at twice its size, from (0, 100).
        let t = Similarity {
            a: 2.0,
            b: 0.0,
            tx: 0.0,
            ty: 100.0,
        };
        let inside = query_in_image(&t, QUERY, STORED, false);
        assert_eq!(inside, [[0.0, 0.25], [1.0, 0.25], [1.0, 0.75], [0.0, 0.75]]);
        let back = image_in_query(&t, QUERY, STORED, false);
        assert_eq!(back, [[0.0, -0.5], [1.0, -0.5], [1.0, 1.5], [0.0, 1.5]]);
    }

    #[test]
    fn scales_are_reported_in_pixels_not_keypoint_frames() {
        // A 160-pixel crop of a 320-pixel picture: both frames are 512
        // wide, so the frames say 0.5; the pixels say the same size.
        let frame = Frame {
            width: 512.0,
            height: 340.0,
        };
        assert!((pixel_scale(0.5, (160, frame), (320, frame)) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn a_mirrored_match_swaps_the_query_corners_left_and_right() {
        let t = Similarity {
            a: 1.0,
            b: 0.0,
            tx: 0.0,
            ty: 0.0,
        };
        let inside = query_in_image(&t, QUERY, STORED, true);
        assert_eq!(inside[0], [0.5, 0.0]);
        assert_eq!(inside[1], [0.0, 0.0]);
        let back = image_in_query(&t, QUERY, STORED, true);
        assert_eq!(back[0], [1.0, 0.0]);
    }

    #[test]
    fn a_quarter_turn_is_reported_and_inverted() {
        let t = Similarity {
            a: 0.0,
            b: 1.0,
            tx: 100.0,
            ty: 0.0,
        };
        assert!((t.rotation_degrees() - 90.0).abs() < 1e-4);
        let inside = query_in_image(&t, QUERY, STORED, false);
        let back = image_in_query(&t, QUERY, STORED, false);
        // Carrying the stored outline back must land the query's own
        // corners where the stored corners were drawn around them.
        assert_eq!(inside[0], [0.25, 0.0]);
        assert_eq!(back[0], [0.0, 1.0]);
    }
}
