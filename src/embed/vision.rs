//! [`VisionTower`]: CLIP's image encoder (transformers' `CLIPVisionModel`
//! plus `visual_projection`), written for throughput.
//!
//! It computes the same function as candle-transformers' CLIP vision model
//! with fewer, larger GPU kernels:
//! - the patch embedding is one matrix product over unfolded patches (the
//!   convolution's stride equals its kernel, so patches do not overlap);
//! - q, k and v come from one product with the three weights stacked, the
//!   attention scale folded into q's rows (for 64-wide heads the scale is
//!   1/8, a power of two, so the fold is exact);
//! - attention runs in the model's own number format (candle-transformers
//!   converts it to `f32`), products accumulating in `f32` as cuBLAS does;
//! - `quick_gelu(h) = h·σ(1.702h)` is `silu(1.702h)/1.702`: the factor is
//!   folded into fc1's weights and its inverse into fc2's, so the
//!   activation is one kernel instead of three;
//! - the last layer runs attention, projection and MLP for the class token
//!   only, the one row the pooled output reads;
//! - on CUDA (feature `cuda`), layer norms, attention (straight from the
//!   unbiased qkv product, heads merged on output) and the bias additions
//!   with activation or residual are this crate's own fused kernels
//!   ([`super::vision_cuda`]): candle's element-wise and copy kernels reach
//!   a fraction of the GPU's memory bandwidth, and most of a pass was spent
//!   in them (BENCHMARKS.md, "CLIP on the GPU").
//!
//! The parity tests (`tests/clip_parity.rs`) hold it to the reference.

use candle_core::{DType, Device, IndexOp, Module, Tensor};
use candle_nn::init::{Init, DEFAULT_KAIMING_NORMAL};
use candle_nn::{LayerNorm, VarBuilder};
use candle_transformers::models::clip::vision_model::ClipVisionConfig;

/// The `quick_gelu` slope.
const QUICK_GELU: f64 = 1.702;
/// transformers' CLIP layer-norm ε.
const LAYER_NORM_EPS: f64 = 1e-5;

/// The image half of a CLIP model, ready to run.
#[derive(Debug, Clone)]
pub struct VisionTower {
    /// Patch embedding as a matrix, `(embed, 3·patch·patch)`.
    patch: Tensor,
    /// Class embedding, `(1, 1, embed)`.
    class: Tensor,
    /// Position embeddings, `(1, tokens, embed)`.
    positions: Tensor,
    pre_norm: LayerNorm,
    layers: Vec<EncoderLayer>,
    post_norm: LayerNorm,
    /// Projection to the joint space, `(projection, embed)`.
    projection: Tensor,
    patch_size: usize,
    grid: usize,
    heads: usize,
    /// Use the fused CUDA kernels when the input is on a CUDA device.
    fused: bool,
}

#[derive(Debug, Clone)]
struct EncoderLayer {
    norm1: LayerNorm,
    /// q (scaled), k and v weights stacked, `(3·embed, embed)`.
    qkv_weight: Tensor,
    qkv_bias: Tensor,
    out_weight: Tensor,
    out_bias: Tensor,
    norm2: LayerNorm,
    /// fc1 times 1.702.
    fc1_weight: Tensor,
    fc1_bias: Tensor,
    /// fc2 divided by 1.702.
    fc2_weight: Tensor,
    fc2_bias: Tensor,
}

/// Time spent per stage of a forward pass, for benchmarks: each stage ends
/// with a device synchronisation, so the figures add up to the pass (and
/// the pass is slower than without the probe).
#[derive(Debug, Default)]
pub struct StageTimes {
    /// `(stage, seconds)` in first-seen order, summed over calls.
    pub stages: Vec<(&'static str, f64)>,
    last: Option<std::time::Instant>,
}

impl StageTimes {
    /// Starts timing a pass (what ran before it is not counted).
    fn begin(&mut self, device: &Device) -> candle_core::Result<()> {
        device.synchronize()?;
        self.last = Some(std::time::Instant::now());
        Ok(())
    }

