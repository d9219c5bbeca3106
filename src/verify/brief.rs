//! Oriented binary descriptors (the rotated-BRIEF half of ORB): each
//! keypoint gets an orientation from the intensity centroid of its patch,
//! and 256 bits, each comparing two blurred pixels of a fixed random
//! pattern rotated to that orientation. Hamming distance compares them.

use std::f32::consts::TAU;
use std::sync::OnceLock;

use image::GrayImage;

/// Bytes in a descriptor (256 bits).
pub const DESCRIPTOR_BYTES: usize = 32;
/// A binary descriptor: 256 bits in four words (bit `i` is bit `i % 64`
/// of word `i / 64`).
pub type Descriptor = [u64; 4];

/// Radius of the patch the orientation is measured on.
pub const PATCH_RADIUS: i32 = 12;
/// Largest distance of a pattern point from the keypoint.
const PATTERN_RADIUS: f32 = 12.0;
/// Orientations are quantised to this many steps so the rotated patterns
/// can be computed once.
const ANGLE_STEPS: usize = 32;
/// Pixels a keypoint must keep from the edges.
pub const MARGIN: u32 = PATCH_RADIUS as u32 + 2;

/// A pair of pixel offsets compared for one bit.
type Pair = [(i32, i32); 2];

/// Orientation of the keypoint at (x, y), radians in [0, 2π): the
/// direction from the keypoint to the intensity centroid of its round patch.
pub fn orientation(image: &GrayImage, x: u32, y: u32) -> f32 {
    let (mut m10, mut m01) = (0i64, 0i64);
    let r = PATCH_RADIUS;
    for dy in -r..=r {
        for dx in -r..=r {
            if dx * dx + dy * dy > r * r {
                continue;
            }
            let v = i64::from(image.get_pixel((x as i32 + dx) as u32, (y as i32 + dy) as u32)[0]);
            m10 += i64::from(dx) * v;
            m01 += i64::from(dy) * v;
        }
    }
    (m01 as f32).atan2(m10 as f32).rem_euclid(TAU)
}

/// The descriptor of the keypoint at (x, y) with orientation `angle`,
/// read on the blurred picture.
pub fn describe(smooth: &GrayImage, x: u32, y: u32, angle: f32) -> Descriptor {
    let step = ((angle / TAU * ANGLE_STEPS as f32).round() as usize) % ANGLE_STEPS;
    let pattern = &rotated_patterns()[step];
    let mut descriptor = [0u64; 4];
    let at =
        |(dx, dy): (i32, i32)| smooth.get_pixel((x as i32 + dx) as u32, (y as i32 + dy) as u32)[0];
    for (bit, [a, b]) in pattern.iter().enumerate() {
        if at(*a) < at(*b) {
            descriptor[bit / 64] |= 1 << (bit % 64);
        }
    }
    descriptor
}

/// Number of differing bits between two descriptors (the matching itself
/// runs vectorised, in `nearest`).
#[cfg(test)]
pub fn distance(a: &Descriptor, b: &Descriptor) -> u32 {
    (a[0] ^ b[0]).count_ones()
        + (a[1] ^ b[1]).count_ones()
        + (a[2] ^ b[2]).count_ones()
        + (a[3] ^ b[3]).count_ones()
}

fn rotated_patterns() -> &'static Vec<Vec<Pair>> {
    static PATTERNS: OnceLock<Vec<Vec<Pair>>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let base = base_pattern();
        (0..ANGLE_STEPS)
            .map(|step| {
                let angle = step as f32 * TAU / ANGLE_STEPS as f32;
                let (sin, cos) = angle.sin_cos();
                let rotate = |(x, y): (f32, f32)| {
                    (
                        (x * cos - y * sin).round() as i32,
                        (x * sin + y * cos).round() as i32,
                    )
                };
                base.iter().map(|[a, b]| [rotate(*a), rotate(*b)]).collect()
            })
            .collect()
    })
}

