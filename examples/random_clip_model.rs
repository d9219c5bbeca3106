//! Writes a full-size CLIP ViT-B/32 model directory with random (seeded by
//! candle's RNG, not reproducible bit for bit) weights, in the Hugging Face
//! `CLIPModel` layout (`config.json` + `model.safetensors`), so the real
//! binary can run with `--model-dir DIR`. Same shapes and FLOPs as
//! `openai/clip-vit-base-patch32`: good for throughput, useless for search.
//!
//! `cargo run --example random_clip_model -- DIR`

use std::path::PathBuf;

use candle_core::{DType, Device};
use candle_nn::{Init, VarBuilder, VarMap};
use candle_transformers::models::clip::{ClipConfig, ClipModel};

/// `config.json` of ViT-B/32 (what transformers writes for `CLIPModel`,
/// trimmed to the fields inference reads).
const CONFIG_JSON: &str = r#"{
  "architectures": ["CLIPModel"],
  "model_type": "clip",
  "projection_dim": 512,
  "logit_scale_init_value": 2.6592,
  "text_config": {
    "vocab_size": 49408, "hidden_size": 512, "intermediate_size": 2048,
    "num_hidden_layers": 12, "num_attention_heads": 8,
    "max_position_embeddings": 77, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-05
  },
  "vision_config": {
    "hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12,
    "num_attention_heads": 12, "num_channels": 3, "image_size": 224, "patch_size": 32,
    "hidden_act": "quick_gelu", "layer_norm_eps": 1e-05
  }
}
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir: PathBuf = std::env::args()
        .nth(1)
        .ok_or("usage: random_clip_model DIR")?
        .into();
    std::fs::create_dir_all(&dir)?;
    // Every tensor `ClipModel::new` asks for is created in the map with the
    // layer's own initialisation (Kaiming for linear layers, ones/zeros for
    // layer norms), then saved under the same names transformers uses.
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    // candle only reads the class embedding when the weights hold one (and
    // the embedder refuses weights without it): create it first.
    let init = Init::Randn {
        mean: 0.,
        stdev: 0.02,
    };
    vb.get_with_hints(768, "vision_model.embeddings.class_embedding", init)?;
    ClipModel::new(vb, &ClipConfig::vit_base_patch32())?;
    let weights = dir.join("model.safetensors");
    varmap.save(&weights)?;
    std::fs::write(dir.join("config.json"), CONFIG_JSON)?;
    let tensors = varmap.all_vars().len();
    let params: usize = varmap.all_vars().iter().map(|v| v.elem_count()).sum();
    println!(
        "wrote {} ({tensors} tensors, {:.1} M parameters) and config.json",
        weights.display(),
        params as f64 / 1e6
    );
    Ok(())
}
