//! Fuzz target: image extraction from arbitrary HTML (any bytes, read as
//! lossy UTF-8) must never panic, and never return more than the page cap.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    let page = url::Url::parse("https://example.org/dir/page.html").expect("constant URL");
    let images = provenance::scrape::extract_images(&html, &page);
    let candidates = provenance::scrape::candidates_from_page(&images, &page);
    assert!(candidates.len() <= 500);
});
