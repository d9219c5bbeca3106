//! The UI in a real headless Chromium, driven over WebDriver (Debian's
//! `chromium` and `chromium-driver`): upload a picture, see the matches,
//! compare, decide with a key, reload and find the decision kept, export
//! CSV, run a scan and watch its progress. Screenshots of each page go to
//! `PROVENANCE_SCREENSHOTS` when set (docs/screenshots holds the last).
//!
//! Without chromedriver the tests say so and pass — unless
//! `PROVENANCE_REQUIRE_BROWSER=1` (set by scripts/test.sh, so in CI),
//! where they fail.

use std::path::Path;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::common::photos::fixture;
use crate::harness::Server;

/// Debian's paths; `CHROMEDRIVER` and `CHROMIUM` override them.
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

struct Browser {
    client: Client,
    _driver: tokio::process::Child,
}

async fn browser() -> Option<Browser> {
    let driver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| CHROMEDRIVER.into());
    if !Path::new(&driver).exists() {
        if std::env::var("PROVENANCE_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!("PROVENANCE_REQUIRE_BROWSER=1 but {driver} is missing: apt-get install chromium chromium-driver");
        }
        eprintln!("skipping the browser test: {driver} is missing (apt-get install chromium chromium-driver)");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = tokio::process::Command::new(&driver)
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");
    let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| CHROMIUM.into());
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": binary,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,1000", "--lang=en-US"]
        }
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        if let Ok(client) = ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(&url)
            .await
        {
            return Some(Browser {
                client,
                _driver: child,
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start on {url}");
}

/// Saves a screenshot of the page as `name`.png where asked.
async fn screenshot(client: &Client, name: &str) {
    let Ok(dir) = std::env::var("PROVENANCE_SCREENSHOTS") else {
        return;
    };
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(Path::new(&dir).join(format!("{name}.png")), png).unwrap();
}

/// Waits (up to 20 s) until `script` returns true.
async fn until(client: &Client, what: &str, script: &str) {
    for _ in 0..200 {
        if client.execute(script, vec![]).await.unwrap() == json!(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what} ({script})");
}

async fn attr(client: &Client, css: &str, name: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .attr(name)
        .await
        .unwrap()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_compare_decide_reload_and_export() {
    let Some(browser) = browser().await else {
        return;
    };
    let server = Server::start(None).await;
    let c = &browser.client;
    c.goto(&server.url("/")).await.unwrap();
    screenshot(c, "home").await;
    let file = fixture("copies/coffee__crop50.jpg");
    c.find(Locator::Css("#image"))
        .await
        .unwrap()
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    c.find(Locator::Css("#find"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let first = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("article.match"))
        .await
        .unwrap();
    let coffee = server.photos[1].to_string();
    assert_eq!(
        first.attr("data-image-id").await.unwrap().as_deref(),
        Some(coffee.as_str())
    );
    assert_eq!(
        first.attr("data-decision").await.unwrap().as_deref(),
        Some("none")
    );
    let text = first.text().await.unwrap();
    assert!(text.contains("keypoints agree"), "scores in words: {text}");
    assert!(
        text.contains("example.org"),
        "the sightings are shown: {text}"
    );
    // The query is shown beside the match, at the same size.
    let sizes = c
        .execute(
            "const [q, m] = document.querySelectorAll('article.match .pair img'); return [q.clientWidth, m.clientWidth, q.src.includes('/query')];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(sizes[0], sizes[1], "{sizes}");
    assert_eq!(sizes[2], json!(true));
    screenshot(c, "results").await;
    c.execute(
        "document.querySelector('article.match').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    screenshot(c, "results-match").await;
    let results = c.current_url().await.unwrap();

    // Decide with a key, then reload: the decision stays.
    c.execute("document.querySelector('article.match').focus()", vec![])
        .await
        .unwrap();
    first.send_keys("c").await.unwrap();
    until(
        c,
        "the decision",
        "return document.querySelector('article.match').dataset.decision === 'confirmed'",
    )
    .await;
    c.refresh().await.unwrap();
    c.wait()
        .for_element(Locator::Css("article.match"))
        .await
        .unwrap();
    assert_eq!(attr(c, "article.match", "data-decision").await, "confirmed");
    let badge = c
        .find(Locator::Css("article.match .badge"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(badge, "confirmed copy");
    let counted = c
        .find(Locator::Css("#reviewed-count"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(counted.starts_with("1 of"), "{counted}");

    // Export: the CSV the page links to carries the decision.
    let csv = c
        .execute_async(
            "const done = arguments[0]; fetch(document.querySelector('.exports a').href).then(r => r.text()).then(done);",
            vec![],
        )
        .await
        .unwrap();
    let csv = csv.as_str().unwrap();
    assert!(csv.lines().nth(1).unwrap().contains(",confirmed,"), "{csv}");

    // Filters: none similar.
    c.goto(&format!("{results}?kind=similar")).await.unwrap();
    let empty = c
        .find(Locator::Css("p.empty"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(empty.contains("No match to show"), "{empty}");
    c.goto(&format!("{results}?group=site&sort=oldest"))
        .await
        .unwrap();
    let site = c
        .find(Locator::Css("h2.site"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(site.starts_with("example.org"), "{site}");

    // Compare: the query's outline drawn in the match, then flicker and
    // overlay with the match aligned on the query.
    c.goto(results.as_str()).await.unwrap();
    c.find(Locator::Css("a.compare"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("#compare"))
        .await
        .unwrap();
    let points = attr(c, ".match-pane svg polygon", "points").await;
    assert_eq!(points.split(' ').count(), 4, "{points}");
    until(c, "the pictures", "return document.getElementById('query-img').complete && document.getElementById('match-img').complete").await;
    screenshot(c, "compare").await;
    c.find(Locator::Css("button[data-mode=flicker]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(attr(c, "#compare", "class").await.contains("mode-flicker"));
    let transform = c
        .execute(
            "return document.getElementById('aligned').style.transform",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        transform.as_str().unwrap().starts_with("matrix("),
        "{transform}"
    );
    c.find(Locator::Css("button[data-mode=overlay]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(attr(c, "#compare", "class").await.contains("mode-overlay"));
    screenshot(c, "compare-overlay").await;
    browser.client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_runs_from_the_page_with_live_progress() {
    let Some(browser) = browser().await else {
        return;
    };
    let server = Server::start(None).await;
    server.publish();
    // Slow pictures: the scan page is shown while the scan still runs.
    let slow = crate::common::world::Served::ok(
        "image/jpeg",
        std::fs::read(fixture("hash/brick.jpg")).unwrap(),
    )
    .delayed(Duration::from_secs(2));
    server.world.put("/img/brick.jpg", slow);
    let c = &browser.client;
    c.goto(&server.url("/scans")).await.unwrap();
    c.find(Locator::Css("#scan-text"))
        .await
        .unwrap()
        .send_keys("brick wall")
        .await
        .unwrap();
    c.find(Locator::Css("#provider option[value=searxng]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("#start-scan"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let status = c
        .wait()
        .for_element(Locator::Css("#scan-status"))
        .await
        .unwrap();
    assert_eq!(
        status.text().await.unwrap(),
        "running",
        "the page is shown while it runs"
    );
    screenshot(c, "scan-running").await;
    until(
        c,
        "the scan's end",
        "return document.getElementById('scan-status').textContent === 'completed'",
    )
    .await;
    let new_images = c
        .find(Locator::Css("[data-counter=new_images]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(new_images, "2");
    c.goto(&server.url("/scans")).await.unwrap();
    let row = c
        .find(Locator::Css("table.scans tbody tr"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        row.contains("brick wall") && row.contains("completed"),
        "{row}"
    );
    screenshot(c, "scans").await;
    c.goto(&server.url("/library?q=blog")).await.unwrap();
    let cards = c.find_all(Locator::Css("ul.cards li.card")).await.unwrap();
    assert_eq!(cards.len(), 1, "only the picture seen on the blog");
    screenshot(c, "library").await;
    // The words the scan kept (here the provider's titles) are searched.
    c.find(Locator::Css("a[href='/postings']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("#q"))
        .await
        .unwrap()
        .send_keys("coins\n")
        .await
        .unwrap();
    let hit = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("li.posting mark"))
        .await
        .unwrap();
    assert_eq!(hit.text().await.unwrap(), "Coins");
    assert_eq!(
        c.find_all(Locator::Css("li.posting")).await.unwrap().len(),
        1
    );
    screenshot(c, "postings").await;
    browser.client.close().await.unwrap();
}
