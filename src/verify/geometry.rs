//! Are the matched keypoints of two pictures where one picture *moved as a
//! whole* would put them? Matches vote for a rotation and scale (from the
//! keypoints' own orientations and levels) and then for a translation;
//! a similarity transform is fitted by least squares to the winners and
//! every match within a few pixels of it counts as an inlier. No random
//! sampling: the result is deterministic and the cost linear in matches.

use super::features::Keypoint;

/// A keypoint match between the query and a candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    /// Query keypoint.
    pub query: Keypoint,
    /// Candidate keypoint.
    pub candidate: Keypoint,
}

/// `candidate = scale · R(rotation) · query + (tx, ty)`, level-0 pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    /// scale · cos(rotation).
    pub a: f32,
    /// scale · sin(rotation).
    pub b: f32,
    /// Translation along x.
    pub tx: f32,
    /// Translation along y.
    pub ty: f32,
}

impl Similarity {
    /// Where the transform puts a query point.
    pub fn apply(&self, x: f32, y: f32) -> (f32, f32) {
        (
            self.a * x - self.b * y + self.tx,
            self.b * x + self.a * y + self.ty,
        )
    }

    /// The scale factor.
    pub fn scale(&self) -> f32 {
        self.a.hypot(self.b)
    }

    /// The rotation in degrees, in (-180, 180].
    pub fn rotation_degrees(&self) -> f32 {
        self.b.atan2(self.a).to_degrees()
    }
}

/// Rotation bins (1/16 turn each).
const ROTATION_BINS: usize = 16;
/// Scale bins: level differences (candidate minus query) from
/// `-SCALE_OFFSET` to `SCALE_BINS - 1 - SCALE_OFFSET` (a query's pyramid is
/// deeper than a stored picture's).
const SCALE_BINS: usize = 10;
/// The level difference of the first scale bin, negated.
const SCALE_OFFSET: i32 = 6;
/// Translation vote cell, level-0 pixels.
const TRANSLATION_CELL: f32 = 24.0;
/// Smallest and largest plausible scale between two copies.
const SCALE_RANGE: (f32, f32) = (0.2, 5.0);

/// The best similarity transform and its inliers, or `None` when fewer
/// than three matches agree on one.
pub fn consistent_matches(matches: &[Match], tolerance: f32) -> Option<(Similarity, Vec<usize>)> {
    let voted = rotation_scale_winners(matches);
    let seeds = translation_winners(matches, &voted);
    if seeds.len() < 3 {
        return None;
    }
    let mut transform = fit(matches, &seeds)?;
    let mut inliers = inliers_of(matches, &transform, tolerance);
    if inliers.len() >= 3 {
        transform = fit(matches, &inliers)?;
        inliers = inliers_of(matches, &transform, tolerance);
    }
    let scale = transform.scale();
    (inliers.len() >= 3 && (SCALE_RANGE.0..=SCALE_RANGE.1).contains(&scale))
        .then_some((transform, inliers))
}

fn bins_of(m: &Match) -> (usize, usize) {
    let turn = m.candidate.angle.wrapping_sub(m.query.angle);
    let rotation = (usize::from(turn) * ROTATION_BINS + 128) / 256 % ROTATION_BINS;
    let levels = i32::from(m.candidate.level) - i32::from(m.query.level) + SCALE_OFFSET;
    (rotation, levels.clamp(0, SCALE_BINS as i32 - 1) as usize)
}

