//! [`Embedder`], what the pipeline needs from a model, and [`EmbedError`],
//! every way embedding can fail.

use std::path::PathBuf;

use crate::model::ModelInfo;

/// Turns pictures and texts into L2-normalised vectors of one model.
pub trait Embedder: Send + Sync {
    /// The model's id and dimension, stored with every vector.
    fn model(&self) -> &ModelInfo;
    /// One unit vector per picture, in order.
    fn embed_images(&self, images: &[image::DynamicImage]) -> Result<Vec<Vec<f32>>, EmbedError>;
    /// The model input for one picture (CPU work: run it on worker threads
    /// so it overlaps with [`Embedder::embed_pixels`]).
    fn preprocess(&self, image: &image::DynamicImage) -> Vec<f32>;
    /// One unit vector per preprocessed picture, in order.
    fn embed_pixels(&self, pixels: &[Vec<f32>]) -> Result<Vec<Vec<f32>>, EmbedError>;
    /// One unit vector per text, in order.
    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError>;
}

/// Why the embedder failed.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The hub could not be reached.
    #[error("downloading {url}: {source}")]
    Http {
        /// What was requested.
        url: String,
        /// The HTTP client's error.
        #[source]
        source: reqwest::Error,
    },
    /// The hub answered with an error status.
    #[error("downloading {url}: HTTP {status}")]
    Status {
        /// What was requested.
        url: String,
        /// The status.
        status: u16,
    },
    /// A download ended early or grew past its announced size.
    #[error("downloading {url}: got {got} bytes, expected {expected}")]
    Truncated {
        /// What was requested.
        url: String,
        /// Bytes received.
        got: u64,
        /// Bytes announced.
        expected: u64,
    },
    /// Offline mode and the model is not on disk.
    #[error("offline and the model is not cached: missing {missing:?}; {hint}")]
    Missing {
        /// Files that would be needed.
        missing: Vec<PathBuf>,
        /// What to do about it.
        hint: String,
    },
    /// `config.json` is not valid.
    #[error("invalid config.json: {0}")]
    Config(#[source] serde_json::Error),
    /// A configuration this implementation cannot compute exactly.
    #[error("unsupported CLIP configuration: {0}")]
    UnsupportedConfig(String),
    /// The tensor library failed (bad weights file, device error, …).
    #[error("model: {0}")]
    Model(#[from] candle_core::Error),
    /// Input that cannot be embedded (wrong pixel tensor size, …).
    #[error("invalid input: {0}")]
    InvalidInput(String),
}
