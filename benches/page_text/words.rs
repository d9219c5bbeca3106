//! Synthetic postings for the `page_text` benchmark: the words of N
//! postings, seeded, made one posting at a time (both backends see the same
//! postings without keeping them in memory).
//!
//! A vocabulary of 50,000 made-up word forms (syllables of the consonants
//! `b d f g k l m n p r s t v z` and the vowels) is drawn with a Zipf
//! frequency (exponent 1): about 70 forms are in ≥ 10 % of postings, 85 %
//! of them in under 0.1 %. About 30 % of the running words are English
//! stop words, as in real text (FTS5 indexes them; PostgreSQL's `english`
//! drops them).
//! Into that, real English words are planted at known rates, so each kind
//! of query has a controlled selectivity. Every planted word holds one of
//! the letters `c h j q w x y`, which no vocabulary form (nor its stem) has:
//! planting is the only way a posting matches a planted word.

use provenance::model::PostingWords;

/// In ~0.01 % of postings each; queries cycle through the variants.
pub const RARE: [&str; 8] = [
    "quokka",
    "theremin",
    "narwhal",
    "chimera",
    "hovercraft",
    "trebuchet",
    "sphinx",
    "jackalope",
];
/// In ~1 % of postings each.
pub const MEDIUM: [&str; 8] = [
    "lighthouse",
    "cello",
    "glacier",
    "cathedral",
    "tractor",
    "volcano",
    "peacock",
    "castle",
];
/// In ~10 % of postings each.
pub const COMMON: [&str; 4] = ["beach", "wedding", "hockey", "concert"];
/// Two-word phrases in ~0.1 % of postings each; each of their words is
/// also planted alone in ~0.5 %, so the phrase query has positions to check.
pub const PHRASES: [[&str; 2]; 8] = [
    ["harbour", "crane"],
    ["church", "choir"],
    ["yellow", "taxi"],
    ["cherry", "blossom"],
    ["whale", "watching"],
    ["chess", "match"],
    ["wax", "museum"],
    ["jazz", "quartet"],
];
/// Planted nowhere.
pub const NOTHING: [&str; 8] = [
    "xylophone",
    "jukebox",
    "cyclops",
    "hydrant",
    "wheelbarrow",
    "chainsaw",
    "yacht",
    "quiche",
];

pub const RARE_RATE: f64 = 0.0001;
pub const MEDIUM_RATE: f64 = 0.01;
pub const COMMON_RATE: f64 = 0.10;
pub const PHRASE_RATE: f64 = 0.001;
const PHRASE_WORD_RATE: f64 = 0.005;

/// Size of the vocabulary.
const VOCABULARY: usize = 50_000;
/// Share of running words that are stop words.
const STOP_SHARE: f64 = 0.3;
const STOP: [&str; 24] = [
    "the", "of", "and", "to", "in", "for", "with", "on", "at", "by", "from", "is", "this", "a",
    "an", "as", "are", "was", "it", "its", "or", "be", "our", "your",
];
/// The scraper keeps at most 600 characters around a picture; the words
/// are made up to this many, so planted words still fit.
const NEARBY_CHARS: usize = 560;

/// SplitMix64: small, fast, deterministic.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `low..=high`.
    pub fn between(&mut self, low: usize, high: usize) -> usize {
        low + (self.next() % (high - low + 1) as u64) as usize
    }
}

/// One posting, as the bulk load writes it.
pub struct Posting {
    /// The sighting's id (from 1).
    pub id: i64,
    pub image_id: i64,
    pub image_url: String,
    pub page_url: String,
    pub page_title: String,
    pub site: String,
    /// [`PostingWords`] as the stores write it (JSON).
    pub words: String,
}

/// N postings of `images` pictures, made on demand.
pub struct Postings {
    vocabulary: Vec<String>,
    /// Cumulative Zipf probabilities, by rank.
    cdf: Vec<f64>,
    seed: u64,
    pub count: usize,
    pub images: usize,
}

impl Postings {
    /// `count` postings of `count × 2 / 5` pictures: every picture has one,
    /// the rest go to pictures at random (1 + Poisson(1.5) each).
    pub fn new(count: usize, seed: u64) -> Self {
        let mut rng = Rng(seed ^ 0x5EED);
        let mut seen = std::collections::HashSet::new();
        let mut vocabulary = Vec::with_capacity(VOCABULARY);
        while vocabulary.len() < VOCABULARY {
            let word = made_up_word(&mut rng);
            if !STOP.contains(&word.as_str())
                && provenance::model::TextQuery::parse(&word).is_ok()
                && seen.insert(word.clone())
            {
                vocabulary.push(word);
            }
        }
        let weights: Vec<f64> = (1..=VOCABULARY).map(|rank| 1.0 / rank as f64).collect();
        let total: f64 = weights.iter().sum();
        let mut running = 0.0;
        let cdf = weights
            .iter()
            .map(|w| {
                running += w / total;
                running
            })
            .collect();
        for term in RARE
            .iter()
            .chain(&MEDIUM)
            .chain(&COMMON)
            .chain(PHRASES.iter().flatten())
            .chain(&NOTHING)
        {
            assert!(
                term.contains(['c', 'h', 'j', 'q', 'w', 'x', 'y'])
                    || PHRASES.iter().any(|p| p.contains(term)),
                "{term} could be a vocabulary form"
            );
        }
        Self {
            vocabulary,
            cdf,
            seed,
            count,
            images: (count * 2 / 5).max(1),
        }
    }

