//! FAST-9 corners (Rosten & Drummond): a pixel is a corner when 9
//! contiguous pixels of the 16 on a circle of radius 3 are all brighter, or
//! all darker, than it by more than a threshold. Scored by how far the arc
//! clears the threshold, then thinned by 3×3 non-maximum suppression.

use image::GrayImage;

/// The Bresenham circle of radius 3, clockwise from the top.
const CIRCLE: [(i32, i32); 16] = [
    (0, -3),
    (1, -3),
    (2, -2),
    (3, -1),
    (3, 0),
    (3, 1),
    (2, 2),
    (1, 3),
    (0, 3),
    (-1, 3),
    (-2, 2),
    (-3, 1),
    (-3, 0),
    (-3, -1),
    (-2, -2),
    (-1, -3),
];

/// Contiguous pixels needed on the circle.
const ARC: usize = 9;

/// A detected corner in level pixels with its strength.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Corner {
    /// Column.
    pub x: u32,
    /// Row.
    pub y: u32,
    /// Sum over the circle of how far each pixel clears the threshold.
    pub score: u32,
}

/// FAST-9 corners at least `margin` pixels from every edge, after
/// non-maximum suppression, in raster order.
pub fn detect(image: &GrayImage, threshold: u8, margin: u32) -> Vec<Corner> {
    let (w, h) = image.dimensions();
    let margin = margin.max(3);
    if w <= 2 * margin || h <= 2 * margin {
        return Vec::new();
    }
    let mut scores = vec![0u32; (w * h) as usize];
    for y in margin..h - margin {
        for x in margin..w - margin {
            scores[(y * w + x) as usize] = corner_score(image, x, y, threshold);
        }
    }
    let mut corners = Vec::new();
    for y in margin..h - margin {
        for x in margin..w - margin {
            let score = scores[(y * w + x) as usize];
            if score > 0 && is_local_maximum(&scores, w, x, y) {
                corners.push(Corner { x, y, score });
            }
        }
    }
    corners
}

/// Strength of the corner at (x, y), 0 when it is none.
fn corner_score(image: &GrayImage, x: u32, y: u32, threshold: u8) -> u32 {
    let centre = i32::from(image.get_pixel(x, y)[0]);
    let t = i32::from(threshold);
    let ring: [i32; 16] = std::array::from_fn(|i| {
        let (dx, dy) = CIRCLE[i];
        i32::from(image.get_pixel((x as i32 + dx) as u32, (y as i32 + dy) as u32)[0]) - centre
    });
    // Quick rejection: of the four compass points, at least two of a
    // 9-arc lie on the same side.
    let compass = [ring[0], ring[4], ring[8], ring[12]];
    let bright = compass.iter().filter(|d| **d > t).count();
    let dark = compass.iter().filter(|d| **d < -t).count();
    if bright < 2 && dark < 2 {
        return 0;
    }
    if has_arc(&ring, |d| d > t) {
        ring.iter().map(|d| (d - t).max(0) as u32).sum()
    } else if has_arc(&ring, |d| d < -t) {
        ring.iter().map(|d| (-d - t).max(0) as u32).sum()
    } else {
        0
    }
}

fn has_arc(ring: &[i32; 16], side: impl Fn(i32) -> bool) -> bool {
    let mut run = 0;
    for i in 0..16 + ARC {
        if side(ring[i % 16]) {
            run += 1;
            if run >= ARC {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

fn is_local_maximum(scores: &[u32], w: u32, x: u32, y: u32) -> bool {
    let here = scores[(y * w + x) as usize];
    for ny in y - 1..=y + 1 {
        for nx in x - 1..=x + 1 {
            let other = scores[(ny * w + nx) as usize];
            // Ties go to the earlier pixel in raster order.
            let earlier = (ny, nx) < (y, x);
            if other > here || (other == here && earlier && (nx, ny) != (x, y)) {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    #[test]
    fn a_bright_square_on_dark_has_corners_at_its_corners_only() {
        let image = GrayImage::from_fn(60, 60, |x, y| {
            Luma([if (20..40).contains(&x) && (20..40).contains(&y) {
                200
            } else {
                20
            }])
        });
        let corners = detect(&image, 20, 5);
        assert!(!corners.is_empty());
        for c in &corners {
            let near = |v: u32, edge: u32| v.abs_diff(edge) <= 2;
            assert!(
                (near(c.x, 20) || near(c.x, 39)) && (near(c.y, 20) || near(c.y, 39)),
                "{c:?} is not at a square corner"
            );
        }
        // One per square corner after suppression.
        assert_eq!(corners.len(), 4, "{corners:?}");
    }

    #[test]
    fn flat_and_straight_edges_are_not_corners() {
        let flat = GrayImage::from_pixel(40, 40, Luma([90]));
        assert!(detect(&flat, 10, 4).is_empty());
        let edge = GrayImage::from_fn(40, 40, |x, _| Luma([if x < 20 { 0 } else { 255 }]));
        assert!(detect(&edge, 10, 4).is_empty());
    }

    #[test]
    fn the_margin_is_respected() {
        let image = GrayImage::from_fn(30, 30, |x, y| Luma([if x < 6 && y < 6 { 255 } else { 0 }]));
        assert!(detect(&image, 20, 8).is_empty());
        assert!(!detect(&image, 20, 3).is_empty());
    }
}