    fn mark(&mut self, device: &Device, stage: &'static str) -> candle_core::Result<()> {
        device.synchronize()?;
        let now = std::time::Instant::now();
        if let Some(last) = self.last {
            let seconds = (now - last).as_secs_f64();
            match self.stages.iter_mut().find(|(name, _)| *name == stage) {
                Some((_, total)) => *total += seconds,
                None => self.stages.push((stage, seconds)),
            }
        }
        self.last = Some(now);
        Ok(())
    }
}

/// Marks the end of a stage when profiling.
fn mark(
    probe: &mut Option<&mut StageTimes>,
    device: &Device,
    stage: &'static str,
) -> candle_core::Result<()> {
    match probe {
        Some(times) => times.mark(device, stage),
        None => Ok(()),
    }
}

impl VisionTower {
    /// Loads `vision_model.*` and `visual_projection` from a CLIPModel's
    /// weights; folded weights are computed in `f32`, then stored in the
    /// builder's number format. A builder backed by a `VarMap` creates
    /// missing tensors with candle's usual initialisations (a random model).
    pub fn new(vb: VarBuilder, config: &ClipVisionConfig) -> candle_core::Result<Self> {
        let dtype = vb.dtype();
        let f32_vb = vb.clone().set_dtype(DType::F32);
        let vision = f32_vb.pp("vision_model");
        let embed = config.embed_dim;
        let patch_size = config.patch_size;
        let grid = config.image_size / patch_size;
        let tokens = grid * grid + 1;
        let channels = config.num_channels;
        let emb = vision.pp("embeddings");
        let small = Init::Randn {
            mean: 0.,
            stdev: 0.02,
        };
        let patch = emb
            .get_with_hints(
                (embed, channels, patch_size, patch_size),
                "patch_embedding.weight",
                DEFAULT_KAIMING_NORMAL,
            )?
            .reshape((embed, channels * patch_size * patch_size))?;
        let class = emb
            .get_with_hints(embed, "class_embedding", small)?
            .reshape((1, 1, embed))?;
        let positions = emb
            .get_with_hints((tokens, embed), "position_embedding.weight", small)?
            .reshape((1, tokens, embed))?;
        let norm = |vb: VarBuilder| -> candle_core::Result<LayerNorm> {
            let weight = vb.get_with_hints(embed, "weight", Init::Const(1.))?;
            let bias = vb.get_with_hints(embed, "bias", Init::Const(0.))?;
            Ok(LayerNorm::new(
                weight.to_dtype(dtype)?,
                bias.to_dtype(dtype)?,
                LAYER_NORM_EPS,
            ))
        };
        let weight = |vb: &VarBuilder, shape: (usize, usize), name: &str| {
            vb.get_with_hints(shape, name, DEFAULT_KAIMING_NORMAL)
        };
        let bias = |vb: &VarBuilder, size: usize, name: &str| {
            vb.get_with_hints(size, name, Init::Const(0.))
        };
        let heads = config.num_attention_heads;
        let head_dim = embed / heads;
        let scale = (head_dim as f64).powf(-0.5);
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let layer = vision.pp(format!("encoder.layers.{i}"));
            let attn = layer.pp("self_attn");
            let linear = |name: &str, rows: usize, cols: usize, factor: f64| {
                let vb = attn.pp(name);
                let w = (weight(&vb, (rows, cols), "weight")? * factor)?;
                let b = (bias(&vb, rows, "bias")? * factor)?;
                candle_core::Result::Ok((w, b))
            };
            let (q_w, q_b) = linear("q_proj", embed, embed, scale)?;
            let (k_w, k_b) = linear("k_proj", embed, embed, 1.0)?;
            let (v_w, v_b) = linear("v_proj", embed, embed, 1.0)?;
            let (out_w, out_b) = linear("out_proj", embed, embed, 1.0)?;
            let mlp = layer.pp("mlp");
            let inner = config.intermediate_size;
            let fc1_weight = (weight(&mlp, (inner, embed), "fc1.weight")? * QUICK_GELU)?;
            let fc1_bias = (bias(&mlp, inner, "fc1.bias")? * QUICK_GELU)?;
            let fc2_weight = (weight(&mlp, (embed, inner), "fc2.weight")? / QUICK_GELU)?;
            let fc2_bias = bias(&mlp, embed, "fc2.bias")?;
            layers.push(EncoderLayer {
                norm1: norm(layer.pp("layer_norm1"))?,
                qkv_weight: Tensor::cat(&[q_w, k_w, v_w], 0)?.to_dtype(dtype)?,
                qkv_bias: Tensor::cat(&[q_b, k_b, v_b], 0)?.to_dtype(dtype)?,
                out_weight: out_w.to_dtype(dtype)?,
                out_bias: out_b.to_dtype(dtype)?,
                norm2: norm(layer.pp("layer_norm2"))?,
                fc1_weight: fc1_weight.to_dtype(dtype)?,
                fc1_bias: fc1_bias.to_dtype(dtype)?,
                fc2_weight: fc2_weight.to_dtype(dtype)?,
                fc2_bias: fc2_bias.to_dtype(dtype)?,
            });
        }
        let projection = weight(
            &f32_vb,
            (config.projection_dim, embed),
            "visual_projection.weight",
        )?
        .to_dtype(dtype)?;
        Ok(Self {
            patch: patch.to_dtype(dtype)?,
            class: class.to_dtype(dtype)?,
            positions: positions.to_dtype(dtype)?,
            pre_norm: norm(vision.pp("pre_layrnorm"))?,
            layers,
            post_norm: norm(vision.pp("post_layernorm"))?,
            projection,
            patch_size,
            grid,
            heads,
            fused: true,
        })
    }

