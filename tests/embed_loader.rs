//! Model loading: hub download from a local test server, cache reuse,
//! offline mode, failed downloads, local model directories.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use provenance::embed::hub::{hub_client, DownloadProgress, ModelFiles, ModelSource};
use provenance::embed::{
    ClipEmbedder, DeviceChoice, EmbedError, Embedder, ModelSettings, Precision,
};
use provenance::http::RetryPolicy;
use url::Url;

const REPO: &str = "test-org/clip-tiny";
const REVISION: &str = "0123456789abcdef0123456789abcdef01234567";

fn tiny_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clip/tiny")
}

#[derive(Clone, Default)]
struct Hub {
    hits: Arc<AtomicUsize>,
}

/// Serves the tiny model as a hub would; `broken/…` repos misbehave.
async fn serve_file(
    State(hub): State<Hub>,
    UrlPath((owner, name, revision, file)): UrlPath<(String, String, String, String)>,
) -> Response {
    hub.hits.fetch_add(1, Ordering::SeqCst);
    if owner == "broken" && name == "interrupted" {
        // Half the file, then the connection fails.
        let bytes = std::fs::read(tiny_dir().join(&file)).unwrap();
        let half = bytes[..bytes.len() / 2].to_vec();
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
            vec![Ok(half), Err(std::io::Error::other("connection reset"))];
        return Response::builder()
            .header("content-length", bytes.len().to_string())
            .body(Body::from_stream(futures::stream::iter(chunks)))
            .unwrap();
    }
    if format!("{owner}/{name}") != REPO || revision != REVISION {
        return (StatusCode::NOT_FOUND, "Entry not found").into_response();
    }
    match std::fs::read(tiny_dir().join(&file)) {
        Ok(bytes) => bytes.into_response(),
        Err(_) => (StatusCode::NOT_FOUND, "Entry not found").into_response(),
    }
}

async fn start_hub() -> (Url, Hub) {
    let hub = Hub::default();
    let app = Router::new()
        .route("/{owner}/{name}/resolve/{revision}/{file}", get(serve_file))
        .with_state(hub.clone());
    let addr = common::serve::serve(app).await;
    (Url::parse(&format!("http://{addr}/")).unwrap(), hub)
}

fn hub_settings(endpoint: &Url, repo: &str, cache: &Path, offline: bool) -> ModelSettings {
    ModelSettings {
        source: ModelSource::Hub {
            endpoint: endpoint.clone(),
            repo: repo.to_owned(),
            revision: REVISION.to_owned(),
        },
        offline,
        device: DeviceChoice::Cpu,
        precision: Precision::F32,
        batch_size: 8,
        cache_dir: cache.to_owned(),
        // Quick retries, so the broken-download cases stay fast.
        retry: RetryPolicy {
            retries: 1,
            base: Duration::from_millis(10),
            max: Duration::from_secs(1),
        },
    }
}

async fn resolve(settings: &ModelSettings) -> Result<ModelFiles, EmbedError> {
    ModelFiles::resolve(settings, &hub_client().unwrap(), &|_| {}).await
}

#[tokio::test]
async fn hub_download_is_cached_and_reused_offline() {
    let (endpoint, hub) = start_hub().await;
    let cache = tempfile::tempdir().unwrap();
    let settings = hub_settings(&endpoint, REPO, cache.path(), false);
    let seen = Mutex::new(Vec::<DownloadProgress>::new());
    let record = |p: DownloadProgress| seen.lock().unwrap().push(p);
    let files = ModelFiles::resolve(&settings, &hub_client().unwrap(), &record)
        .await
        .unwrap();
    assert_eq!(hub.hits.load(Ordering::SeqCst), 2);
    assert_eq!(files.id, format!("{REPO}@{REVISION}"));
    for name in ["config.json", "model.safetensors"] {
        let cached = std::fs::read(files.config.with_file_name(name)).unwrap();
        assert_eq!(
            cached,
            std::fs::read(tiny_dir().join(name)).unwrap(),
            "{name}"
        );
    }
    let weights_size = std::fs::metadata(&files.weights).unwrap().len();
    let last = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        (last.file.as_str(), last.done),
        ("model.safetensors", weights_size)
    );
    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(files.weights.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Second run, online: served from the cache.
    assert_eq!(resolve(&settings).await.unwrap(), files);
    // Offline: same files, no request.
    let offline = hub_settings(&endpoint, REPO, cache.path(), true);
    assert_eq!(resolve(&offline).await.unwrap(), files);
    assert_eq!(hub.hits.load(Ordering::SeqCst), 2);

    // The downloaded model embeds exactly like the local directory.
    let from_hub = ClipEmbedder::load(&offline, &|_| {}).await.unwrap();
    let local = ModelSettings {
        source: ModelSource::LocalDir(tiny_dir()),
        ..offline.clone()
    };
    let from_dir = ClipEmbedder::load(&local, &|_| {}).await.unwrap();
    assert_eq!(from_hub.model().id, format!("{REPO}@{REVISION}"));
    assert_eq!(from_hub.model().dim, 16);
    let text = ["a photo of a cat"];
    assert_eq!(
        from_hub.embed_texts(&text).unwrap(),
        from_dir.embed_texts(&text).unwrap()
    );
}