/// 256 point pairs, Gaussian around the keypoint (σ = radius / 2, clamped
/// to the radius), from a fixed seed so every build computes the same
/// descriptors — stored descriptors stay comparable.
fn base_pattern() -> Vec<[(f32, f32); 2]> {
    let mut random = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut point = || {
        let (gx, gy) = random.gaussian_pair();
        let sigma = PATTERN_RADIUS / 2.0;
        let (x, y) = (gx * sigma, gy * sigma);
        let norm = (x * x + y * y).sqrt();
        if norm > PATTERN_RADIUS {
            (x * PATTERN_RADIUS / norm, y * PATTERN_RADIUS / norm)
        } else {
            (x, y)
        }
    };
    (0..DESCRIPTOR_BYTES * 8)
        .map(|_| [point(), point()])
        .collect()
}

/// A tiny deterministic generator (xorshift64*).
struct XorShift(u64);

impl XorShift {
    fn next_unit(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let value = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        ((value >> 40) as f32 + 0.5) / (1u64 << 24) as f32
    }

    /// Two independent standard normal values (Box–Muller).
    fn gaussian_pair(&mut self) -> (f32, f32) {
        let (u, v) = (self.next_unit(), self.next_unit());
        let r = (-2.0 * u.ln()).sqrt();
        let (sin, cos) = (TAU * v).sin_cos();
        (r * cos, r * sin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    fn blob(w: u32, h: u32, cx: f32, cy: f32) -> GrayImage {
        GrayImage::from_fn(w, h, |x, y| {
            let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
            Luma([(250.0 - d * 8.0).max(0.0) as u8])
        })
    }

    #[test]
    fn orientation_points_towards_the_bright_side() {
        // A blob to the right of (20, 20): angle ≈ 0; below it: ≈ π/2.
        let right = blob(41, 41, 28.0, 20.0);
        assert!(orientation(&right, 20, 20).min(TAU - orientation(&right, 20, 20)) < 0.1);
        let below = blob(41, 41, 20.0, 28.0);
        assert!((orientation(&below, 20, 20) - TAU / 4.0).abs() < 0.1);
    }

    #[test]
    fn descriptors_follow_rotation() {
        // The same texture rotated by 90° gives (nearly) the same
        // descriptor once each is read at its own orientation.
        let texture = GrayImage::from_fn(41, 41, |x, y| {
            Luma([((x * 37 + y * 11 + x * y * 3) % 251) as u8])
        });
        let rotated = image::imageops::rotate90(&texture);
        let smooth = super::super::pyramid::box_blur5(&texture);
        let smooth_rotated = super::super::pyramid::box_blur5(&rotated);
        let a = describe(&smooth, 20, 20, orientation(&smooth, 20, 20));
        let b = describe(
            &smooth_rotated,
            20,
            20,
            orientation(&smooth_rotated, 20, 20),
        );
        let unrelated = describe(&smooth, 20, 20, orientation(&smooth, 20, 20) + 2.0);
        assert!(distance(&a, &b) < 40, "rotated: {}", distance(&a, &b));
        assert!(
            distance(&a, &unrelated) > 60,
            "{}",
            distance(&a, &unrelated)
        );
    }

    #[test]
    fn distance_counts_bits() {
        let zero = [0u64; 4];
        let mut some = zero;
        some[0] = 0b1011;
        some[3] = 1 << 63;
        assert_eq!(distance(&zero, &some), 4);
        assert_eq!(distance(&some, &some), 0);
    }

    #[test]
    fn the_pattern_is_fixed_and_stays_within_the_patch() {
        let a = base_pattern();
        assert_eq!(a.len(), DESCRIPTOR_BYTES * 8);
        assert_eq!(a, base_pattern());
        for pattern in rotated_patterns() {
            for [p, q] in pattern {
                for (x, y) in [p, q] {
                    assert!(x.abs() <= PATCH_RADIUS && y.abs() <= PATCH_RADIUS);
                }
            }
        }
    }
}
