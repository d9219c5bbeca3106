//! Synthetic vectors for the `nearest` benchmark, and their bulk load into
//! the embedded store's SQLite file (one transaction per 10,000 rows, not one
//! `set_embedding` call per row).

use std::path::Path;

use sqlx::{Connection, Executor};

/// Vectors in one row-major matrix.
pub struct Vectors {
    dim: usize,
    data: Vec<f32>,
}

/// SplitMix64: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    /// Uniform in [-1, 1).
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
}

/// The stored id of row `row` (ids start at 1, as database ids do).
pub fn id_of(row: usize) -> i64 {
    row as i64 + 1
}

fn normalise(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
}

impl Vectors {
    /// `n` random unit vectors: uniform in the cube, then L2-normalised.
    pub fn random(n: usize, dim: usize, seed: u64) -> Self {
        let mut rng = Rng(seed);
        let mut data: Vec<f32> = (0..n * dim).map(|_| rng.next()).collect();
        data.chunks_exact_mut(dim).for_each(normalise);
        Self { dim, data }
    }

    /// `n` unit vectors with low intrinsic dimension, like real image
    /// embeddings: random combinations of 32 fixed random directions plus
    /// a little noise in every dimension, L2-normalised.
    pub fn low_rank(n: usize, dim: usize, seed: u64) -> Self {
        let basis = Vectors::random(32, dim, 1234);
        let mut rng = Rng(seed);
        let mut data = vec![0f32; n * dim];
        for row in data.chunks_exact_mut(dim) {
            for direction in basis.rows() {
                let weight = rng.next();
                row.iter_mut()
                    .zip(direction)
                    .for_each(|(x, d)| *x += weight * d);
            }
            row.iter_mut().for_each(|x| *x += 0.05 * rng.next());
            normalise(row);
        }
        Self { dim, data }
    }

    /// All values, row-major.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }

    /// The dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The vector stored under `id`, if there is one.
    pub fn by_id(&self, id: i64) -> Option<&[f32]> {
        let row = usize::try_from(id - 1).ok()?;
        self.data.get(row * self.dim..(row + 1) * self.dim)
    }

    /// The vectors, one slice each.
    pub fn rows(&self) -> impl Iterator<Item = &[f32]> {
        self.data.chunks_exact(self.dim)
    }

    /// `count` queries, each a stored vector turned away from it so that
    /// their cosine is about `cosine` (a near-duplicate's embedding).
    pub fn near_copies(&self, count: usize, cosine: f32, seed: u64) -> Vec<Vec<f32>> {
        let noise = Vectors::random(count, self.dim, seed);
        let rows = self.data.len() / self.dim;
        let away = (1.0 - cosine * cosine).sqrt();
        noise
            .rows()
            .enumerate()
            .map(|(i, u)| {
                let source = &self.data[(i * 7919 % rows) * self.dim..][..self.dim];
                let mut q: Vec<f32> = source
                    .iter()
                    .zip(u)
                    .map(|(s, u)| cosine * s + away * u)
                    .collect();
                normalise(&mut q);
                q
            })
            .collect()
    }
}

/// Writes every vector as an image row with its embedding, ids from 1.
pub async fn load_sqlite(path: &Path, vectors: &Vectors, model_id: &str) {
    let url = format!("sqlite://{}", path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("open sqlite file");
    conn.execute("PRAGMA synchronous = OFF")
        .await
        .expect("pragma");
    for (chunk_index, chunk) in vectors.data.chunks(10_000 * vectors.dim).enumerate() {
        let mut tx = conn.begin().await.expect("begin");
        for (i, v) in chunk.chunks_exact(vectors.dim).enumerate() {
            let id = id_of(chunk_index * 10_000 + i);
            let blob: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
            sqlx::query(
                "INSERT INTO images (id, sha256, width, height, format, byte_size, embedding,
                                     embedding_model, first_seen_at, last_seen_at)
                 VALUES (?, ?, 640, 480, 'jpeg', 1000, ?, ?, 0, 0)",
            )
            .bind(id)
            .bind(sha_of(id).to_vec())
            .bind(blob)
            .bind(model_id)
            .execute(&mut *tx)
            .await
            .expect("insert");
        }
        tx.commit().await.expect("commit");
    }
    conn.close().await.expect("close");
}

/// A distinct stand-in for the content hash of image `id`.
pub fn sha_of(id: i64) -> [u8; 32] {
    let mut sha = [0u8; 32];
    sha[..8].copy_from_slice(&id.to_le_bytes());
    sha
}

/// A vector in pgvector's text input format, `[x,y,...]`.
pub fn pg_text(v: &[f32], out: &mut String) {
    use std::fmt::Write;
    out.push('[');
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{x}");
    }
    out.push(']');
}
