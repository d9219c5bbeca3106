//! The fetcher against real loopback servers: well-behaved ones (axum) and
//! misbehaving ones (raw TCP): SSRF refusals, hostile bodies and timeouts,
//! retries, robots.txt, `X-Robots-Tag`, concurrency limits, pages.
//! One test binary, several short files.

mod common;
#[path = "fetch_suite/support.rs"]
mod support;

#[path = "fetch_suite/safety.rs"]
mod safety;

#[path = "fetch_suite/faults.rs"]
mod faults;

#[path = "fetch_suite/politeness.rs"]
mod politeness;

#[path = "fetch_suite/pages.rs"]
mod pages;

#[path = "fetch_suite/throughput.rs"]
mod throughput;