    fn word(&self, rng: &mut Rng) -> &str {
        if rng.unit() < STOP_SHARE {
            return STOP[rng.between(0, STOP.len() - 1)];
        }
        let u = rng.unit();
        let rank = self.cdf.partition_point(|&c| c < u);
        &self.vocabulary[rank.min(VOCABULARY - 1)]
    }

    /// `count` running words, a full stop now and then.
    fn words(&self, rng: &mut Rng, count: usize, max_chars: usize) -> Vec<String> {
        let mut out: Vec<String> = Vec::with_capacity(count);
        let mut chars = 0;
        for i in 0..count {
            let mut word = self.word(rng).to_string();
            if i % 11 == 10 {
                word.push('.');
            }
            chars += word.len() + 1;
            if chars > max_chars {
                break;
            }
            out.push(word);
        }
        out
    }

    /// Posting `index` (from 0); the same every time.
    pub fn posting(&self, index: usize) -> Posting {
        let mut rng = Rng(self.seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ index as u64);
        rng.next();
        let image_id = match index < self.images {
            true => index as i64 + 1,
            false => rng.between(1, self.images) as i64,
        };
        let site = format!("site{}", rng.between(0, 4_999));
        // Page title ~8 words, alt ~6, caption ~12 (on half), heading ~6,
        // the text around the picture ~80 (~500 characters), description ~20.
        let lengths = [
            rng.between(6, 10),
            rng.between(4, 8),
            rng.between(9, 15),
            rng.between(4, 8),
            rng.between(72, 88),
            rng.between(16, 24),
        ];
        let has_caption = rng.unit() < 0.5;
        let mut fields: [Option<Vec<String>>; 6] = std::array::from_fn(|i| {
            let max_chars = if i == 4 { NEARBY_CHARS } else { 300 };
            (i != 2 || has_caption).then(|| self.words(&mut rng, lengths[i], max_chars))
        });
        let mut plant = |term: String, rng: &mut Rng| {
            // Page title, alt, caption, heading, nearby, description.
            let weights = [0.15, 0.2, 0.15, 0.1, 0.3, 0.1];
            let mut u = rng.unit();
            let mut field = weights.len() - 1;
            for (i, w) in weights.iter().enumerate() {
                if u < *w {
                    field = i;
                    break;
                }
                u -= w;
            }
            let words = match fields[field].as_mut() {
                Some(words) => words,
                None => fields[1].as_mut().expect("alt is always made"),
            };
            let at = rng.between(0, words.len());
            words.insert(at, term);
        };
        let planted = [
            (&RARE[..], RARE_RATE),
            (&MEDIUM[..], MEDIUM_RATE),
            (&COMMON[..], COMMON_RATE),
        ];
        for (terms, rate) in planted {
            for term in terms {
                if rng.unit() < rate {
                    plant(term.to_string(), &mut rng);
                }
            }
        }
        for phrase in PHRASES {
            if rng.unit() < PHRASE_RATE {
                plant(phrase.join(" "), &mut rng);
            }
            for word in phrase {
                if rng.unit() < PHRASE_WORD_RATE {
                    plant(word.to_string(), &mut rng);
                }
            }
        }
        let [title, alt, caption, heading, nearby, description] =
            fields.map(|f| f.map(|w| w.join(" ")));
        let words = PostingWords {
            alt,
            caption,
            heading,
            nearby,
            description,
            ..PostingWords::default()
        };
        let id = index as i64 + 1;
        Posting {
            id,
            image_id,
            image_url: format!("https://img{}.cdn.example/{image_id}/{id}.jpg", id % 7),
            page_url: format!("https://{site}.example/posts/{id}"),
            page_title: title.unwrap_or_default(),
            site,
            words: serde_json::json!(words).to_string(),
        }
    }
}

/// A made-up word of 2–4 syllables: consonant, vowel, sometimes a coda.
fn made_up_word(rng: &mut Rng) -> String {
    const ONSET: &[u8] = b"bdfgklmnprstvz";
    const VOWEL: &[u8] = b"aeiou";
    const CODA: &[u8] = b"lmnrst";
    let syllables = match rng.unit() {
        u if u < 0.45 => 2,
        u if u < 0.9 => 3,
        _ => 4,
    };
    let mut word = String::new();
    for _ in 0..syllables {
        word.push(ONSET[rng.between(0, ONSET.len() - 1)] as char);
        word.push(VOWEL[rng.between(0, VOWEL.len() - 1)] as char);
        if rng.unit() < 0.2 {
            word.push(CODA[rng.between(0, CODA.len() - 1)] as char);
        }
    }
    word
}
