//! Which model is loaded and how it runs: [`ModelSettings`] with its
//! [`DeviceChoice`] and [`Precision`].

use std::path::PathBuf;
use std::time::Duration;

use super::hub::ModelSource;
use crate::http::RetryPolicy;

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
    /// Retries of a hub download after a dropped connection, a cut body,
    /// 429 or 5xx ([`ModelSettings::HUB_RETRY`] by default).
    pub retry: RetryPolicy,
}

impl ModelSettings {
    /// How hub downloads are retried by default: 3 retries, 1 s doubling
    /// up to 30 s.
    pub const HUB_RETRY: RetryPolicy = RetryPolicy {
        retries: 3,
        base: Duration::from_secs(1),
        max: Duration::from_secs(30),
    };

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
            retry: Self::HUB_RETRY,
        }
    }

    /// The model in a local directory, on the CPU in f32, 32 pictures a
    /// batch; nothing is downloaded.
    pub fn local(dir: PathBuf) -> Self {
        Self {
            source: ModelSource::LocalDir(dir.clone()),
            offline: true,
            device: DeviceChoice::Cpu,
            precision: Precision::F32,
            batch_size: 32,
            cache_dir: dir,
            retry: Self::HUB_RETRY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::DEFAULT_REPO;

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
