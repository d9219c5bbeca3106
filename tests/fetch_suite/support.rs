//! Loopback servers for the fetch tests and settings with short timeouts.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use provenance::fetch::{FetchSettings, Fetcher};
use provenance::http::RetryPolicy;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

/// Settings for loopback tests: private addresses allowed, short timeouts,
/// no retries, robots.txt off (tests about robots turn it on).
pub fn settings() -> FetchSettings {
    FetchSettings {
        connect_timeout: Duration::from_secs(1),
        read_timeout: Duration::from_millis(500),
        total_timeout: Duration::from_secs(5),
        retry: retries(0),
        max_image_bytes: 1024 * 1024,
        max_page_bytes: 64 * 1024,
        respect_robots_txt: false,
        ..FetchSettings::default()
    }
    .allowing_private_addresses()
}

/// A retry policy with `n` retries and short back-offs (10 ms doubling,
/// `Retry-After` honoured up to 2 s).
pub fn retries(n: u32) -> RetryPolicy {
    RetryPolicy {
        retries: n,
        base: Duration::from_millis(10),
        max: Duration::from_secs(2),
    }
}

/// A fetcher with `settings`.
pub fn fetcher(settings: FetchSettings) -> Fetcher {
    Fetcher::new(settings).expect("fetcher builds")
}

/// `http://{addr}{path}`.
pub fn url(addr: SocketAddr, path: &str) -> Url {
    Url::parse(&format!("http://{addr}{path}")).expect("test URL")
}

pub use crate::common::serve::{serve, serve_on};

/// A raw TCP server: `handle` gets every connection after its request head
/// was read. Returns the address and a count of accepted connections.
pub async fn raw_server<F, Fut>(handle: F) -> (SocketAddr, Arc<AtomicUsize>)
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&connections);
    let handle = Arc::new(handle);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let handle = Arc::clone(&handle);
            tokio::spawn(async move {
                read_request_head(&mut stream).await;
                handle(stream).await;
            });
        }
    });
    (addr, connections)
}

/// Reads until the blank line ending a request head (or EOF).
pub async fn read_request_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// Writes `data`, ignoring a client that went away.
pub async fn write(stream: &mut TcpStream, data: &[u8]) -> bool {
    stream.write_all(data).await.is_ok() && stream.flush().await.is_ok()
}

/// A counter of requests in flight that remembers its peak.
#[derive(Debug, Default)]
pub struct InFlight {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl InFlight {
    /// Marks a request as started.
    pub fn enter(&self) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
    }

    /// Marks a request as finished.
    pub fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }

    /// The most requests seen in flight at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

/// A small real JPEG for bodies (the hash fixtures).
pub fn jpeg_bytes() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/hash/coffee.jpg"
    ))
    .expect("fixture")
}
