//! Where the model files come from: the Hugging Face hub at a pinned
//! revision (downloaded once into a cache) or a local directory.
//!
//! Hub files are fetched from `{endpoint}/{repo}/resolve/{revision}/{file}`
//! and cached as `{cache_dir}/{owner}--{name}/{revision}/{file}`. A file
//! appears there only complete: it is streamed to a temporary file in the
//! same directory, its size checked against `Content-Length`, then renamed.
//! A dropped connection, a cut body, 429 or 5xx are retried under the
//! crate's one retry policy ([`crate::http::RetryPolicy`], from
//! [`ModelSettings::retry`]). In offline mode nothing touches the network,
//! and a missing file is an error that names the files and how to get them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use url::Url;

use super::{EmbedError, ModelSettings};
use crate::http::{self, ClientOptions, RetryDecision, RetryPolicy};

/// The default hub.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";
/// The default model: OpenAI CLIP ViT-B/32 (512-d, MIT licence).
pub const DEFAULT_REPO: &str = "openai/clip-vit-base-patch32";
/// The pinned commit of [`DEFAULT_REPO`]. Taken from several independent
/// public projects that pin this model; the hub cannot be reached from the
/// machines this was written on, so it is not verified against the hub here.
pub const DEFAULT_REVISION: &str = "d15b5f29721ca72dac15f8526b284be910de18be";
/// Files a `CLIPModel` needs (the tokenizer is built in).
pub const MODEL_FILES: [&str; 2] = ["config.json", "model.safetensors"];

/// Where the weights come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// A Hugging Face hub (or a mirror with the same URL layout).
    Hub {
        /// Base URL, e.g. `https://huggingface.co`.
        endpoint: Url,
        /// Repository, e.g. `openai/clip-vit-base-patch32`.
        repo: String,
        /// Commit to download (pin it: a branch name can move).
        revision: String,
    },
    /// A directory holding `config.json` and `model.safetensors`.
    LocalDir(PathBuf),
}

impl Default for ModelSource {
    fn default() -> Self {
        Self::Hub {
            // The constant is a valid URL.
            endpoint: Url::parse(DEFAULT_ENDPOINT).unwrap_or_else(|_| unreachable!()),
            repo: DEFAULT_REPO.to_owned(),
            revision: DEFAULT_REVISION.to_owned(),
        }
    }
}

/// Download progress of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadProgress {
    /// File name, e.g. `model.safetensors`.
    pub file: String,
    /// Bytes written so far.
    pub done: u64,
    /// Announced size, when known.
    pub total: Option<u64>,
}

/// The files of a resolved model, ready to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFiles {
    /// `config.json`.
    pub config: PathBuf,
    /// `model.safetensors`.
    pub weights: PathBuf,
    /// Identity recorded with every vector (repo@revision or local identity).
    pub id: String,
}

impl ModelFiles {
    /// Finds (and, for the hub, downloads unless offline) the model files.
    pub async fn resolve(
        settings: &ModelSettings,
        client: &reqwest::Client,
        progress: &(dyn Fn(DownloadProgress) + Send + Sync),
    ) -> Result<Self, EmbedError> {
        match &settings.source {
            ModelSource::LocalDir(dir) => local_files(dir),
            ModelSource::Hub {
                endpoint,
                repo,
                revision,
            } => {
                let dir = cache_path(&settings.cache_dir, repo, revision)?;
                let missing: Vec<PathBuf> = MODEL_FILES
                    .iter()
                    .map(|f| dir.join(f))
                    .filter(|p| !p.is_file())
                    .collect();
                if !missing.is_empty() && settings.offline {
                    return Err(EmbedError::Missing {
                        missing,
                        hint: format!(
                            "run once without offline mode to download {repo}@{revision}, \
                             or copy config.json and model.safetensors of that revision into {}, \
                             or point the model directory setting at a local copy",
                            dir.display()
                        ),
                    });
                }
                for path in &missing {
                    let file = file_name(path);
                    let url = file_url(endpoint, repo, revision, &file)?;
                    let target = Target {
                        url: &url,
                        dest: path,
                        file: &file,
                    };
                    download(client, &target, &settings.retry, progress).await?;
                }
                Ok(Self {
                    config: dir.join(MODEL_FILES[0]),
                    weights: dir.join(MODEL_FILES[1]),
                    id: format!("{repo}@{revision}"),
                })
            }
        }
    }
}

