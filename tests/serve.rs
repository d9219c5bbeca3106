//! `provenance serve` tested as it runs: the real server on a loopback
//! port over a real store of real photos, a loopback SearXNG for scans;
//! the API with every kind of bad input, and the UI in a real headless
//! Chromium (Debian's, through chromium-driver).

mod common;

#[path = "serve/api.rs"]
mod api;
#[path = "serve/browser.rs"]
mod browser;
#[path = "serve/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "hostile/images.rs"]
mod images;
