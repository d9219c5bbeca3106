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
//!
//! Everything with I/O or heavy dependencies sits behind the default
//! `runtime` feature. Without it only the pure parsers of what the web sends
//! compile ([`decode`], [`embed::preprocess`], [`scrape`], the answer
//! parsers of [`search`]): that is what the fuzz targets build.

pub mod config;
pub mod decode;
pub mod embed;
pub mod imageops;
pub mod scrape;
pub mod search;

#[cfg(feature = "runtime")]
pub mod cli;
#[cfg(feature = "runtime")]
pub mod fetch;
#[cfg(feature = "runtime")]
pub mod hash;
#[cfg(feature = "runtime")]
pub mod matching;
#[cfg(feature = "runtime")]
pub mod pipeline;
#[cfg(feature = "runtime")]
pub mod report;
#[cfg(feature = "runtime")]
pub mod store;
#[cfg(feature = "runtime")]
pub mod verify;