    /// Turns the fused CUDA kernels off (candle's operations everywhere),
    /// for benchmarks.
    pub fn without_fused_kernels(mut self) -> Self {
        self.fused = false;
        self
    }

    /// Whether this pass runs the fused CUDA kernels.
    fn fuses(&self, device: &Device, tokens: usize) -> bool {
        #[cfg(feature = "cuda")]
        {
            let embed = self.patch.dim(0).unwrap_or(0);
            let head_dim = embed / self.heads.max(1);
            self.fused
                && device.is_cuda()
                && super::vision_cuda::attention_shared_bytes(tokens, head_dim)
                    <= super::vision_cuda::SHARED_LIMIT
        }
        #[cfg(not(feature = "cuda"))]
        {
            let _ = (device, tokens);
            false
        }
    }

    /// Image features (not normalised), `(batch, projection)`, for pixels
    /// `(batch, 3, size, size)` in the model's number format.
    pub fn forward(&self, pixels: &Tensor) -> candle_core::Result<Tensor> {
        self.forward_probed(pixels, None)
    }

    /// [`Self::forward`], timing each stage into `probe` when given.
    pub fn forward_probed(
        &self,
        pixels: &Tensor,
        mut probe: Option<&mut StageTimes>,
    ) -> candle_core::Result<Tensor> {
        let device = pixels.device().clone();
        if let Some(times) = probe.as_deref_mut() {
            times.begin(&device)?;
        }
        let batch = pixels.dim(0)?;
        let (p, g) = (self.patch_size, self.grid);
        let channels = pixels.dim(1)?;
        // (b, c, g·p, g·p) → (b·g·g, c·p·p): each row one patch, laid out
        // like the convolution kernel.
        let patches = pixels
            .reshape((batch, channels, g, p, g, p))?
            .permute((0, 2, 4, 1, 3, 5))?
            .contiguous()?
            .reshape((batch * g * g, channels * p * p))?;
        mark(&mut probe, &device, "unfold patches")?;
        let patches = patches.matmul(&self.patch.t()?)?;
        let embed = self.patch.dim(0)?;
        let patches = patches.reshape((batch, g * g, embed))?;
        let class = self.class.broadcast_as((batch, 1, embed))?;
        let hidden = Tensor::cat(&[&class, &patches], 1)?.broadcast_add(&self.positions)?;
        let tokens = g * g + 1;
        let fused = self.fuses(&device, tokens);
        let mut hidden = norm(
            &self.pre_norm,
            &hidden.reshape((batch * tokens, embed))?,
            fused,
        )?;
        mark(&mut probe, &device, "patch embedding + pre-norm")?;
        let last = self.layers.len().saturating_sub(1);
        for (i, layer) in self.layers.iter().enumerate() {
            let shape = Batch {
                batch,
                tokens,
                heads: self.heads,
                class_only: i == last,
            };
            hidden = if fused {
                layer.forward_fused(&hidden, shape, &mut probe)?
            } else {
                layer.forward(&hidden, shape, &mut probe)?
            };
        }
        // After the last layer `hidden` holds the class token only.
        let pooled = norm(&self.post_norm, &hidden, fused)?;
        let features = pooled.matmul(&self.projection.t()?)?;
        mark(&mut probe, &device, "post-norm + projection")?;
        Ok(features)
    }
}

/// What one encoder layer is given.
#[derive(Debug, Clone, Copy)]
struct Batch {
    batch: usize,
    tokens: usize,
    heads: usize,
    /// Return the class-token rows `(batch, embed)` only (last layer).
    class_only: bool,
}

/// Layer norm by the fused kernel or candle's.
fn norm(layer: &LayerNorm, x: &Tensor, fused: bool) -> candle_core::Result<Tensor> {
    #[cfg(feature = "cuda")]
    if fused {
        if let Some(bias) = layer.bias() {
            return super::vision_cuda::layer_norm(x, layer.weight(), bias, LAYER_NORM_EPS as f32);
        }
    }
    let _ = fused;
    layer.forward(x)
}

