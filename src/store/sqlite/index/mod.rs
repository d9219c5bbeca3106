//! The embedded store's private vector index: exact cosine search over an
//! in-memory copy of every vector, held as 8-bit codes with a proven error
//! bound, re-ranked on the full `f32` vectors of a short list.
//!
//! - [`flat`]: the index itself (scan of the codes, shortlist, re-rank).
//! - `codes`: the 8-bit coding and its SIMD kernels.
//! - `snapshot`: the codes saved next to the database, so a new process
//!   starts without reading every vector.
//! - `cache`: keeping the in-memory copy in step with SQLite across
//!   processes.
//! - `blob`: the f32 blob a vector is stored as.

pub(super) mod blob;
pub(super) mod cache;
mod codes;
pub mod flat;
pub(super) mod snapshot;

pub use flat::FlatIndex;