/// The cache directory of one repo revision. Refuses names that could
/// escape the cache (`..`, absolute paths, odd characters).
pub fn cache_path(cache_dir: &Path, repo: &str, revision: &str) -> Result<PathBuf, EmbedError> {
    let safe = |s: &str| {
        !s.is_empty()
            && !s.contains("..")
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    let parts: Vec<&str> = repo.split('/').collect();
    if parts.len() != 2 || !parts.iter().all(|p| safe(p)) || !safe(revision) {
        return Err(EmbedError::InvalidInput(format!(
            "model repo {repo:?} / revision {revision:?}: expected owner/name and a commit id"
        )));
    }
    Ok(cache_dir
        .join(format!("{}--{}", parts[0], parts[1]))
        .join(revision))
}

/// `{endpoint}/{repo}/resolve/{revision}/{file}`.
pub fn file_url(endpoint: &Url, repo: &str, revision: &str, file: &str) -> Result<Url, EmbedError> {
    let base = endpoint.as_str().trim_end_matches('/');
    Url::parse(&format!("{base}/{repo}/resolve/{revision}/{file}"))
        .map_err(|e| EmbedError::InvalidInput(format!("model URL: {e}")))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A local model directory and its identity: the directory name, a hash
/// of `config.json` and the size of the weights (cheap; a weights file
/// changed in place at the same size is not noticed).
fn local_files(dir: &Path) -> Result<ModelFiles, EmbedError> {
    let config = dir.join(MODEL_FILES[0]);
    let weights = dir.join(MODEL_FILES[1]);
    let missing: Vec<PathBuf> = [&config, &weights]
        .into_iter()
        .filter(|p| !p.is_file())
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(EmbedError::Missing {
            missing,
            hint: "a model directory needs the config.json and model.safetensors of a \
                   Hugging Face CLIPModel"
                .to_owned(),
        });
    }
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| EmbedError::Io { path, source }
    };
    let config_bytes = std::fs::read(&config).map_err(io(&config))?;
    let size = std::fs::metadata(&weights).map_err(io(&weights))?.len();
    let digest = hex::encode(Sha256::digest(&config_bytes));
    let name = dir.file_name().map_or_else(
        || dir.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    Ok(ModelFiles {
        id: format!("local/{name}@config-{}-{size}", &digest[..12]),
        config,
        weights,
    })
}

/// The HTTP client for the hub: our `User-Agent`, 30 s to connect, at most
/// 120 s of silence while a file streams (a whole download may take long).
pub fn hub_client() -> Result<reqwest::Client, EmbedError> {
    http::client(ClientOptions {
        connect_timeout: Duration::from_secs(30),
        read_timeout: Some(Duration::from_secs(120)),
        ..ClientOptions::new(http::user_agent(None))
    })
    .map_err(|source| EmbedError::Http {
        url: String::new(),
        source,
    })
}

/// One file to download.
struct Target<'a> {
    url: &'a Url,
    dest: &'a Path,
    file: &'a str,
}

/// Downloads `target`, retrying what may succeed another time.
async fn download(
    client: &reqwest::Client,
    target: &Target<'_>,
    retry: &RetryPolicy,
    progress: &(dyn Fn(DownloadProgress) + Send + Sync),
) -> Result<(), EmbedError> {
    let mut attempt = 0;
    loop {
        let failed = match download_once(client, target, progress).await {
            Ok(()) => return Ok(()),
            Err(failed) => failed,
        };
        if !failed.retryable {
            return Err(failed.error);
        }
        match retry.decide(attempt, failed.retry_after) {
            RetryDecision::After(wait) => {
                tracing::info!(url = %target.url, error = %failed.error, ?wait, "retrying the download");
                tokio::time::sleep(wait).await;
            }
            RetryDecision::GiveUp | RetryDecision::TooLongRequested(_) => return Err(failed.error),
        }
        attempt += 1;
    }
}

