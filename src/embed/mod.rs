//! CLIP embeddings: pictures and texts → L2-normalised vectors.
//!
//! * [`preprocess`]: picture → pixel tensor, exactly as `CLIPImageProcessor`.
//! * [`text`]: the real CLIP BPE tokenizer.
//! * [`hub`]: where the weights come from (Hugging Face hub at a pinned
//!   revision with a local cache, or a local model directory).
//! * [`clip`]: [`ClipEmbedder`], the model on candle.
//! * [`vision`]: [`VisionTower`], the image encoder written for throughput.
//!
//! Decoding happens before embedding ([`crate::decode`]), one picture at a
//! time, so a bad file is a per-image error and never spoils a batch.

pub mod preprocess;
mod resample;

pub use preprocess::preprocess;

#[cfg(feature = "runtime")]
pub mod clip;
#[cfg(feature = "runtime")]
pub mod config;
#[cfg(feature = "runtime")]
mod embedder;
#[cfg(feature = "runtime")]
pub mod hub;
#[cfg(feature = "runtime")]
mod settings;
#[cfg(feature = "runtime")]
pub mod text;
#[cfg(feature = "runtime")]
pub mod vision;
#[cfg(feature = "cuda")]
mod vision_cuda;

#[cfg(feature = "runtime")]
pub use clip::ClipEmbedder;
#[cfg(feature = "runtime")]
pub use embedder::{EmbedError, Embedder};
#[cfg(feature = "runtime")]
pub use hub::{ModelFiles, ModelSource, DEFAULT_ENDPOINT, DEFAULT_REPO, DEFAULT_REVISION};
#[cfg(feature = "runtime")]
pub use settings::{DeviceChoice, ModelSettings, Precision};
#[cfg(feature = "runtime")]
pub use vision::{StageTimes, VisionTower};
