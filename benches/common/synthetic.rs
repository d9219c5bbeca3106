//! Synthetic stored pictures with real keypoints, for the benches that
//! measure the copy index and whole matches at store sizes the evaluation
//! set does not reach.
//!
//! The keypoints of the photos of `tests/fixtures/hash`, each cut, scaled
//! and turned 24 ways, give 120 keypoint sets with the real (skewed)
//! descriptor distribution; every synthetic picture is one of them with
//! half its keypoints replaced by another's and its orientations turned.
//! The first half of the photos are the originals the queries look for,
//! stored among the synthetic pictures; the queries are real edits of them
//! (a 70 % crop, a 90° turn, the picture in a larger canvas).

use image::DynamicImage;
use provenance::verify::{extract, Features};

/// The fixture photos.
pub const PHOTOS: [&str; 10] = [
    "astronaut.jpg",
    "brick.jpg",
    "camera.jpg",
    "chelsea.jpg",
    "coffee.jpg",
    "coins.jpg",
    "gravel.jpg",
    "hubble_deep_field.jpg",
    "retina.jpg",
    "rocket.jpg",
];

/// How many of [`PHOTOS`] are originals that queries look for.
pub const ORIGINALS: usize = PHOTOS.len() / 2;

/// The store sizes to measure and whether this is a benchmark run: the
/// sizes given on the command line, else `benching` (`cargo bench`
/// passes `--bench`), else `smoke` — `cargo test --all-targets` runs the
/// benches too, without it, and then a small smoke run only.
pub fn sizes(benching: &[usize], smoke: &[usize]) -> (Vec<usize>, bool) {
    let given: Vec<usize> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .filter_map(|a| a.parse().ok())
        .collect();
    let bench = std::env::args().any(|a| a == "--bench");
    let sizes = match (given.is_empty(), bench) {
        (false, _) => given,
        (true, true) => benching.to_vec(),
        (true, false) => smoke.to_vec(),
    };
    (sizes, bench)
}

/// A small deterministic generator (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A fixture photo.
pub fn photo(name: &str) -> DynamicImage {
    image::open(format!(
        "{}/tests/fixtures/hash/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture photo")
}

/// A cut of `image`: `(x, y, w, h)` in fractions of its size.
pub fn cut(image: &DynamicImage, x: f32, y: f32, w: f32, h: f32) -> DynamicImage {
    let (iw, ih) = (image.width() as f32, image.height() as f32);
    image.crop_imm(
        (x * iw) as u32,
        (y * ih) as u32,
        (w * iw).max(32.0) as u32,
        (h * ih).max(32.0) as u32,
    )
}

/// Keypoint sets with the real descriptor distribution, from the photos
/// that are not originals.
pub fn base_features(rng: &mut Rng) -> Vec<Features> {
    let mut all = Vec::new();
    for name in &PHOTOS[ORIGINALS..] {
        let image = photo(name);
        for i in 0..24 {
            let f = |r: &mut Rng| (r.below(1000) as f32) / 1000.0;
            let (w, h) = (0.4 + 0.6 * f(rng), 0.4 + 0.6 * f(rng));
            let (x, y) = ((1.0 - w) * f(rng), (1.0 - h) * f(rng));
            let mut part = cut(&image, x, y, w, h);
            if i % 3 == 1 {
                part = part.rotate90();
            }
            if i % 4 == 2 {
                part = part.fliph();
            }
            all.push(extract(&part, 256));
        }
    }
    all
}

/// One synthetic picture: a base set, half its keypoints from another,
/// orientations turned.
pub fn synthetic(bases: &[Features], rng: &mut Rng) -> Features {
    let first = &bases[rng.below(bases.len())];
    let second = &bases[rng.below(bases.len())].keypoints;
    let turn = rng.below(256) as u8;
    let mut keypoints: Vec<_> = first
        .keypoints
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let mut k = if i % 2 == 0 || second.is_empty() {
                *k
            } else {
                second[i % second.len()]
            };
            k.angle = k.angle.wrapping_add(turn);
            k
        })
        .collect();
    keypoints.truncate(256);
    Features {
        keypoints,
        ..*first
    }
}

/// The edits a query makes of original `i`: a 70 % crop, a quarter turn,
/// the picture in a larger canvas.
pub fn edits(i: usize) -> [DynamicImage; 3] {
    let image = photo(PHOTOS[i]);
    let (w, h) = (image.width(), image.height());
    [cut(&image, 0.25, 0.2, 0.7, 0.7), image.rotate90(), {
        let mut canvas = DynamicImage::new_rgb8(w * 5 / 4, h * 5 / 4);
        image::imageops::overlay(&mut canvas, &image, i64::from(w / 10), i64::from(h / 12));
        canvas
    }]
}
