//! CLIP embeddings: pictures and texts → L2-normalised vectors.
//!
//! * [`preprocess`]: picture → pixel tensor, exactly as `CLIPImageProcessor`.
//! * [`text`]: the real CLIP BPE tokenizer.
//! * [`hub`]: where the weights come from (Hugging Face hub at a pinned
//!   revision with a local cache, or a local model directory).
//! * [`clip`]: [`ClipEmbedder`], the model on candle.
//!
//! Decoding happens before embedding ([`crate::decode`]), one picture at a
//! time, so a bad file is a per-image error and never spoils a batch.

pub mod clip;
pub mod config;
pub mod hub;
pub mod preprocess;
mod resample;
pub mod text;

use std::path::PathBuf;

pub use clip::ClipEmbedder;
pub use hub::{ModelFiles, ModelSource, DEFAULT_ENDPOINT, DEFAULT_REPO, DEFAULT_REVISION};
pub use preprocess::preprocess;

use crate::store::ModelInfo;

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

/// Where the model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// CUDA device 0 when built with the `cuda` feature and a GPU is
    /// present, else the CPU.
    #[default]
    Auto,
    /// The CPU.
    Cpu,
    /// CUDA device N (needs the `cuda` feature).
    Cuda(usize),
}

impl std::str::FromStr for DeviceChoice {
    type Err = String;

    /// `auto`, `cpu`, `cuda` (device 0) or `cuda:N`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" | "gpu" => Ok(Self::Cuda(0)),
            other => other
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(Self::Cuda)
                .ok_or_else(|| format!("unknown device {s:?}: expected auto, cpu, cuda or cuda:N")),
        }
    }
}

impl std::fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::Cpu => f.write_str("cpu"),
            Self::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

/// Number format the model computes in. Pictures are preprocessed in
/// `f32` and vectors come out in `f32` whatever the choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// Full precision (the reference's).
    #[default]
    F32,
    /// IEEE half precision (for GPUs).
    F16,
    /// bfloat16 (for GPUs).
    Bf16,
}

impl Precision {
    /// The candle dtype.
    pub fn dtype(self) -> candle_core::DType {
        match self {
            Self::F32 => candle_core::DType::F32,
            Self::F16 => candle_core::DType::F16,
            Self::Bf16 => candle_core::DType::BF16,
        }
    }
}

impl std::str::FromStr for Precision {
    type Err = String;

    /// `f32`, `f16` or `bf16`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "f32" | "fp32" | "float32" => Ok(Self::F32),
            "f16" | "fp16" | "float16" | "half" => Ok(Self::F16),
            "bf16" | "bfloat16" => Ok(Self::Bf16),
            _ => Err(format!(
                "unknown precision {s:?}: expected f32, f16 or bf16"
            )),
        }
    }
}

/// Everything that decides which model is loaded and how it runs.
#[derive(Debug, Clone)]
pub struct ModelSettings {
    /// Hub repository or local directory.
    pub source: ModelSource,
    /// Never touch the network; fail with what is missing instead.
    pub offline: bool,
    /// Where to run.
    pub device: DeviceChoice,
    /// Number format of the model (f32 is the reference; f16/bf16 for GPUs).
    pub precision: Precision,
    /// Pictures (or texts) per forward pass.
    pub batch_size: usize,
    /// Where hub downloads are kept.
    pub cache_dir: PathBuf,
}

impl ModelSettings {
    /// The pinned default model from the Hugging Face hub, cached in
    /// `cache_dir`, online, on the best device, 32 pictures a batch.
    pub fn hub_default(cache_dir: PathBuf) -> Self {
        Self {
            source: ModelSource::default(),
            offline: false,
            device: DeviceChoice::Auto,
            precision: Precision::F32,
            batch_size: 32,
            cache_dir,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_choices_parse_and_print() {
        for (text, choice) in [
            ("auto", DeviceChoice::Auto),
            ("CPU", DeviceChoice::Cpu),
            ("cuda", DeviceChoice::Cuda(0)),
            ("cuda:3", DeviceChoice::Cuda(3)),
        ] {
            assert_eq!(text.parse::<DeviceChoice>(), Ok(choice));
        }
        assert_eq!(DeviceChoice::Cuda(1).to_string(), "cuda:1");
        assert!("tpu".parse::<DeviceChoice>().is_err());
        assert!("cuda:x".parse::<DeviceChoice>().is_err());
    }

    #[test]
    fn precisions_parse() {
        assert_eq!("F16".parse::<Precision>(), Ok(Precision::F16));
        assert_eq!("bf16".parse::<Precision>(), Ok(Precision::Bf16));
        assert_eq!("fp32".parse::<Precision>(), Ok(Precision::F32));
        assert!("int8".parse::<Precision>().is_err());
        assert_eq!(Precision::F16.dtype(), candle_core::DType::F16);
    }

    #[test]
    fn default_settings_pin_the_revision() {
        let settings = ModelSettings::hub_default(PathBuf::from("/cache"));
        let ModelSource::Hub {
            repo,
            revision,
            endpoint,
        } = settings.source
        else {
            panic!("not a hub source");
        };
        assert_eq!(repo, DEFAULT_REPO);
        assert_eq!(revision.len(), 40);
        assert_eq!(endpoint.as_str(), "https://huggingface.co/");
    }
}
