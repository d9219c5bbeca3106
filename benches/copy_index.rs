//! The copy index at store sizes the evaluation set does
//! not reach: how long filing takes, how much memory the postings need, and
//! how long a query's candidate search takes at 10k–1M
//! pictures. Under `cargo test` only a 2,000-picture smoke run.
//!
//! ```text
//! cargo bench --bench copy_index -- [PICTURES ...]     # default 100000 1000000
//! MAX_POSTINGS=N cargo bench --bench copy_index -- 100000   # another work budget
//! ```
//!
//! Pictures are synthetic but their keys are real: the keypoints of the
//! photos of `tests/fixtures/hash`, each cut, scaled and turned 24 ways,
//! give 240 term sets with the real (skewed) key distribution; every
//! synthetic picture is one of them with a random half of its keypoints
//! replaced by another's and its orientations turned. Queries are real
//! edits (a 70 % crop, a 12° rotation, the picture in a larger canvas) of
//! the fixture photos, whose originals are filed among the synthetic ones.

use std::time::{Duration, Instant};

use image::DynamicImage;
use provenance::copy_index::{CopyIndex, QueryTerms, SearchSettings, Terms, DEFAULT_MAX_POSTINGS};
use provenance::verify::{extract, QueryFeatures, VerifySettings};

const PHOTOS: [&str; 10] = [
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

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn photo(name: &str) -> DynamicImage {
    image::open(format!(
        "{}/tests/fixtures/hash/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture photo")
}

/// A cut of `image`: `(x, y, w, h)` in fractions of its size.
fn cut(image: &DynamicImage, x: f32, y: f32, w: f32, h: f32) -> DynamicImage {
    let (iw, ih) = (image.width() as f32, image.height() as f32);
    image.crop_imm(
        (x * iw) as u32,
        (y * ih) as u32,
        (w * iw).max(32.0) as u32,
        (h * ih).max(32.0) as u32,
    )
}

/// Term sets with the real key distribution.
fn base_terms(rng: &mut Rng) -> Vec<Terms> {
    let mut all = Vec::new();
    // The second half of the photos make the synthetic pictures; the first
    // half are the originals the queries look for.
    for name in &PHOTOS[PHOTOS.len() / 2..] {
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
            all.push(Terms::of(&extract(&part, 256)));
        }
    }
    all
}

/// One synthetic picture: a base set, half its keypoints from another,
/// orientations turned.
fn synthetic(bases: &[Terms], rng: &mut Rng) -> Terms {
    let first = &bases[rng.below(bases.len())].0;
    let second = &bases[rng.below(bases.len())].0;
    let turn = rng.below(256) as u8;
    let mut terms: Vec<_> = first
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut t = if i % 2 == 0 || second.is_empty() {
                *t
            } else {
                second[i % second.len()]
            };
            t.angle = t.angle.wrapping_add(turn);
            t
        })
        .collect();
    terms.truncate(256);
    Terms(terms)
}

/// The real queries: edits of each fixture photo.
fn queries() -> Vec<(usize, QueryTerms)> {
    let settings = VerifySettings {
        max_keypoints: 768,
        ..VerifySettings::default()
    };
    let mut out = Vec::new();
    for (i, name) in PHOTOS.iter().enumerate().take(PHOTOS.len() / 2) {
        let image = photo(name);
        let (w, h) = (image.width(), image.height());
        let edits = [cut(&image, 0.25, 0.2, 0.7, 0.7), image.rotate90(), {
            let mut canvas = DynamicImage::new_rgb8(w * 5 / 4, h * 5 / 4);
            image::imageops::overlay(&mut canvas, &image, i64::from(w / 10), i64::from(h / 12));
            canvas
        }];
        for edit in edits {
            let features = QueryFeatures::new(&edit, &settings);
            out.push((
                i,
                QueryTerms {
                    plain: Terms::of(&features.plain),
                    mirrored: Terms::of(&features.mirrored),
                },
            ));
        }
    }
    out
}

/// A setting from the environment, for trying values by hand.
fn env_or(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(times: &mut [Duration], q: f64) -> Duration {
    times.sort();
    times[((times.len() - 1) as f64 * q).round() as usize]
}

fn run(pictures: usize, bases: &[Terms], queries: &[(usize, QueryTerms)]) {
    let mut rng = Rng(0x00C0_FFEE_1234_5678);
    let started = Instant::now();
    let mut index = CopyIndex::default();
    // The fixture originals first (ids 1..=10), then synthetic pictures.
    for (i, name) in PHOTOS.iter().enumerate() {
        index.insert(i as i64 + 1, &Terms::of(&extract(&photo(name), 256)));
    }
    for id in PHOTOS.len()..pictures {
        index.insert(id as i64 + 1, &synthetic(bases, &mut rng));
    }
    let filed = started.elapsed();
    let lengths = index.list_lengths();
    let postings: usize = lengths.iter().sum();
    let settings = SearchSettings {
        candidates: 50,
        stop_factor: env_or("STOP_FACTOR", 200),
        max_postings: env_or("MAX_POSTINGS", DEFAULT_MAX_POSTINGS as u32) as usize,
        ..SearchSettings::default()
    };
    // One warm-up pass, then the timed ones.
    for (_, q) in queries.iter().take(3) {
        index.candidates(q, &settings);
    }
    let mut times = Vec::new();
    let mut found = 0;
    for (original, q) in queries {
        let started = Instant::now();
        let candidates = index.candidates(q, &settings);
        times.push(started.elapsed());
        if candidates
            .iter()
            .any(|c| c.image_id == *original as i64 + 1)
        {
            found += 1;
        }
    }
    let p50 = percentile(&mut times, 0.5);
    let p95 = percentile(&mut times, 0.95);
    println!(
        "| {pictures} | {:.1} s | {postings} | {:.2} GB | {:.1} ms | {:.1} ms | {found} of {} |",
        filed.as_secs_f64(),
        postings as f64 * 6.0 / 1e9,
        p50.as_secs_f64() * 1e3,
        p95.as_secs_f64() * 1e3,
        queries.len()
    );
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .filter_map(|a| a.parse().ok())
        .collect();
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this
    // too, without it: then a small smoke run only.
    let benching = std::env::args().any(|a| a == "--bench");
    let sizes = match (sizes.is_empty(), benching) {
        (false, _) => sizes,
        (true, true) => vec![100_000, 1_000_000],
        (true, false) => vec![2_000],
    };
    let mut rng = Rng(42);
    let bases = base_terms(&mut rng);
    let queries = queries();
    println!("| pictures | filing | postings | postings memory (6 B each) | candidates p50 | p95 | originals among the 50 candidates |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for pictures in sizes {
        run(pictures, &bases, &queries);
    }
}