/// Indices of the matches in the best (rotation, scale) bin and its
/// neighbours.
fn rotation_scale_winners(matches: &[Match]) -> Vec<usize> {
    let mut votes = [[0usize; SCALE_BINS]; ROTATION_BINS];
    for m in matches {
        let (r, s) = bins_of(m);
        votes[r][s] += 1;
    }
    let near = |r: usize, s: usize, r0: usize, s0: usize| {
        let dr = (r + ROTATION_BINS - r0) % ROTATION_BINS;
        (dr <= 1 || dr == ROTATION_BINS - 1) && s.abs_diff(s0) <= 1
    };
    let neighbourhood = |r0: usize, s0: usize| -> usize {
        (0..ROTATION_BINS)
            .flat_map(|r| (0..SCALE_BINS).map(move |s| (r, s)))
            .filter(|(r, s)| near(*r, *s, r0, s0))
            .map(|(r, s)| votes[r][s])
            .sum()
    };
    let best = (0..ROTATION_BINS)
        .flat_map(|r| (0..SCALE_BINS).map(move |s| (r, s)))
        .max_by_key(|(r, s)| (neighbourhood(*r, *s), votes[*r][*s]));
    let Some((r0, s0)) = best else {
        return Vec::new();
    };
    (0..matches.len())
        .filter(|i| {
            let (r, s) = bins_of(&matches[*i]);
            near(r, s, r0, s0)
        })
        .collect()
}

/// Of `chosen`, the matches whose implied translation (under their median
/// rotation and scale) falls in the densest cell and its neighbours.
fn translation_winners(matches: &[Match], chosen: &[usize]) -> Vec<usize> {
    if chosen.len() < 3 {
        return Vec::new();
    }
    let median = |mut values: Vec<f32>| {
        values.sort_by(f32::total_cmp);
        values[values.len() / 2]
    };
    let angle = median(
        chosen
            .iter()
            .map(|i| {
                let m = &matches[*i];
                let turn = m.candidate.angle.wrapping_sub(m.query.angle) as i8;
                f32::from(turn) * std::f32::consts::TAU / 256.0
            })
            .collect(),
    );
    let scale = median(
        chosen
            .iter()
            .map(|i| matches[*i].candidate.scale() / matches[*i].query.scale())
            .collect(),
    );
    let guess = Similarity {
        a: scale * angle.cos(),
        b: scale * angle.sin(),
        tx: 0.0,
        ty: 0.0,
    };
    let cell_of = |i: usize| {
        let m = &matches[i];
        let (px, py) = guess.apply(f32::from(m.query.x), f32::from(m.query.y));
        let tx = f32::from(m.candidate.x) - px;
        let ty = f32::from(m.candidate.y) - py;
        (
            (tx / TRANSLATION_CELL).floor() as i32,
            (ty / TRANSLATION_CELL).floor() as i32,
        )
    };
    let cells: Vec<(usize, (i32, i32))> = chosen.iter().map(|i| (*i, cell_of(*i))).collect();
    let around = |c: (i32, i32), d: (i32, i32)| (c.0 - d.0).abs() <= 1 && (c.1 - d.1).abs() <= 1;
    let best = cells
        .iter()
        .map(|(_, c)| *c)
        .max_by_key(|c| (cells.iter().filter(|(_, d)| around(*c, *d)).count(), *c));
    let Some(best) = best else {
        return Vec::new();
    };
    cells
        .into_iter()
        .filter(|(_, c)| around(best, *c))
        .map(|(i, _)| i)
        .collect()
}

/// Least-squares similarity transform from the query to the candidate
/// points of `chosen` (closed form); `None` when the points coincide.
pub fn fit(matches: &[Match], chosen: &[usize]) -> Option<Similarity> {
    let n = chosen.len() as f32;
    let point = |k: &Keypoint| (f32::from(k.x), f32::from(k.y));
    let (mut qx, mut qy, mut cx, mut cy) = (0.0, 0.0, 0.0, 0.0);
    for i in chosen {
        let (x, y) = point(&matches[*i].query);
        let (u, v) = point(&matches[*i].candidate);
        (qx, qy, cx, cy) = (qx + x / n, qy + y / n, cx + u / n, cy + v / n);
    }
    let (mut dot, mut cross, mut norm) = (0.0, 0.0, 0.0);
    for i in chosen {
        let (x, y) = point(&matches[*i].query);
        let (u, v) = point(&matches[*i].candidate);
        let (x, y, u, v) = (x - qx, y - qy, u - cx, v - cy);
        dot += x * u + y * v;
        cross += x * v - y * u;
        norm += x * x + y * y;
    }
    if norm < 1e-3 {
        return None;
    }
    let (a, b) = (dot / norm, cross / norm);
    Some(Similarity {
        a,
        b,
        tx: cx - (a * qx - b * qy),
        ty: cy - (b * qx + a * qy),
    })
}

