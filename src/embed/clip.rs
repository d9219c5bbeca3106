//! [`ClipEmbedder`]: a Hugging Face `CLIPModel` run by candle.
//!
//! Pictures go through [`VisionTower`], this crate's throughput-minded image
//! encoder; texts through candle-transformers' CLIP text model. Both match
//! transformers' `CLIPModel` for the configurations [`super::config`]
//! accepts: quick-GELU, pre-norm blocks, image pooling on the class token
//! after `post_layernorm`, text pooling on the EOS token (`argmax` of the
//! ids, which [`super::text`] keeps unique by padding with 0), bias-free
//! projections. The parity test `tests/clip_parity.rs` holds them to the
//! reference.

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_nn::{Linear, Module};
use candle_transformers::models::clip::text_model::ClipTextTransformer;
use candle_transformers::models::clip::{div_l2_norm, ClipConfig};
use image::DynamicImage;

use super::config::HfClipConfig;
use super::hub::{hub_client, DownloadProgress, ModelFiles};
use super::preprocess::preprocess_at;
use super::text::ClipTokenizer;
use super::vision::VisionTower;
use super::{DeviceChoice, EmbedError, Embedder, ModelSettings};
use crate::model::ModelInfo;

/// Size of OpenAI's CLIP vocabulary, the one [`ClipTokenizer`] encodes to.
const OPENAI_VOCAB_SIZE: usize = 49408;

/// CLIP image and text embeddings.
pub struct ClipEmbedder {
    vision: VisionTower,
    text: ClipTextTransformer,
    text_projection: Linear,
    info: ModelInfo,
    device: Device,
    dtype: DType,
    image_size: usize,
    batch_size: usize,
    tokenizer: ClipTokenizer,
    /// The built-in tokenizer is OpenAI's 49,408-token BPE; a model with
    /// another vocabulary embeds pictures only.
    text_supported: bool,
}

impl std::fmt::Debug for ClipEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClipEmbedder")
            .field("model", &self.info)
            .field("device", &self.device)
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

