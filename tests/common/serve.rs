//! Loopback HTTP servers for tests: an axum router on a free port of
//! 127.0.0.1 (or another address), running until the test ends.

use std::net::SocketAddr;

/// Serves `router` on a free loopback port; returns where.
pub async fn serve(router: axum::Router) -> SocketAddr {
    serve_on("127.0.0.1:0", router).await
}

/// Serves `router` on `bind` (e.g. `[::1]:0`); returns where.
pub async fn serve_on(bind: &str, router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .unwrap_or_else(|e| panic!("bind {bind}: {e}"));
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}
