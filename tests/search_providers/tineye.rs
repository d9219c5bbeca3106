//! TinEye: upload and URL requests, paging through matches, each backlink
//! a candidate with its crawl date, and its failures named.

use super::*;
use provenance::search::{ReverseImage, TinEye};

fn tineye(server: &MockServer) -> TinEye {
    logs();
    TinEye::resolve(
        Some(KEY),
        Some(server.url.as_str()),
        api_client().unwrap(),
        fast_retry(),
    )
    .unwrap()
}

fn upload() -> ReverseImage {
    ReverseImage::File {
        bytes: b"GIF89a-a-small-picture".to_vec(),
        name: "suspect.gif".into(),
    }
}

/// `count` matches from `offset`, two backlinks each.
fn matches(offset: usize, count: usize) -> String {
    let items: Vec<_> = (offset..offset + count)
        .map(|n| {
            json!({
                "image_url": format!("https://img.tineye.com/{n}"),
                "domain": "example.org", "score": 90.0, "width": 800, "height": 600,
                "backlinks": [
                    {"url": format!("https://example.org/{n}.jpg"), "backlink": format!("https://example.org/post/{n}"), "crawl_date": "2016-02-03"},
                    {"url": format!("https://example.org/{n}.jpg"), "backlink": format!("https://example.org/gallery/{n}"), "crawl_date": "2018-02-03"}
                ]
            })
        })
        .collect();
    json!({"code": 200, "messages": [], "results": {"matches": items}}).to_string()
}

#[tokio::test]
async fn a_file_is_uploaded_as_multipart_with_the_key_in_a_header() {
    let server = MockServer::start(|_, _| Reply::json(200, fixture("tineye_matches.json"))).await;
    let found = tineye(&server)
        .search(&upload(), 50)
        .await
        .unwrap()
        .candidates;
    assert_eq!(found.len(), 3, "every usable backlink: {found:#?}");
    assert!(found.iter().all(|c| c.provider == "tineye"));
    assert_eq!(found.iter().map(|c| c.rank).collect::<Vec<_>>(), [1, 2, 3]);
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/rest/search/")
    );
    assert_eq!(request.header("x-api-key"), Some(KEY));
    assert_eq!(request.param("api_key"), None, "never in the URL");
    assert_eq!(request.param("image_url"), None);
    assert_eq!(request.param("offset"), Some("0"));
    assert_eq!(request.param("limit"), Some("100"));
    assert_eq!(request.param("backlink_limit"), Some("100"));
    let content_type = request.header("content-type").unwrap();
    assert!(
        content_type.starts_with("multipart/form-data"),
        "{content_type}"
    );
    assert!(
        request.body.contains("name=\"image_upload\""),
        "{}",
        request.body
    );
    assert!(request.body.contains("filename=\"suspect.gif\""));
    assert!(request.body.contains("GIF89a-a-small-picture"));
}

#[tokio::test]
async fn a_url_is_sent_as_a_parameter_and_matches_are_paged() {
    let server = MockServer::start(|request, _| {
        let offset: usize = request.param("offset").unwrap().parse().unwrap();
        let count = if offset == 0 { 100 } else { 10 };
        Reply::json(200, matches(offset, count))
    })
    .await;
    let image = ReverseImage::Url(Url::parse("https://example.org/poster.jpg").unwrap());
    let found = tineye(&server)
        .search(&image, 1000)
        .await
        .unwrap()
        .candidates;
    assert_eq!(found.len(), 220, "110 matches, two postings each");
    assert_eq!(found[219].rank, 220);
    let date = found[0].facts.date.unwrap();
    assert_eq!(date.at.to_rfc3339(), "2016-02-03T00:00:00+00:00");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for (request, offset) in requests.iter().zip(["0", "100"]) {
        assert_eq!(request.method, "GET");
        assert_eq!(
            request.param("image_url"),
            Some("https://example.org/poster.jpg")
        );
        assert_eq!(request.param("offset"), Some(offset));
    }
}

#[tokio::test]
async fn a_bad_key_and_used_up_searches_are_named_without_the_key() {
    let server = MockServer::start(|_, _| {
        Reply::json(
            401,
            format!(r#"{{"code": 401, "messages": ["Invalid API key {KEY}"]}}"#),
        )
    })
    .await;
    let err = tineye(&server).search(&upload(), 10).await.unwrap_err();
    assert!(
        matches!(
            err,
            SearchError::Unauthorized {
                provider: "tineye",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("TINEYE_API_KEY"), "{err}");
    assert_no_key(&err);
    let server = MockServer::start(|_, _| {
        Reply::json(
            403,
            format!(r#"{{"code": 403, "messages": ["Your search bundle is exhausted ({KEY})."]}}"#),
        )
    })
    .await;
    let err = tineye(&server).search(&upload(), 10).await.unwrap_err();
    assert!(
        matches!(
            err,
            SearchError::QuotaExhausted {
                provider: "tineye",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("bundle is exhausted"), "{err}");
    assert_no_key(&err);
    let server = MockServer::start(|_, _| Reply::json(200, "<html>login</html>")).await;
    let err = tineye(&server).search(&upload(), 10).await.unwrap_err();
    assert!(matches!(err, SearchError::Malformed { .. }), "{err:?}");
}
