//! Keypoint extraction: FAST corners on every pyramid level, spread over
//! the picture, each with an orientation and a binary descriptor, in
//! level-0 coordinates.

use image::DynamicImage;

use super::brief::{self, Descriptor, MARGIN};
use super::fast;
use super::pyramid::{self, Level, LEVEL_FACTOR};

/// FAST threshold (grey levels).
const FAST_THRESHOLD: u8 = 16;
/// The picture is cut into this many cells per side; no cell may take
/// more than twice its fair share of keypoints, so one busy corner (text,
/// foliage) cannot take them all.
const GRID: u32 = 4;

/// One keypoint: where, how big, which way, and what it looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keypoint {
    /// Column in level-0 pixels.
    pub x: u16,
    /// Row in level-0 pixels.
    pub y: u16,
    /// Orientation in 1/256 turns.
    pub angle: u8,
    /// Pyramid level it was found on (its scale is 1.3^level).
    pub level: u8,
    /// Rotated-BRIEF descriptor.
    pub descriptor: Descriptor,
}

impl Keypoint {
    /// Orientation in radians.
    pub fn radians(&self) -> f32 {
        f32::from(self.angle) * std::f32::consts::TAU / 256.0
    }

    /// Level-0 pixels per pixel of its level.
    pub fn scale(&self) -> f32 {
        LEVEL_FACTOR.powi(i32::from(self.level))
    }
}

/// The keypoints of one picture, with the level-0 size they refer to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Features {
    /// Level-0 width (the trimmed picture with its longer side at 512).
    pub width: u16,
    /// Level-0 height.
    pub height: u16,
    /// At most the requested number of keypoints, strongest first.
    pub keypoints: Vec<Keypoint>,
}

/// Extracts up to `max_keypoints` keypoints from a picture (none from a
/// picture too small or too flat to have corners): what is stored.
pub fn extract(image: &DynamicImage, max_keypoints: usize) -> Features {
    extract_from(&pyramid::build(image), max_keypoints, 1.0, false)
}

/// How a query's keypoints are shared between its levels: by area raised
/// to this power (a stored picture's: to 1).
const QUERY_AREA_POWER: f32 = 0.75;

/// Extracts up to `max_keypoints` keypoints from a query: over
/// [`pyramid::QUERY_LEVELS`] levels, the coarse ones given more than their
/// area's share, so a query showing a stored picture enlarged has keypoints
/// at the stored picture's scale.
pub fn extract_query(image: &DynamicImage, max_keypoints: usize) -> Features {
    extract_from(
        &pyramid::build_levels(image, pyramid::QUERY_LEVELS),
        max_keypoints,
        QUERY_AREA_POWER,
        true,
    )
}

/// Keypoints of a built pyramid; each level's share of `max_keypoints` is
/// proportional to its area raised to `area_power`.
fn extract_from(
    levels: &[Level],
    max_keypoints: usize,
    area_power: f32,
    fair_first: bool,
) -> Features {
    let Some(base) = levels.first() else {
        return Features::default();
    };
    let (width, height) = base.grey.dimensions();
    let budgets = level_budgets(levels, max_keypoints, area_power);
    let keypoints = levels
        .iter()
        .zip(budgets)
        .enumerate()
        .flat_map(|(index, (level, budget))| {
            level_keypoints(level, index as u8, budget, fair_first)
        })
        .collect();
    Features {
        width: width as u16,
        height: height as u16,
        keypoints,
    }
}

/// Keypoints per level, proportional to the level's area raised to
/// `area_power` (1: as ORB does).
fn level_budgets(levels: &[Level], total: usize, area_power: f32) -> Vec<usize> {
    let areas: Vec<f32> = levels
        .iter()
        .map(|l| ((l.grey.width() * l.grey.height()) as f32).powf(area_power))
        .collect();
    let sum: f32 = areas.iter().sum();
    areas
        .iter()
        .map(|a| (total as f32 * a / sum).round() as usize)
        .collect()
}

fn level_keypoints(level: &Level, index: u8, budget: usize, fair_first: bool) -> Vec<Keypoint> {
    let corners = fast::detect(&level.grey, FAST_THRESHOLD, MARGIN);
    let (w, h) = level.grey.dimensions();
    spread(corners, w, h, budget, fair_first)
        .into_iter()
        .map(|c| {
            let angle = brief::orientation(&level.smooth, c.x, c.y);
            Keypoint {
                x: (c.x as f32 * level.scale).round() as u16,
                y: (c.y as f32 * level.scale).round() as u16,
                angle: ((angle / std::f32::consts::TAU * 256.0).round() as u32 % 256) as u8,
                level: index,
                descriptor: brief::describe(&level.smooth, c.x, c.y, angle),
            }
        })
        .collect()
}

