//! A Hugging Face `CLIPModel` `config.json` → candle's `ClipConfig`.
//!
//! Missing fields take the defaults of transformers' `CLIPTextConfig` /
//! `CLIPVisionConfig` (which are ViT-B/32's), so the real
//! `openai/clip-vit-base-patch32` config, a ViT-L/14 one and the tiny test
//! model all load from their own file. Architectures candle's CLIP cannot
//! reproduce exactly (another activation, another layer-norm epsilon) are
//! refused rather than silently computed differently.

use candle_transformers::models::clip::{
    text_model::{Activation, ClipTextConfig},
    vision_model::ClipVisionConfig,
    ClipConfig,
};
use serde::Deserialize;

use super::EmbedError;

/// The `config.json` of a `CLIPModel`, as far as inference needs it.
#[derive(Debug, Clone, Deserialize)]
pub struct HfClipConfig {
    /// Output dimension of both projections.
    #[serde(default = "default_projection_dim")]
    pub projection_dim: usize,
    /// Initial logit scale (unused for embeddings).
    #[serde(default = "default_logit_scale")]
    pub logit_scale_init_value: f32,
    /// Text tower.
    #[serde(default)]
    pub text_config: Option<HfTextConfig>,
    /// Vision tower.
    #[serde(default)]
    pub vision_config: Option<HfVisionConfig>,
}

/// `text_config` of a `CLIPModel`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct HfTextConfig {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Width of the transformer.
    pub hidden_size: usize,
    /// Width of the MLP.
    pub intermediate_size: usize,
    /// Layers.
    pub num_hidden_layers: usize,
    /// Attention heads.
    pub num_attention_heads: usize,
    /// Context length (77).
    pub max_position_embeddings: usize,
    /// Activation name.
    pub hidden_act: String,
    /// Layer-norm epsilon.
    pub layer_norm_eps: f64,
}

impl Default for HfTextConfig {
    fn default() -> Self {
        Self {
            vocab_size: 49408,
            hidden_size: 512,
            intermediate_size: 2048,
            num_hidden_layers: 12,
            num_attention_heads: 8,
            max_position_embeddings: 77,
            hidden_act: "quick_gelu".to_owned(),
            layer_norm_eps: 1e-5,
        }
    }
}

/// `vision_config` of a `CLIPModel`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct HfVisionConfig {
    /// Width of the transformer.
    pub hidden_size: usize,
    /// Width of the MLP.
    pub intermediate_size: usize,
    /// Layers.
    pub num_hidden_layers: usize,
    /// Attention heads.
    pub num_attention_heads: usize,
    /// Input channels.
    pub num_channels: usize,
    /// Input side in pixels (224 or 336).
    pub image_size: usize,
    /// Patch side in pixels.
    pub patch_size: usize,
    /// Activation name.
    pub hidden_act: String,
    /// Layer-norm epsilon.
    pub layer_norm_eps: f64,
}

impl Default for HfVisionConfig {
    fn default() -> Self {
        Self {
            hidden_size: 768,
            intermediate_size: 3072,
            num_hidden_layers: 12,
            num_attention_heads: 12,
            num_channels: 3,
            image_size: 224,
            patch_size: 32,
            hidden_act: "quick_gelu".to_owned(),
            layer_norm_eps: 1e-5,
        }
    }
}

fn default_projection_dim() -> usize {
    512
}

fn default_logit_scale() -> f32 {
    2.6592
}

impl HfClipConfig {
    /// Parses `config.json` text.
    pub fn from_json(text: &str) -> Result<Self, EmbedError> {
        serde_json::from_str(text).map_err(EmbedError::Config)
    }

