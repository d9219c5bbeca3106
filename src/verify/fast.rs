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
    let pixels = image.as_raw();
    let stride = w as isize;
    let offsets: [isize; 16] = CIRCLE.map(|(dx, dy)| dy as isize * stride + dx as isize);
    let mut scores = vec![0u32; (w * h) as usize];
    let (width, m) = (w as usize, margin as usize);
    let mut candidate = vec![false; width];
    for y in m..h as usize - m {
        compass_candidates(pixels, width, y, m, threshold, &mut candidate);
        for (x, _) in candidate.iter().enumerate().filter(|(_, c)| **c) {
            let at = y * width + x;
            scores[at] = corner_score(pixels, at, &offsets, threshold);
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

/// Marks in `candidate` the pixels of row `y` (between the margins) that
/// pass FAST's quick test: at least two of the four compass points of the
/// circle are brighter, or at least two darker, than the centre by more
/// than the threshold. Written over whole rows so it vectorises; the few
/// pixels that pass get the full test ([`corner_score`]).
fn compass_candidates(
    pixels: &[u8],
    width: usize,
    y: usize,
    margin: usize,
    threshold: u8,
    candidate: &mut [bool],
) {
    let row = |dy: isize| {
        let start = (y as isize + dy) as usize * width;
        &pixels[start..start + width]
    };
    let (up, mid, down) = (row(-3), row(0), row(3));
    let span = margin..width - margin;
    let shifted = |dx: isize| {
        let start = (margin as isize + dx) as usize;
        &mid[start..start + span.len()]
    };
    let t = i16::from(threshold);
    let lanes = mid[span.clone()]
        .iter()
        .zip(&up[span.clone()])
        .zip(&down[span.clone()])
        .zip(shifted(3).iter().zip(shifted(-3)));
    for (out, (((&c, &n), &s), (&e, &w))) in candidate[span.clone()].iter_mut().zip(lanes) {
        let c = i16::from(c);
        let compass = [n, e, s, w].map(i16::from);
        let bright: u8 = compass.iter().map(|&p| u8::from(p - c > t)).sum();
        let dark: u8 = compass.iter().map(|&p| u8::from(c - p > t)).sum();
        *out = bright >= 2 || dark >= 2;
    }
}

/// Strength of the corner at pixel index `at` (whose circle, at
/// `offsets`, lies inside the picture), 0 when it is none.
fn corner_score(pixels: &[u8], at: usize, offsets: &[isize; 16], threshold: u8) -> u32 {
    let centre = i32::from(pixels[at]);
    let t = i32::from(threshold);
    let ring: [i32; 16] =
        std::array::from_fn(|i| i32::from(pixels[at.wrapping_add_signed(offsets[i])]) - centre);
    let side_mask = |side: &dyn Fn(i32) -> bool| {
        ring.iter()
            .enumerate()
            .fold(0u16, |mask, (i, &d)| mask | (u16::from(side(d)) << i))
    };
    if has_arc(side_mask(&|d| d > t)) {
        ring.iter().map(|d| (d - t).max(0) as u32).sum()
    } else if has_arc(side_mask(&|d| d < -t)) {
        ring.iter().map(|d| (-d - t).max(0) as u32).sum()
    } else {
        0
    }
}

/// Whether the circle (bit i = pixel i) has [`ARC`] contiguous set bits,
/// wrapping around.
fn has_arc(mask: u16) -> bool {
    let circle = u32::from(mask) | (u32::from(mask) << 16);
    let run = (1..ARC).fold(circle, |run, k| run & (circle >> k));
    run != 0
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
    fn arcs_are_found_on_every_circle_wrapping_around() {
        let walk = |mask: u16| {
            let mut run = 0;
            (0..16 + ARC).any(|i| {
                run = if mask >> (i % 16) & 1 == 1 {
                    run + 1
                } else {
                    0
                };
                run >= ARC
            })
        };
        for mask in 0..=u16::MAX {
            assert_eq!(has_arc(mask), walk(mask), "{mask:016b}");
        }
    }

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
