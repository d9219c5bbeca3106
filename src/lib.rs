//! provenance — find where an image lives on the web.
//!
//! Two journeys, two rooms:
//! - [`scan`]: search providers give candidates → pages are scraped for
//!   more → images are fetched, decoded, hashed and embedded → everything is
//!   kept in a [`store`].
//! - [`lookup`]: a suspect image (or a text) is found among stored ones,
//!   matches are ranked and a [`report`] says where each was seen and where
//!   the picture most likely came from.
//!
//! Both speak the domain [`model`] (pictures, sightings, scans, failures).
//! Below them: [`search`] and [`scrape`] (what the web says), [`fetch`] (one
//! polite, safe fetcher) on [`http`] (one client factory and retry policy
//! for every request), [`decode`], [`hash`], [`verify`] (keypoints) and
//! [`embed`] (CLIP), then the pure core of matching ([`matching`]).
//!
//! `cli` turns the command line into validated settings; nothing below it
//! reads the environment or prints.
//!
//! Everything with I/O or heavy dependencies sits behind the default
//! `runtime` feature. Without it only the pure parsers of what the web sends
//! compile ([`decode`], [`embed::preprocess`], [`scrape`], the answer
//! parsers of [`search`], the plain values of [`model`]): that is what the fuzz targets build.

pub mod config;
pub mod decode;
pub mod embed;
pub mod imageops;
pub mod local;
pub mod model;
pub mod redact;
pub mod scrape;
pub mod search;

#[cfg(feature = "runtime")]
pub mod archive;
#[cfg(feature = "runtime")]
pub mod cli;
#[cfg(feature = "runtime")]
pub mod copy_index;
#[cfg(feature = "runtime")]
pub mod fetch;
#[cfg(feature = "runtime")]
pub mod hash;
#[cfg(feature = "runtime")]
pub mod http;
#[cfg(feature = "runtime")]
pub mod lookup;
#[cfg(feature = "runtime")]
pub mod matching;
#[cfg(feature = "runtime")]
pub mod queue;
#[cfg(feature = "runtime")]
pub mod report;
#[cfg(feature = "runtime")]
pub mod scan;
#[cfg(feature = "runtime")]
pub mod serve;
#[cfg(feature = "runtime")]
pub mod store;
#[cfg(feature = "runtime")]
pub mod thumbnail;
#[cfg(feature = "runtime")]
pub mod verify;
#[cfg(feature = "runtime")]
pub mod watch;