/// A failed attempt: the error, whether another may succeed, and how long
/// the hub asked us to wait.
struct Failed {
    error: EmbedError,
    retryable: bool,
    retry_after: Option<Duration>,
}

impl From<EmbedError> for Failed {
    fn from(error: EmbedError) -> Self {
        let retryable = matches!(
            error,
            EmbedError::Http { .. } | EmbedError::Truncated { .. }
        );
        Self {
            error,
            retryable,
            retry_after: None,
        }
    }
}

/// Streams the file into its destination through a temporary file,
/// checking the size.
async fn download_once(
    client: &reqwest::Client,
    target: &Target<'_>,
    progress: &(dyn Fn(DownloadProgress) + Send + Sync),
) -> Result<(), Failed> {
    let Target { url, dest, file } = *target;
    let http = |source| EmbedError::Http {
        url: url.to_string(),
        source,
    };
    tracing::info!(%url, "downloading model file");
    let response = client.get(url.clone()).send().await.map_err(http)?;
    let status = response.status();
    if !status.is_success() {
        return Err(Failed {
            retryable: status.as_u16() == 429 || status.is_server_error(),
            retry_after: http::retry_after(response.headers()),
            error: EmbedError::Status {
                url: url.to_string(),
                status: status.as_u16(),
            },
        });
    }
    let total = response.content_length();
    let dir = dest.parent().unwrap_or(Path::new("."));
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| EmbedError::Io { path, source }
    };
    tokio::fs::create_dir_all(dir).await.map_err(io(dir))?;
    let temp = dir.join(format!(".{file}.{}.part", std::process::id()));
    let result = write_body(response, &temp, file, total, progress, url).await;
    if let Err(e) = result {
        let _ = tokio::fs::remove_file(&temp).await;
        return Err(e.into());
    }
    tokio::fs::rename(&temp, dest).await.map_err(io(dest))?;
    tracing::info!(path = %dest.display(), "model file cached");
    Ok(())
}

/// Writes the body to `temp`, reports progress, checks the final size.
async fn write_body(
    response: reqwest::Response,
    temp: &Path,
    file: &str,
    total: Option<u64>,
    progress: &(dyn Fn(DownloadProgress) + Send + Sync),
    url: &Url,
) -> Result<(), EmbedError> {
    let io = |source| EmbedError::Io {
        path: temp.to_owned(),
        source,
    };
    let mut out = tokio::fs::File::create(temp).await.map_err(io)?;
    let mut stream = response.bytes_stream();
    let mut done = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|source| EmbedError::Http {
            url: url.to_string(),
            source,
        })?;
        out.write_all(&chunk).await.map_err(io)?;
        done += chunk.len() as u64;
        progress(DownloadProgress {
            file: file.to_owned(),
            done,
            total,
        });
    }
    out.sync_all().await.map_err(io)?;
    match total {
        Some(expected) if expected != done => Err(EmbedError::Truncated {
            url: url.to_string(),
            got: done,
            expected,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_path_refuses_escapes() {
        let root = Path::new("/cache");
        assert_eq!(
            cache_path(root, "openai/clip-vit-base-patch32", "abc123").unwrap(),
            Path::new("/cache/openai--clip-vit-base-patch32/abc123")
        );
        assert!(cache_path(root, "../etc", "x").is_err());
        assert!(cache_path(root, "a/b", "../../x").is_err());
        assert!(cache_path(root, "a/b/c", "x").is_err());
    }

    #[test]
    fn file_url_follows_the_hub_layout() {
        let endpoint = Url::parse("http://127.0.0.1:9/mirror/").unwrap();
        let url = file_url(&endpoint, "o/n", "rev", "config.json").unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/mirror/o/n/resolve/rev/config.json"
        );
    }
}
