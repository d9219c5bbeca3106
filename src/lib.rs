//! provenance — find where an image lives on the web.
//!
//! The pipeline, in the order data flows through it:
//! search providers give candidates → pages are scraped for more →
//! images are fetched, decoded, hashed and embedded → everything is kept in a
//! [`store`] → `match` ranks stored images against a suspect image and
//! reports where it was seen and where it most likely came from.
//!
//! `cli` turns the command line into a validated [`config::Config`]; nothing
//! below it reads the environment.

pub mod cli;
pub mod config;
pub mod decode;
pub mod embed;
pub mod fetch;
pub mod hash;
pub mod matching;
pub mod pipeline;
pub mod report;
pub mod scrape;
pub mod search;
pub mod store;
pub mod verify;
