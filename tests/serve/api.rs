//! The HTTP API on loopback: every endpoint, and every kind of bad input
//! answered with the one error shape.

use std::io::Read;

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use crate::harness::{bytes_of, picture_form, Server, TOKEN, UPLOAD_MAX};
use crate::images;

/// `(status, body as JSON)`; the error shape is checked on every failure.
async fn answer(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        assert!(body["error"]["code"].is_string(), "{status}: {body}");
        assert!(body["error"]["message"].is_string(), "{status}: {body}");
    }
    (status, body)
}

/// A JSON body posted with the CSRF token.
async fn post_json(server: &Server, csrf: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let response = Client::new()
        .post(server.url(path))
        .header("X-CSRF-Token", csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    answer(response).await
}

/// The 50 % crop of coffee.jpg uploaded under `label`: its SHA-256.
async fn upload_crop(server: &Server, csrf: &str, label: &str) -> String {
    let (status, report) =
        post_match(server, csrf, label, bytes_of("copies/coffee__crop50.jpg")).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    report["query"]["sha256"].as_str().unwrap().to_string()
}

async fn post_match(
    server: &Server,
    csrf: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    let response = Client::new()
        .post(server.url("/api/v1/match"))
        .header("X-CSRF-Token", csrf)
        .multipart(picture_form(name, bytes))
        .send()
        .await
        .unwrap();
    answer(response).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crop_upload_answers_the_report_match_prints() {
    let server = Server::start(None).await;
    let csrf = server.csrf().await;
    let (status, report) = post_match(
        &server,
        &csrf,
        "crop.jpg",
        bytes_of("copies/coffee__crop50.jpg"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let parsed = provenance::report::parse_json(&report.to_string()).expect("the report JSON");
    let first = &parsed.matches[0];
    assert_eq!(first.image.id, server.photos[1], "coffee is found first");
    assert_eq!(first.kind, provenance::matching::MatchKind::NearDuplicate);
    assert_eq!(report["matches"][0]["review"], Value::Null);
    assert_eq!(parsed.query.label, "crop.jpg");

    let (status, health) = answer(reqwest::get(server.url("/healthz")).await.unwrap()).await;
    assert_eq!(
        (status, health["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_uploads_get_clear_errors() {
    let server = Server::start(None).await;
    let csrf = server.csrf().await;
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "notes.txt",
            b"not a picture at all".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_an_image",
        ),
        (
            "bomb.png",
            images::png_claiming(60_000, 60_000),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_an_image",
        ),
        (
            "bomb.jpg",
            images::jpeg_claiming(65_000, 65_000),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_an_image",
        ),
        (
            "huge.jpg",
            vec![0xFF; UPLOAD_MAX as usize + 1],
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
    ];
    for (name, bytes, want, code) in cases {
        let (status, body) = post_match(&server, &csrf, name, bytes).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (want, Some(code)),
            "{name}: {body}"
        );
    }
    // No `image` field at all.
    let response = Client::new()
        .post(server.url("/api/v1/match"))
        .header("X-CSRF-Token", &csrf)
        .multipart(reqwest::multipart::Form::new().text("other", "x"))
        .send()
        .await
        .unwrap();
    let (status, body) = answer(response).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );
    // Not multipart.
    let response = Client::new()
        .post(server.url("/api/v1/match"))
        .header("X-CSRF-Token", &csrf)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(answer(response).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_changes_need_the_csrf_token_and_hosts_must_be_loopback() {
    let server = Server::start(None).await;
    for token in [None, Some("wrong")] {
        let mut request = Client::new()
            .post(server.url("/api/v1/match"))
            .multipart(picture_form("a.jpg", bytes_of("hash/coffee.jpg")));
        if let Some(t) = token {
            request = request.header("X-CSRF-Token", t);
        }
        let (status, body) = answer(request.send().await.unwrap()).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("csrf"))
        );
    }
    let review = json!({"query_sha256": "00".repeat(32), "image_id": 1, "decision": "confirmed"});
    let response = Client::new()
        .post(server.url("/api/v1/reviews"))
        .json(&review)
        .send()
        .await
        .unwrap();
    assert_eq!(answer(response).await.0, StatusCode::FORBIDDEN);
    // DNS rebinding: another site's name pointing at 127.0.0.1.
    let response = Client::new()
        .get(server.url("/api/v1/session"))
        .header("Host", "evil.example")
        .send()
        .await
        .unwrap();
    let (status, body) = answer(response).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::MISDIRECTED_REQUEST, Some("bad_host"))
    );
    // Every answer carries the security headers.
    let page = reqwest::get(server.url("/")).await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(
        !page.text().await.unwrap().contains("<script>"),
        "no inline script"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_every_route_needs_it_or_a_login() {
    let server = Server::start(Some(TOKEN)).await;
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // The API: no token, a wrong one, then the right one (no CSRF token
    // needed with a bearer token: it is not a browser's ambient credential).
    let upload = || picture_form("a.jpg", bytes_of("copies/coffee__crop50.jpg"));
    for bearer in [None, Some("wrong-token-0123456789")] {
        let mut request = client.post(server.url("/api/v1/match")).multipart(upload());
        if let Some(b) = bearer {
            request = request.bearer_auth(b);
        }
        let (status, body) = answer(request.send().await.unwrap()).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthorized"))
        );
    }
    let response = client
        .post(server.url("/api/v1/match"))
        .bearer_auth(TOKEN)
        .multipart(upload())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // The UI: pages lead to the login; a wrong token is refused; the right
    // one gives a session cookie that opens the pages.
    let page = client.get(server.url("/library")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()["location"], "/login");
    let wrong = client
        .post(server.url("/login"))
        .form(&[("token", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let login = client
        .post(server.url("/login"))
        .form(&[("token", TOKEN)])
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_string();
    let page = client
        .get(server.url("/library"))
        .header("Cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(!html.contains(TOKEN), "the token never appears in a page");
    // A logged-in browser still needs the CSRF token to change anything.
    let response = client
        .post(server.url("/api/v1/reviews"))
        .header("Cookie", &session)
        .json(&json!({"query_sha256": "00".repeat(32), "image_id": 1, "decision": "confirmed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer(response).await.0, StatusCode::FORBIDDEN);
    // /healthz stays open for probes.
    assert_eq!(
        client
            .get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_are_kept_shown_on_later_matches_and_checked() {
    let server = Server::start(None).await;
    let csrf = server.csrf().await;
    let crop = bytes_of("copies/coffee__crop50.jpg");
    let (_, report) = post_match(&server, &csrf, "crop.jpg", crop.clone()).await;
    let sha = report["query"]["sha256"].as_str().unwrap().to_string();
    let coffee = server.photos[1];
    let post = |body: Value| post_json(&server, &csrf, "/api/v1/reviews", body);
    let (status, record) = post(json!({"query_sha256": sha, "image_id": coffee, "decision": "not_a_copy", "note": "first look"})).await;
    assert_eq!(status, StatusCode::OK, "{record}");
    let (status, record) = post(json!({"query_sha256": sha, "image_id": coffee, "decision": "confirmed", "note": "<b>same poster</b>"})).await;
    assert_eq!(
        (status, record["decision"].as_str()),
        (StatusCode::OK, Some("confirmed"))
    );
    assert_ne!(
        record["decided_at"], record["updated_at"],
        "the first decision's time is kept"
    );

    let (status, listed) = answer(
        reqwest::get(server.url(&format!("/api/v1/reviews?query_sha256={sha}")))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["reviews"].as_array().unwrap().len(), 1);
    assert_eq!(listed["reviews"][0]["note"], "<b>same poster</b>");

    // Matching the same file again carries the decision.
    let (_, again) = post_match(&server, &csrf, "renamed.jpg", crop).await;
    let first = &again["matches"][0];
    assert_eq!(first["image"]["id"], coffee);
    assert_eq!(first["review"]["decision"], "confirmed");
    assert_eq!(first["review"]["note"], "<b>same poster</b>");

    let bad: Vec<(Value, StatusCode)> = vec![
        (
            json!({"query_sha256": "xyz", "image_id": coffee, "decision": "confirmed"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"query_sha256": sha, "image_id": coffee, "decision": "maybe"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"query_sha256": sha, "image_id": 999_999, "decision": "ignored"}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"query_sha256": sha, "image_id": coffee, "decision": "ignored", "note": "x".repeat(2001)}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"image_id": coffee}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (body, want) in bad {
        assert_eq!(post(body.clone()).await.0, want, "{body}");
    }
    let (status, _) = answer(
        reqwest::get(server.url("/api/v1/reviews?query_sha256=12"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pictures_thumbnails_comparisons_and_no_way_out_of_the_routes() {
    let server = Server::start(None).await;
    let csrf = server.csrf().await;
    let sha = upload_crop(&server, &csrf, "crop.jpg").await;
    let coffee = server.photos[1];

    let (status, image) = answer(
        reqwest::get(server.url(&format!("/api/v1/images/{coffee}")))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(image["image"]["id"], coffee);
    assert_eq!(
        image["sightings"][0]["image_url"],
        "https://example.org/coffee.jpg"
    );
    let thumbnail = reqwest::get(server.url(&format!("/api/v1/images/{coffee}/thumbnail")))
        .await
        .unwrap();
    assert_eq!(thumbnail.headers()["content-type"], "image/jpeg");
    image::load_from_memory(&thumbnail.bytes().await.unwrap()).expect("a JPEG");

    // The 50 % crop lies in the middle of the stored photo.
    let (status, c) = answer(
        reqwest::get(server.url(&format!("/api/v1/cases/{sha}/compare/{coffee}")))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert!(c["inliers"].as_u64().unwrap() >= 12, "{c}");
    let corners = c["query_in_image"].as_array().unwrap();
    let (x0, y0) = (
        corners[0][0].as_f64().unwrap(),
        corners[0][1].as_f64().unwrap(),
    );
    let (x2, y2) = (
        corners[2][0].as_f64().unwrap(),
        corners[2][1].as_f64().unwrap(),
    );
    for (value, want) in [(x0, 0.25), (y0, 0.25), (x2, 0.75), (y2, 0.75)] {
        assert!((value - want).abs() < 0.05, "{c}");
    }

    for path in [
        "/api/v1/images/999999".to_string(),
        "/api/v1/images/abc/thumbnail".into(),
        "/api/v1/images/..%2F..%2Fetc%2Fpasswd".into(),
        "/cases/..%2F..%2FCargo.toml/query".into(),
        format!("/cases/{}/query", "0".repeat(64)),
        format!("/api/v1/cases/{sha}/compare/999999"),
        "/assets/..%2FCargo.toml".into(),
        "/assets/app.js.map".into(),
        "/api/v1/nothing".into(),
    ] {
        let response = reqwest::get(server.url(&path)).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_exports_as_csv_json_and_a_bundle_whose_sums_check() {
    let server = Server::start(None).await;
    let csrf = server.csrf().await;
    let sha = upload_crop(&server, &csrf, "=cmd|' /C calc'!A0.jpg").await;
    let review = json!({"query_sha256": sha, "image_id": server.photos[1], "decision": "confirmed", "note": "@SUM(1)"});
    let (status, _) = post_json(&server, &csrf, "/api/v1/reviews", review).await;
    assert_eq!(status, StatusCode::OK);

    let csv = reqwest::get(server.url(&format!("/api/v1/cases/{sha}/export.csv")))
        .await
        .unwrap();
    assert!(csv.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let text = csv.text().await.unwrap();
    let mut rows = csv_rows(&text);
    let header = rows.remove(0);
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let row = &rows[0];
    assert_eq!(row[column("decision")], "confirmed");
    assert_eq!(row[column("note")], "'@SUM(1)", "formulas are defused");
    assert_eq!(row[column("query_label")], "'=cmd|' /C calc'!A0.jpg");
    assert_eq!(
        row[column("page_url")],
        "https://example.org/coffee.jpg.html"
    );
    assert_eq!(row[column("decided_by")], "keypoints");

    let (status, case) = answer(
        reqwest::get(server.url(&format!("/api/v1/cases/{sha}/export.json")))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(case["case"]["query_sha256"], sha);
    assert_eq!(
        case["report"]["matches"][0]["review"]["decision"],
        "confirmed"
    );

    let zip = reqwest::get(server.url(&format!("/api/v1/cases/{sha}/bundle.zip")))
        .await
        .unwrap();
    let bytes = zip.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut sums = String::new();
    archive
        .by_name("SHA256SUMS")
        .unwrap()
        .read_to_string(&mut sums)
        .unwrap();
    let listed: Vec<&str> = sums.lines().collect();
    for name in [
        "report.html",
        "report.json",
        "report.md",
        "case.json",
        "query.jpg",
    ] {
        assert!(
            listed.iter().any(|l| l.ends_with(&format!("  {name}"))),
            "{name} in {sums}"
        );
    }
    assert!(listed.iter().any(|l| l.contains("thumbnails/")), "{sums}");
    for line in listed {
        let (sum, name) = line.split_once("  ").unwrap();
        let mut file = Vec::new();
        archive
            .by_name(name)
            .unwrap()
            .read_to_end(&mut file)
            .unwrap();
        assert_eq!(hex::encode(sha2::Sha256::digest(&file)), sum, "{name}");
    }
    let mut query = Vec::new();
    archive
        .by_name("query.jpg")
        .unwrap()
        .read_to_end(&mut query)
        .unwrap();
    assert_eq!(query, bytes_of("copies/coffee__crop50.jpg"));
}

use sha2::Digest;

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_start_report_progress_end_and_refuse_bad_requests() {
    let server = Server::start(None).await;
    server.publish();
    let csrf = server.csrf().await;
    let start = |body: Value| post_json(&server, &csrf, "/api/v1/scans", body);
    let refused: Vec<(Value, &str)> = vec![
        (json!({"keyphrase": "   "}), "bad_request"),
        (json!({}), "bad_request"),
        (
            json!({"keyphrase": "poster", "image_url": "https://example.org/a.jpg"}),
            "bad_request",
        ),
        (
            json!({"keyphrase": "poster", "provider": "altavista"}),
            "bad_request",
        ),
        (
            json!({"keyphrase": "poster", "provider": "brave"}),
            "provider_not_configured",
        ),
        (
            json!({"keyphrase": "poster", "max_results": 0}),
            "bad_request",
        ),
        (json!({"urls": "not a url\n# nor this"}), "bad_request"),
        (
            json!({"image_url": "https://example.org/a.jpg"}),
            "provider_not_configured",
        ),
    ];
    for (body, code) in refused {
        let (status, answer) = start(body.clone()).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{body}: {answer}"
        );
    }

    let (status, started) = start(json!({"keyphrase": "brick wall", "provider": "searxng"})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    let id = started["scan_id"].as_i64().unwrap();
    let events = reqwest::get(server.url(&format!("/api/v1/scans/{id}/events")))
        .await
        .unwrap();
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let stream = events.text().await.unwrap();
    assert!(stream.contains("event: end"), "{stream}");
    let (_, scan) = answer(
        reqwest::get(server.url(&format!("/api/v1/scans/{id}")))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(scan["status"], "completed", "{scan}");
    assert_eq!(scan["counts"]["new_images"], 2, "{scan}");
    assert_eq!(scan["running"], false);
    let (status, list) = answer(reqwest::get(server.url("/api/v1/scans")).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["scans"][0]["id"], id);

    let cancel = |id: i64| {
        let (client, url, csrf) = (
            Client::new(),
            server.url(&format!("/api/v1/scans/{id}")),
            csrf.clone(),
        );
        async move {
            answer(
                client
                    .delete(url)
                    .header("X-CSRF-Token", csrf)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    assert_eq!(cancel(id).await.1["error"]["code"], "not_running");
    assert_eq!(cancel(424_242).await.0, StatusCode::NOT_FOUND);

    // The pictures it found are matched at once.
    let (_, report) = post_match(&server, &csrf, "brick.jpg", bytes_of("hash/brick.jpg")).await;
    assert_eq!(report["matches"][0]["kind"], "exact_copy", "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_scan_can_be_cancelled() {
    let server = Server::start(None).await;
    let csrf = server.csrf().await;
    // A search API that never answers within the test.
    server.world.put(
        "/search",
        crate::common::world::Served::ok("application/json", "{}")
            .delayed(std::time::Duration::from_secs(30)),
    );
    let response = Client::new()
        .post(server.url("/api/v1/scans"))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"keyphrase": "slow", "provider": "searxng"}))
        .send()
        .await
        .unwrap();
    let (status, started) = answer(response).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let id = started["scan_id"].as_i64().unwrap();
    let response = Client::new()
        .delete(server.url(&format!("/api/v1/scans/{id}")))
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let stream = reqwest::get(server.url(&format!("/api/v1/scans/{id}/events")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        stream.contains("event: end") && stream.contains("\"status\":\"interrupted\""),
        "{stream}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_decisions_stick_and_the_library_searches() {
    let Some(store) = crate::common::postgres_store().await else {
        return;
    };
    let server = Server::over(store.into(), tempfile::tempdir().unwrap(), None).await;
    let csrf = server.csrf().await;
    let sha = upload_crop(&server, &csrf, "crop.jpg").await;
    let review = json!({"query_sha256": sha, "image_id": server.photos[1], "decision": "ignored"});
    let (status, _) = post_json(&server, &csrf, "/api/v1/reviews", review).await;
    assert_eq!(status, StatusCode::OK);
    let (_, again) = post_match(
        &server,
        &csrf,
        "crop.jpg",
        bytes_of("copies/coffee__crop50.jpg"),
    )
    .await;
    assert_eq!(again["matches"][0]["review"]["decision"], "ignored");
    let found = server
        .store
        .library(Some("COFFEE"), None, 10)
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![server.photos[1]]
    );
    let html = reqwest::get(server.url("/library?q=%25"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("No stored picture fits"),
        "a % is searched as itself"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_current_and_every_operation_is_routed() {
    let document = provenance::serve::openapi::document();
    let written =
        std::fs::read_to_string(crate::common::photos::fixture("../../docs/openapi.json")).unwrap();
    let written: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(
        written, document,
        "docs/openapi.json is stale: cargo run --example openapi > docs/openapi.json"
    );

    let server = Server::start(None).await;
    let csrf = server.csrf().await;
    for e in provenance::serve::openapi::ENDPOINTS {
        let path = e
            .path
            .replace("{id}", "1")
            .replace("{sha256}", &"0".repeat(64));
        let method = reqwest::Method::from_bytes(e.method.to_uppercase().as_bytes()).unwrap();
        let response = Client::new()
            .request(method, server.url(&path))
            .header("X-CSRF-Token", &csrf)
            .timeout(std::time::Duration::from_secs(5))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_ne!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{} {path}",
            e.method
        );
        assert_ne!(
            body["error"]["message"], "no such API route",
            "{} {path}",
            e.method
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_refuses_to_listen_beyond_loopback_without_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().display().to_string();
    for (env, needle) in [
        (
            vec![("PROVENANCE_DATA_DIR", data.clone())],
            "without a token",
        ),
        (
            vec![
                ("PROVENANCE_DATA_DIR", data.clone()),
                ("PROVENANCE_API_TOKEN", "short".to_string()),
            ],
            "too short",
        ),
    ] {
        let out = crate::common::binary::run(
            dir.path(),
            &["serve", "--embedder", "none", "--listen", "0.0.0.0:0"],
            &env,
        )
        .await;
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}",
            crate::common::binary::stderr(&out)
        );
        let stderr = crate::common::binary::stderr(&out);
        assert!(stderr.contains(needle), "{stderr}");
        assert!(
            !stderr.contains("short\""),
            "the token is never printed: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postings_are_searched_by_their_words_in_the_api_and_the_page() {
    let server = Server::start(None).await;
    let coffee = server.photos[1];
    server
        .store
        .upsert_sighting(&provenance::model::NewSighting {
            image_id: coffee,
            image_url: "https://cdn.example/coffee.jpg".into(),
            page_url: Some("https://news.example/leak".into()),
            page_title: Some("Café news".into()),
            site: Some("news.example".into()),
            seen_at: chrono::Utc::now(),
            words: Some(provenance::model::PostingWords {
                caption: Some("<script>alert(1)</script> The leaked coffee poster".into()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();

    let (status, found) = answer(
        reqwest::get(server.url("/api/v1/postings?q=leaked%20posters"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let postings = found["postings"].as_array().unwrap();
    assert_eq!(postings.len(), 1, "{found}");
    assert_eq!(postings[0]["image_id"], coffee);
    assert_eq!(postings[0]["page_url"], "https://news.example/leak");
    assert!(postings[0]["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["hit"] == true && p["text"] == "leaked"));
    for bad in [
        "/api/v1/postings?q=the",
        "/api/v1/postings?q=x&limit=0",
        "/api/v1/postings",
    ] {
        let (status, error) = answer(reqwest::get(server.url(bad)).await.unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {error}");
        assert_eq!(error["error"]["code"], "bad_request");
    }

    let page = reqwest::get(server.url("/postings?q=leaked"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<mark>leaked</mark>"), "{page}");
    assert!(
        page.contains("&lt;script&gt;") && !page.contains("<script>alert"),
        "{page}"
    );
    assert!(page.contains(&format!("/images/{coffee}/thumbnail")));
    let page = reqwest::get(server.url("/postings?q=the%20of"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("no words to search for"), "{page}");
    let page = reqwest::get(server.url("/postings?q=%3Cb%3Enothing"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("No posting&#x27;s words hold") || page.contains("No posting's words hold"),
        "{page}"
    );
    assert!(page.contains("value=\"&lt;b&gt;nothing\""), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_runs_due_watches_and_shows_their_changes() {
    use provenance::model::{NewWatch, WatchedInput, WatchedScan};
    let (store, dir) = crate::common::sqlite_store().await;
    let store: std::sync::Arc<dyn provenance::store::Store> = store.into();
    let world = crate::common::world::World::start().await;
    let served = |body: &'static str| crate::common::world::Served::ok("text/html", body);
    world.put(
        "/img/coffee.jpg",
        crate::common::world::Served::ok("image/jpeg", bytes_of("hash/coffee.jpg")),
    );
    world.put(
        "/p1",
        served(r#"<title>Coffee &lt;news&gt;</title><img src="/img/coffee.jpg" width="400" height="300">"#),
    );
    let list = format!("{} {}\n", world.url("/img/coffee.jpg"), world.url("/p1"));
    let id = store
        .add_watch(&NewWatch {
            scan: WatchedScan {
                input: WatchedInput::Urls {
                    name: "list".into(),
                    text: list,
                },
                providers: Vec::new(),
                max_results: 10,
                follow_pages: false,
                max_pages: 0,
                exact_matches: false,
            },
            image: None,
            every_secs: 3600,
            created_at: chrono::Utc::now(),
        })
        .await
        .unwrap();
    let watching = provenance::serve::Watching {
        gone_after: 3,
        webhook: None,
        every: std::time::Duration::from_secs(3600),
    };
    let server = Server::watching(store, dir, None, Some(watching)).await;

    let mut found = Value::Null;
    for _ in 0..100 {
        let (status, changes) =
            answer(reqwest::get(server.url("/api/v1/changes")).await.unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        if changes["new"].as_array().is_some_and(|n| !n.is_empty()) {
            found = changes;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        found["new"][0]["watch_id"], id,
        "the due watch ran: {found}"
    );
    assert_eq!(found["new"][0]["page_url"], world.url("/p1"));
    let (_, watches) = answer(reqwest::get(server.url("/api/v1/watches")).await.unwrap()).await;
    assert_eq!(watches["watches"][0]["postings"], 1);
    let page = reqwest::get(server.url("/watches"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("new posting") && page.contains("/p1"),
        "{page}"
    );
    let (status, _) = answer(
        reqwest::get(server.url("/api/v1/changes?since=yesterday"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// A scan queued for workers (PostgreSQL): the API and the scans page show
/// its state and its batches, read from the store, as on any machine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_scan_shows_its_batches() {
    use provenance::config::StoreLocation;
    let Some(url) = crate::common::fresh_postgres_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let StoreLocation::Postgres(postgres) = StoreLocation::resolve(Some(&url), dir.path()).unwrap()
    else {
        unreachable!("a PostgreSQL URL")
    };
    let queue = provenance::queue::ScanQueue::open(&postgres).await.unwrap();
    let (candidates, _) = provenance::scan::sources::parse_url_list(
        "https://a.example/1.jpg\nhttps://b.example/2.jpg\n",
    );
    let found = provenance::scan::Found {
        candidates,
        ..Default::default()
    };
    let record = provenance::model::NewScan {
        keyphrase: "two <pictures>".into(),
        provider: "list".into(),
        options: json!({}),
        started_at: chrono::Utc::now(),
    };
    let queued = queue.enqueue(&record, &found, 1, 3).await.unwrap();
    let server = Server::over(std::sync::Arc::new(queue.into_store()), dir, None).await;
    let id = queued.scan_id;
    let (status, scan) = answer(
        reqwest::get(server.url(&format!("/api/v1/scans/{id}")))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(scan["status"], "queued", "{scan}");
    assert_eq!(scan["batches"]["total"], 2, "{scan}");
    assert_eq!(scan["batches"]["queued"], 2, "{scan}");
    let page = reqwest::get(server.url("/scans"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("queued · batches 0/2 done, 0 running, 0 failed"),
        "{page}"
    );
    assert!(page.contains("two &lt;pictures&gt;"), "escaped");
}