    /// The equivalent candle configuration, or why there is none.
    pub fn to_candle(&self) -> Result<ClipConfig, EmbedError> {
        let text = self.text_config.clone().unwrap_or_default();
        let vision = self.vision_config.clone().unwrap_or_default();
        check_supported("text", &text.hidden_act, text.layer_norm_eps)?;
        check_supported("vision", &vision.hidden_act, vision.layer_norm_eps)?;
        if !text.hidden_size.is_multiple_of(text.num_attention_heads)
            || !vision
                .hidden_size
                .is_multiple_of(vision.num_attention_heads)
            || vision.patch_size == 0
        {
            return Err(EmbedError::UnsupportedConfig(
                "hidden_size must be a multiple of num_attention_heads and patch_size > 0".into(),
            ));
        }
        Ok(ClipConfig {
            text_config: ClipTextConfig {
                vocab_size: text.vocab_size,
                embed_dim: text.hidden_size,
                activation: Activation::QuickGelu,
                intermediate_size: text.intermediate_size,
                max_position_embeddings: text.max_position_embeddings,
                pad_with: None,
                num_hidden_layers: text.num_hidden_layers,
                num_attention_heads: text.num_attention_heads,
                projection_dim: self.projection_dim,
            },
            vision_config: ClipVisionConfig {
                embed_dim: vision.hidden_size,
                activation: Activation::QuickGelu,
                intermediate_size: vision.intermediate_size,
                num_hidden_layers: vision.num_hidden_layers,
                num_attention_heads: vision.num_attention_heads,
                projection_dim: self.projection_dim,
                num_channels: vision.num_channels,
                image_size: vision.image_size,
                patch_size: vision.patch_size,
            },
            logit_scale_init_value: self.logit_scale_init_value,
            image_size: vision.image_size,
        })
    }
}

/// candle's CLIP implements `quick_gelu` and layer-norm ε = 1e-5 only.
fn check_supported(tower: &str, act: &str, eps: f64) -> Result<(), EmbedError> {
    if act != "quick_gelu" {
        return Err(EmbedError::UnsupportedConfig(format!(
            "{tower} hidden_act {act:?} (only \"quick_gelu\" is implemented)"
        )));
    }
    if (eps - 1e-5).abs() > 1e-12 {
        return Err(EmbedError::UnsupportedConfig(format!(
            "{tower} layer_norm_eps {eps} (only 1e-5 is implemented)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_vit_base_patch32() {
        let config = HfClipConfig::from_json("{}").unwrap().to_candle().unwrap();
        assert_eq!(config.vision_config.embed_dim, 768);
        assert_eq!(config.vision_config.patch_size, 32);
        assert_eq!(config.text_config.embed_dim, 512);
        assert_eq!(config.text_config.projection_dim, 512);
    }

    #[test]
    fn vit_large_patch14_loads_with_768_projection() {
        let json = r#"{"projection_dim": 768,
            "text_config": {"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12},
            "vision_config": {"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24,
                              "num_attention_heads": 16, "patch_size": 14, "image_size": 224}}"#;
        let config = HfClipConfig::from_json(json).unwrap().to_candle().unwrap();
        assert_eq!(config.vision_config.projection_dim, 768);
        assert_eq!(config.vision_config.patch_size, 14);
        assert_eq!(config.text_config.embed_dim, 768);
    }

    #[test]
    fn hub_style_config_with_null_dicts_and_extra_keys_loads() {
        // The shape of openai/clip-vit-base-patch32's config.json.
        let json = r#"{"_name_or_path": "openai/clip-vit-base-patch32",
            "architectures": ["CLIPModel"], "initializer_factor": 1.0,
            "logit_scale_init_value": 2.6592, "model_type": "clip", "projection_dim": 512,
            "text_config": {"bos_token_id": 0, "eos_token_id": 2, "hidden_act": "quick_gelu",
                "hidden_size": 512, "intermediate_size": 2048, "layer_norm_eps": 1e-05,
                "max_position_embeddings": 77, "model_type": "clip_text_model",
                "num_attention_heads": 8, "num_hidden_layers": 12, "vocab_size": 49408},
            "text_config_dict": null, "torch_dtype": "float32", "transformers_version": null,
            "vision_config": {"hidden_act": "quick_gelu", "hidden_size": 768, "image_size": 224,
                "intermediate_size": 3072, "layer_norm_eps": 1e-05, "model_type": "clip_vision_model",
                "num_attention_heads": 12, "num_hidden_layers": 12, "patch_size": 32},
            "vision_config_dict": null}"#;
        let config = HfClipConfig::from_json(json).unwrap().to_candle().unwrap();
        assert_eq!(config.vision_config.projection_dim, 512);
        assert_eq!(config.text_config.max_position_embeddings, 77);
        assert_eq!(config.image_size, 224);
    }

    #[test]
    fn other_activations_are_refused() {
        let json = r#"{"vision_config": {"hidden_act": "gelu"}}"#;
        let err = HfClipConfig::from_json(json)
            .unwrap()
            .to_candle()
            .unwrap_err();
        assert!(err.to_string().contains("gelu"), "{err}");
    }
}