impl EncoderLayer {
    /// One pre-norm transformer block on `(batch·tokens, embed)`, by
    /// candle's operations; with `class_only`, returns the class-token rows
    /// `(batch, embed)` only.
    fn forward(
        &self,
        x: &Tensor,
        shape: Batch,
        probe: &mut Option<&mut StageTimes>,
    ) -> candle_core::Result<Tensor> {
        let Batch {
            batch,
            tokens,
            heads,
            class_only,
        } = shape;
        let device = x.device().clone();
        let embed = x.dim(1)?;
        let head_dim = embed / heads;
        let h = self.norm1.forward(x)?;
        mark(probe, &device, "layer norms")?;
        let qkv = linear(&h, &self.qkv_weight, &self.qkv_bias)?;
        mark(probe, &device, "qkv projection")?;
        // (b·t, 3·e) → (3, b·heads, t, d), one copy.
        let qkv = qkv
            .reshape((batch, tokens, 3, heads, head_dim))?
            .permute((2, 0, 3, 1, 4))?
            .contiguous()?
            .reshape((3, batch * heads, tokens, head_dim))?;
        let (q, k, v) = (qkv.i(0)?, qkv.i(1)?, qkv.i(2)?);
        let (q, rows) = if class_only {
            (q.narrow(1, 0, 1)?, 1)
        } else {
            (q, tokens)
        };
        mark(probe, &device, "attention reshapes")?;
        let scores = q.matmul(&k.t()?)?;
        let weights = candle_nn::ops::softmax_last_dim(&scores)?;
        let attended = weights.matmul(&v)?;
        mark(probe, &device, "attention")?;
        let attended = attended
            .reshape((batch, heads, rows, head_dim))?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((batch * rows, embed))?;
        mark(probe, &device, "attention reshapes")?;
        let residual = if class_only {
            x.reshape((batch, tokens, embed))?.i((.., 0, ..))?
        } else {
            x.clone()
        };
        let x = (linear(&attended, &self.out_weight, &self.out_bias)? + residual)?;
        mark(probe, &device, "out projection + residual")?;
        let h = self.norm2.forward(&x)?;
        mark(probe, &device, "layer norms")?;
        let h = linear(&h, &self.fc1_weight, &self.fc1_bias)?;
        mark(probe, &device, "fc1")?;
        let h = candle_nn::ops::silu(&h)?;
        mark(probe, &device, "activation")?;
        let out = (linear(&h, &self.fc2_weight, &self.fc2_bias)? + x)?;
        mark(probe, &device, "fc2 + residual")?;
        Ok(out)
    }
}

impl EncoderLayer {
    /// [`Self::forward`] by the fused CUDA kernels.
    #[cfg(feature = "cuda")]
    fn forward_fused(
        &self,
        x: &Tensor,
        shape: Batch,
        probe: &mut Option<&mut StageTimes>,
    ) -> candle_core::Result<Tensor> {
        use super::vision_cuda as k;
        let Batch {
            batch,
            tokens,
            heads,
            class_only,
        } = shape;
        let device = x.device().clone();
        let embed = x.dim(1)?;
        let h = norm(&self.norm1, x, true)?;
        mark(probe, &device, "layer norms")?;
        let qkv = h.matmul(&self.qkv_weight.t()?)?;
        mark(probe, &device, "qkv projection")?;
        let rows = if class_only { 1 } else { tokens };
        let attended = k::attention(&qkv, &self.qkv_bias, batch, heads, rows)?;
        mark(probe, &device, "attention")?;
        let residual = if class_only {
            x.reshape((batch, tokens, embed))?
                .i((.., 0, ..))?
                .contiguous()?
        } else {
            x.clone()
        };
        let projected = attended.matmul(&self.out_weight.t()?)?;
        let x = k::bias_residual(&projected, &self.out_bias, &residual)?;
        mark(probe, &device, "out projection + residual")?;
        let h = norm(&self.norm2, &x, true)?;
        mark(probe, &device, "layer norms")?;
        let h = k::bias_silu(&h.matmul(&self.fc1_weight.t()?)?, &self.fc1_bias)?;
        mark(probe, &device, "fc1 + activation")?;
        let out = k::bias_residual(&h.matmul(&self.fc2_weight.t()?)?, &self.fc2_bias, &x)?;
        mark(probe, &device, "fc2 + residual")?;
        Ok(out)
    }

    #[cfg(not(feature = "cuda"))]
    fn forward_fused(
        &self,
        x: &Tensor,
        shape: Batch,
        probe: &mut Option<&mut StageTimes>,
    ) -> candle_core::Result<Tensor> {
        self.forward(x, shape, probe)
    }
}

/// `x · weightᵀ + bias` for 2-D `x`.
fn linear(x: &Tensor, weight: &Tensor, bias: &Tensor) -> candle_core::Result<Tensor> {
    x.matmul(&weight.t()?)?.broadcast_add(bias)
}
