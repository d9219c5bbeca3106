//! The key never appears in errors or logs, whatever goes wrong.

use super::*;

#[tokio::test]
async fn the_key_never_appears_in_logs_or_errors() {
    let logs = logs();

    let server = MockServer::start(|_, n| match n {
        0 => Reply::json(429, "{}").with_header("retry-after", "0"),
        1 => Reply::json(500, format!("internal error while handling api_key={KEY}")),
        _ => Reply::json(418, format!("{{\"error\": \"teapot for key {KEY}\"}}")),
    })
    .await;
    let err = search_with(ProviderKind::SerpApi, &server)
        .search(&query("fox", 10))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SearchError::Http { status: 418, .. }),
        "{err:?}"
    );
    assert_no_key(&err);
    assert!(err.to_string().contains("api_key=***"), "{err}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    let settings =
        ProviderSettings::resolve(ProviderKind::SerpApi, Some(KEY), Some(&dead_url)).unwrap();
    let err = provider(settings, api_client().unwrap(), fast_retry())
        .search(&query("fox", 10))
        .await
        .unwrap_err();
    assert!(matches!(err, SearchError::Transport { .. }), "{err:?}");
    assert_no_key(&err);

    // The whole binary's log so far, this test's requests included: the key
    // may appear in none of it.
    let logged = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        logged.contains("api_key=***"),
        "requests are logged, redacted:\n{logged}"
    );
    assert!(!logged.contains(KEY), "key leaked into logs:\n{logged}");
}