#[tokio::test]
async fn offline_with_empty_cache_says_what_is_missing() {
    let (endpoint, hub) = start_hub().await;
    let cache = tempfile::tempdir().unwrap();
    let settings = hub_settings(&endpoint, REPO, cache.path(), true);
    let err = resolve(&settings).await.unwrap_err();
    let EmbedError::Missing { missing, hint } = &err else {
        panic!("unexpected {err:?}");
    };
    let names: Vec<_> = missing
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["config.json", "model.safetensors"]);
    assert!(
        hint.contains(REVISION) && hint.contains("without offline"),
        "{hint}"
    );
    assert!(err.to_string().contains("offline"));
    assert_eq!(hub.hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn missing_revision_is_an_http_status_error_and_caches_nothing() {
    let (endpoint, _hub) = start_hub().await;
    let cache = tempfile::tempdir().unwrap();
    let settings = hub_settings(&endpoint, "test-org/no-such-model", cache.path(), false);
    let err = resolve(&settings).await.unwrap_err();
    assert!(
        matches!(err, EmbedError::Status { status: 404, .. }),
        "{err:?}"
    );
    let dir = cache.path().join("test-org--no-such-model").join(REVISION);
    assert!(!dir.join("config.json").exists());
}

#[tokio::test]
async fn interrupted_download_leaves_nothing_in_the_cache() {
    let (endpoint, _hub) = start_hub().await;
    let cache = tempfile::tempdir().unwrap();
    let settings = hub_settings(&endpoint, "broken/interrupted", cache.path(), false);
    let err = resolve(&settings).await.unwrap_err();
    assert!(
        matches!(err, EmbedError::Http { .. } | EmbedError::Truncated { .. }),
        "{err:?}"
    );
    let dir = cache.path().join("broken--interrupted").join(REVISION);
    let entries: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(entries.is_empty(), "{entries:?}");
}

#[tokio::test]
async fn local_dir_without_weights_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        tiny_dir().join("config.json"),
        dir.path().join("config.json"),
    )
    .unwrap();
    let settings = ModelSettings {
        batch_size: 1,
        ..ModelSettings::local(dir.path().to_owned())
    };
    let err = resolve(&settings).await.unwrap_err();
    match err {
        EmbedError::Missing { missing, .. } => {
            assert_eq!(missing, [dir.path().join("model.safetensors")]);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn local_dir_identity_names_the_directory_and_config() {
    let settings = ModelSettings {
        batch_size: 1,
        ..ModelSettings::local(tiny_dir())
    };
    let files = resolve(&settings).await.unwrap();
    assert!(files.id.starts_with("local/tiny@config-"), "{}", files.id);
    // A different config is a different identity.
    let other = tempfile::tempdir().unwrap();
    let other_dir = other.path().join("tiny");
    std::fs::create_dir(&other_dir).unwrap();
    let config = std::fs::read_to_string(tiny_dir().join("config.json")).unwrap();
    std::fs::write(
        other_dir.join("config.json"),
        config.replace("\"projection_dim\": 16", "\"projection_dim\": 16 "),
    )
    .unwrap();
    std::fs::copy(
        tiny_dir().join("model.safetensors"),
        other_dir.join("model.safetensors"),
    )
    .unwrap();
    let settings = ModelSettings {
        source: ModelSource::LocalDir(other_dir),
        ..settings
    };
    assert_ne!(resolve(&settings).await.unwrap().id, files.id);
}

#[tokio::test]
async fn a_weights_file_that_is_not_clip_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        tiny_dir().join("config.json"),
        dir.path().join("config.json"),
    )
    .unwrap();
    std::fs::write(dir.path().join("model.safetensors"), b"garbage").unwrap();
    let settings = ModelSettings {
        batch_size: 1,
        ..ModelSettings::local(dir.path().to_owned())
    };
    let err = ClipEmbedder::load(&settings, &|_| {}).await.unwrap_err();
    assert!(matches!(err, EmbedError::Model(_)), "{err:?}");
}