/// Indices of the matches the transform maps within `tolerance` pixels,
/// at most one per candidate keypoint position.
fn inliers_of(matches: &[Match], transform: &Similarity, tolerance: f32) -> Vec<usize> {
    let mut seen = std::collections::HashSet::new();
    (0..matches.len())
        .filter(|i| {
            let m = &matches[*i];
            let (px, py) = transform.apply(f32::from(m.query.x), f32::from(m.query.y));
            let error = (px - f32::from(m.candidate.x)).hypot(py - f32::from(m.candidate.y));
            error <= tolerance && seen.insert((m.candidate.x, m.candidate.y))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keypoint(x: u16, y: u16, angle: u8, level: u8) -> Keypoint {
        Keypoint {
            x,
            y,
            angle,
            level,
            descriptor: [0; 4],
        }
    }

    /// Query points mapped by a known transform (rotation 10°, scale 0.7,
    /// shift), plus unrelated matches.
    fn scene(outliers: usize) -> Vec<Match> {
        let truth = Similarity {
            a: 0.7 * 10f32.to_radians().cos(),
            b: 0.7 * 10f32.to_radians().sin(),
            tx: 40.0,
            ty: -5.0,
        };
        let mut matches: Vec<Match> = (0..20u16)
            .map(|i| {
                let (x, y) = (30 + i * 21 % 400, 20 + i * 53 % 300);
                let (u, v) = truth.apply(f32::from(x), f32::from(y));
                Match {
                    query: keypoint(x, y, 100, 1),
                    candidate: keypoint(u.round() as u16, v.round() as u16, 107, 0),
                }
            })
            .collect();
        for i in 0..outliers as u16 {
            matches.push(Match {
                query: keypoint(7 + i * 37 % 500, 11 + i * 71 % 350, (i * 13) as u8, 0),
                candidate: keypoint(
                    3 + i * 91 % 500,
                    5 + i * 29 % 350,
                    (i * 59) as u8,
                    (i % 4) as u8,
                ),
            });
        }
        matches
    }

    #[test]
    fn recovers_a_rotated_scaled_shifted_copy_among_outliers() {
        let matches = scene(40);
        let (transform, inliers) = consistent_matches(&matches, 8.0).unwrap();
        assert!((transform.scale() - 0.7).abs() < 0.02, "{transform:?}");
        assert!(
            (transform.rotation_degrees() - 10.0).abs() < 1.0,
            "{transform:?}"
        );
        assert!(inliers.len() >= 20, "{}", inliers.len());
        assert!(inliers.len() <= 22, "{}", inliers.len());
    }

    #[test]
    fn unrelated_matches_do_not_agree() {
        let matches: Vec<Match> = scene(60).into_iter().skip(20).collect();
        let inliers = consistent_matches(&matches, 8.0).map_or(0, |(_, i)| i.len());
        assert!(inliers < 5, "{inliers}");
    }

    #[test]
    fn fit_is_exact_on_exact_points_and_refuses_one_point() {
        let matches = scene(0);
        let all: Vec<usize> = (0..matches.len()).collect();
        let t = fit(&matches, &all).unwrap();
        assert!(
            (t.tx - 40.0).abs() < 1.0 && (t.ty + 5.0).abs() < 1.0,
            "{t:?}"
        );
        assert!(fit(&matches, &[3]).is_none());
    }
}