impl ClipEmbedder {
    /// The one way a model is loaded (the binary, tests and benchmarks all
    /// come here): resolves the model files, downloading them unless
    /// offline and reporting each chunk to `progress`, then loads the model
    /// off the async worker threads.
    pub async fn load(
        settings: &ModelSettings,
        progress: &(dyn Fn(DownloadProgress) + Send + Sync),
    ) -> Result<Self, EmbedError> {
        let files = ModelFiles::resolve(settings, &hub_client()?, progress).await?;
        // Reading the config and mapping the weights block: keep them off
        // the async worker threads.
        let settings = settings.clone();
        tokio::task::spawn_blocking(move || Self::from_files(&files, &settings))
            .await
            .unwrap_or_else(|join| match join.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(_) => Err(EmbedError::InvalidInput(
                    "model loading was cancelled (runtime shutting down)".into(),
                )),
            })
    }

    /// Loads a model from resolved files (blocking: reads the config and
    /// maps the weights).
    fn from_files(files: &ModelFiles, settings: &ModelSettings) -> Result<Self, EmbedError> {
        let text = std::fs::read_to_string(&files.config).map_err(|source| EmbedError::Io {
            path: files.config.clone(),
            source,
        })?;
        let config = HfClipConfig::from_json(&text)?.to_candle()?;
        let device = select_device(settings.device)?;
        // Safety: the weights file is memory-mapped; it must not be changed
        // while the model is loaded (cache files are only ever renamed in).
        let vb = unsafe {
            VarBuilder::from_mmaped_safetensors(
                &[&files.weights],
                settings.precision.dtype(),
                &device,
            )?
        };
        Self::from_var_builder(vb, &config, files.id.clone(), settings.batch_size)
    }

    /// Builds the model from any weights source (tests use in-memory ones).
    pub fn from_var_builder(
        vb: VarBuilder,
        config: &ClipConfig,
        id: String,
        batch_size: usize,
    ) -> Result<Self, EmbedError> {
        if !vb.contains_tensor("vision_model.embeddings.class_embedding") {
            return Err(EmbedError::UnsupportedConfig(
                "weights lack vision_model.embeddings.class_embedding (not a CLIPModel?)".into(),
            ));
        }
        let device = vb.device().clone();
        let dtype = vb.dtype();
        let text = ClipTextTransformer::new(vb.pp("text_model"), &config.text_config)?;
        let text_projection = candle_nn::linear_no_bias(
            config.text_config.embed_dim,
            config.text_config.projection_dim,
            vb.pp("text_projection"),
        )?;
        let vision = VisionTower::new(vb, &config.vision_config)?;
        Ok(Self {
            vision,
            text,
            text_projection,
            info: ModelInfo {
                id,
                dim: config.vision_config.projection_dim,
            },
            device,
            dtype,
            image_size: config.vision_config.image_size,
            batch_size: batch_size.max(1),
            tokenizer: ClipTokenizer::new(config.text_config.max_position_embeddings),
            text_supported: config.text_config.vocab_size == OPENAI_VOCAB_SIZE,
        })
    }

    /// Side of the square model input (224 for ViT-B/32).
    pub fn image_size(&self) -> u32 {
        self.image_size as u32
    }

    /// The device the model runs on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The number format the model computes in.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The image encoder, for benchmarks that feed it tensors already on
    /// the device (unnormalised features).
    pub fn vision(&self) -> &VisionTower {
        &self.vision
    }

    /// Preprocessing for this model (CPU work; run it on worker threads to
    /// overlap with [`Self::embed_pixels`]).
    pub fn preprocess(&self, image: &DynamicImage) -> Vec<f32> {
        preprocess_at(image, self.image_size())
    }

    /// [`Self::preprocess`] of several pictures on scoped threads (one per
    /// available core), results in input order.
    pub fn preprocess_parallel(&self, images: &[DynamicImage]) -> Vec<Vec<f32>> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        if threads < 2 || images.len() < 2 {
            return images.iter().map(|i| self.preprocess(i)).collect();
        }
        let chunk = images.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let workers: Vec<_> = images
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || part.iter().map(|i| self.preprocess(i)).collect::<Vec<_>>())
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|worker| {
                    // Preprocessing does not panic on any picture (see its
                    // tests); if it ever did, surface it here.
                    worker
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect::<Vec<Vec<f32>>>()
        })
    }

    /// Embeds preprocessed pixel tensors (each `3 × size × size`, CHW), in
    /// batches of the configured size.
    pub fn embed_pixels(&self, pixels: &[Vec<f32>]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let per_image = self.pixels_per_image();
        if let Some(bad) = pixels.iter().find(|p| p.len() != per_image) {
            return Err(EmbedError::InvalidInput(format!(
                "pixel tensor of {} values, expected {per_image}",
                bad.len()
            )));
        }
        let mut out = Vec::with_capacity(pixels.len());
        for batch in pixels.chunks(self.batch_size) {
            out.extend(self.embed_flat(batch.concat())?);
        }
        Ok(out)
    }

    /// Values in one picture's pixel tensor (`3 × size × size`).
    pub fn pixels_per_image(&self) -> usize {
        3 * self.image_size * self.image_size
    }

    /// Embeds pixel tensors laid end to end in one buffer (as many pictures
    /// as it holds, in one forward pass): producers that fill batches
    /// directly spare a copy.
    pub fn embed_flat(&self, flat: Vec<f32>) -> Result<Vec<Vec<f32>>, EmbedError> {
        let per_image = self.pixels_per_image();
        if flat.is_empty() || !flat.len().is_multiple_of(per_image) {
            return Err(EmbedError::InvalidInput(format!(
                "pixel buffer of {} values is not a whole number of {per_image}-value pictures",
                flat.len()
            )));
        }
        let (size, count) = (self.image_size, flat.len() / per_image);
        let input =
            Tensor::from_vec(flat, (count, 3, size, size), &self.device)?.to_dtype(self.dtype)?;
        unit_rows(&self.vision.forward(&input)?)
    }

    /// Token ids exactly as they are fed to the text model.
    pub fn tokenize(&self, text: &str) -> Vec<u32> {
        self.tokenizer.encode(text)
    }
}

impl Embedder for ClipEmbedder {
    fn model(&self) -> &ModelInfo {
        &self.info
    }

    fn embed_images(&self, images: &[DynamicImage]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let pixels = self.preprocess_parallel(images);
        self.embed_pixels(&pixels)
    }

    fn preprocess(&self, image: &DynamicImage) -> Vec<f32> {
        ClipEmbedder::preprocess(self, image)
    }

    fn embed_pixels(&self, pixels: &[Vec<f32>]) -> Result<Vec<Vec<f32>>, EmbedError> {
        ClipEmbedder::embed_pixels(self, pixels)
    }

    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if !self.text_supported {
            return Err(EmbedError::UnsupportedConfig(format!(
                "text: the model's vocabulary is not OpenAI's {OPENAI_VOCAB_SIZE}-token BPE"
            )));
        }
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(self.batch_size) {
            let (ids, width) = self.tokenizer.encode_batch(batch);
            let input = Tensor::from_vec(ids, (batch.len(), width), &self.device)?;
            let features = self.text_projection.forward(&self.text.forward(&input)?)?;
            out.extend(unit_rows(&features)?);
        }
        Ok(out)
    }
}

/// Features (any dtype) → L2-normalised `f32` rows (normalised in `f32`).
fn unit_rows(features: &Tensor) -> Result<Vec<Vec<f32>>, EmbedError> {
    Ok(div_l2_norm(&features.to_dtype(DType::F32)?)?.to_vec2::<f32>()?)
}

/// The candle device for a choice.
pub fn select_device(choice: DeviceChoice) -> Result<Device, EmbedError> {
    Ok(match choice {
        DeviceChoice::Cpu => Device::Cpu,
        DeviceChoice::Auto => Device::cuda_if_available(0)?,
        DeviceChoice::Cuda(n) => Device::new_cuda(n)?,
    })
}
