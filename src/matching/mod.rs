//! The pure core of `provenance match`: deciding what kind of match each
//! stored image is ([`classify`]), ordering matches ([`rank`]), and ordering
//! the evidence of where a picture came from ([`order_origins`]).
//!
//! No I/O here: the command gathers candidates (embedding k-NN, hash scan,
//! exact-hash lookup) and records from the store, and hands them in.

pub mod kind;
pub mod origin;
pub mod rank;

pub use kind::{classify, decide, Decider, Evidence, MatchKind, Thresholds, HASH_BITS};
pub use origin::{order_origins, DateKind, OriginClaim, OriginEvidence};
pub use rank::{rank, MatchCandidate, RankedMatch};

/// A matching setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    /// A threshold out of range or inconsistent with another.
    #[error("{0}")]
    InvalidThreshold(String),
}
