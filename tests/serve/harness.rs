//! A running server over a fresh store holding five real photos, with a
//! loopback "web" (SearXNG answers and pictures) for its scans.

use std::sync::Arc;
use std::time::Duration;

use provenance::fetch::{FetchSettings, Fetcher};
use provenance::lookup::{LookupOptions, MatchIndex};
use provenance::model::ImageId;
use provenance::serve::{self, ApiToken, AppState, ServeSettings};
use provenance::store::Store;

use crate::common::photos::{fixture, store_fixture};
use crate::common::world::{searxng_results, Served, World};

/// The photos stored, in id order.
pub const PHOTOS: [&str; 5] = [
    "chelsea.jpg",
    "coffee.jpg",
    "rocket.jpg",
    "camera.jpg",
    "astronaut.jpg",
];

/// Largest upload the test server takes.
pub const UPLOAD_MAX: u64 = 2 * 1024 * 1024;

/// A token long enough to be accepted.
pub const TOKEN: &str = "test-token-0123456789abcdef";

pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub store: Arc<dyn Store>,
    pub world: World,
    /// Ids of [`PHOTOS`].
    pub photos: Vec<ImageId>,
    _dir: tempfile::TempDir,
}

impl Server {
    /// A server over a fresh SQLite store.
    pub async fn start(token: Option<&str>) -> Self {
        let (store, dir) = crate::common::sqlite_store().await;
        Self::over(store.into(), dir, token).await
    }

    /// A server over `store`.
    pub async fn over(store: Arc<dyn Store>, dir: tempfile::TempDir, token: Option<&str>) -> Self {
        Self::watching(store, dir, token, None).await
    }

    /// A server over `store` that runs the due watches as `watching` says.
    pub async fn watching(
        store: Arc<dyn Store>,
        dir: tempfile::TempDir,
        token: Option<&str>,
        watching: Option<provenance::serve::Watching>,
    ) -> Self {
        let mut photos = Vec::new();
        for name in PHOTOS {
            photos.push(store_fixture(&*store, &format!("hash/{name}"), None).await);
        }
        let index = MatchIndex::default();
        index.index_missing(&*store, &|_| {}).await.unwrap();
        let world = World::start().await;
        let searxng = world.url("/");
        let env = Arc::new(move |name: &str| (name == "SEARXNG_URL").then(|| searxng.clone()));
        let settings = ServeSettings {
            token: token.map(|t| ApiToken::new(t).unwrap()),
            loopback_only: true,
            upload_max_bytes: UPLOAD_MAX,
            max_concurrent_matches: 2,
            request_timeout: Duration::from_secs(60),
            lookup: LookupOptions::default(),
            cases_dir: dir.path().join("cases"),
            scans: provenance::scan::ScanOptions::default(),
            watching,
        };
        let fetcher = Fetcher::new(FetchSettings::default().allowing_private_addresses()).unwrap();
        let state = AppState::new(settings, store.clone(), None, index, fetcher, env).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(serve::serve(listener, state, std::future::pending()));
        Self {
            base,
            store,
            world,
            photos,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The CSRF token of this server.
    pub async fn csrf(&self) -> String {
        let session: serde_json::Value = reqwest::get(self.url("/api/v1/session"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        session["csrf_token"].as_str().unwrap().to_string()
    }

    /// Puts a searchable "web" on the world: SearXNG lists two new pictures
    /// on two pages.
    pub fn publish(&self) {
        for (path, name) in [
            ("/img/brick.jpg", "brick.jpg"),
            ("/img/coins.jpg", "coins.jpg"),
        ] {
            let bytes = std::fs::read(fixture(&format!("hash/{name}"))).unwrap();
            self.world.put(path, Served::ok("image/jpeg", bytes));
        }
        for page in ["/blog/post.html", "/news/story.html"] {
            self.world.put(
                page,
                Served::ok("text/html", "<html><title>Page</title></html>"),
            );
        }
        let results = searxng_results(
            &self.world,
            &[
                ("/img/brick.jpg", "/blog/post.html", "Brick wall"),
                ("/img/coins.jpg", "/news/story.html", "Coins"),
            ],
        );
        self.world
            .put("/search", Served::ok("application/json", results));
    }
}

/// A fixture's bytes.
pub fn bytes_of(path: &str) -> Vec<u8> {
    std::fs::read(fixture(path)).unwrap()
}

/// A multipart form with the picture as field `image`.
pub fn picture_form(name: &str, bytes: Vec<u8>) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new().part(
        "image",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
    )
}