/// The strongest `budget` corners, no grid cell taking more than twice
/// its fair share. With `fair_first` every cell first gets up to half its
/// fair share (measured: a whole share cost 50 % crops more than it gave
/// collages), so a region of strong texture (gravel, text, foliage beside the
/// copy in a collage or a screenshot) cannot take the keypoints of the
/// smoother region that is the copy.
fn spread(
    mut corners: Vec<fast::Corner>,
    w: u32,
    h: u32,
    budget: usize,
    fair_first: bool,
) -> Vec<fast::Corner> {
    corners.sort_by(|a, b| b.score.cmp(&a.score).then((a.y, a.x).cmp(&(b.y, b.x))));
    let cells = (GRID * GRID) as usize;
    let cell_of = |c: &fast::Corner| (c.y * GRID / h * GRID + c.x * GRID / w) as usize;
    let mut per_cell = vec![0usize; cells];
    let mut taken = vec![false; corners.len()];
    let mut chosen = Vec::with_capacity(budget);
    let fair = budget.div_ceil(cells).max(1);
    let caps: &[usize] = if fair_first {
        &[fair.div_ceil(2), 2 * fair]
    } else {
        &[2 * fair]
    };
    for &cap in caps {
        for (corner, taken) in corners.iter().zip(&mut taken) {
            if chosen.len() == budget {
                break;
            }
            let cell = cell_of(corner);
            if !*taken && per_cell[cell] < cap {
                per_cell[cell] += 1;
                *taken = true;
                chosen.push(*corner);
            }
        }
    }
    chosen
}

/// The features of the horizontally mirrored picture, computed from the
/// picture (descriptors are not mirror-invariant).
pub fn extract_mirrored(image: &DynamicImage, max_keypoints: usize) -> Features {
    extract(&image.fliph(), max_keypoints)
}

/// [`extract_query`] of the horizontally mirrored picture.
pub fn extract_query_mirrored(image: &DynamicImage, max_keypoints: usize) -> Features {
    extract_query(&image.fliph(), max_keypoints)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    fn checkers(w: u32, h: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
            let on = ((x / 23) + (y / 17) + (x * y / 900)) % 2 == 0;
            let v = if on { 220 } else { 30 };
            Rgb([v, (x % 200) as u8, v / 2])
        }))
    }

    #[test]
    fn keypoints_are_capped_and_in_level0_bounds() {
        let features = extract(&checkers(800, 600), 128);
        assert!(
            features.keypoints.len() > 60,
            "{}",
            features.keypoints.len()
        );
        assert!(features.keypoints.len() <= 130);
        assert_eq!((features.width, features.height), (512, 384));
        for k in &features.keypoints {
            assert!(k.x < features.width && k.y < features.height);
            assert!(k.level < 4);
        }
    }

    #[test]
    fn flat_pictures_have_no_keypoints() {
        let flat = DynamicImage::ImageRgb8(RgbImage::from_pixel(300, 200, Rgb([40, 90, 10])));
        assert!(extract(&flat, 100).keypoints.is_empty());
    }

    #[test]
    fn fair_first_leaves_weak_corners_of_a_region_a_share() {
        // Strong corners fill the left half, weak ones the right half.
        let corners: Vec<fast::Corner> = (0..400u32)
            .map(|i| {
                let left = i % 2 == 0;
                fast::Corner {
                    x: if left { i % 200 } else { 200 + i % 200 },
                    y: (i * 7) % 400,
                    score: if left { 200 } else { 20 },
                }
            })
            .collect();
        let right = |chosen: &[fast::Corner]| chosen.iter().filter(|c| c.x >= 200).count();
        let plain = spread(corners.clone(), 400, 400, 128, false);
        let fair = spread(corners, 400, 400, 128, true);
        assert_eq!((plain.len(), fair.len()), (128, 128));
        assert_eq!(right(&plain), 0);
        assert!(right(&fair) >= 128 / 4, "{}", right(&fair));
    }

    #[test]
    fn extraction_is_deterministic() {
        assert_eq!(
            extract(&checkers(400, 300), 64),
            extract(&checkers(400, 300), 64)
        );
    }
}
