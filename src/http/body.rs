//! Reading a response body safely, for every HTTP call provenance makes:
//! capped while streaming (whatever `Content-Length` claims, and after gzip
//! decoding), with a timeout on every silence between chunks, and SHA-256
//! computed on the way.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::Response;
use sha2::{Digest, Sha256};

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The server fell silent for longer than the read timeout.
    #[error("no data for longer than the read timeout")]
    Timeout,
    /// The transfer broke off.
    #[error("the transfer broke off")]
    Transfer(#[source] reqwest::Error),
    /// The body is longer than the cap (with [`Overflow::Fail`]).
    #[error("body larger than the limit of {limit} bytes")]
    TooLarge {
        /// The cap in bytes.
        limit: u64,
    },
}

/// What to do with a body longer than the cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// Fail with [`BodyError::TooLarge`] (images, API answers: a cut one is useless).
    Fail,
    /// Keep the first `limit` bytes (pages, robots.txt).
    Truncate,
}

/// A body read in full (or up to its cap).
#[derive(Debug, Clone)]
pub struct Body {
    /// The bytes.
    pub bytes: Bytes,
    /// SHA-256 of exactly these bytes.
    pub sha256: [u8; 32],
    /// Whether the body was cut at the cap.
    pub truncated: bool,
}

/// The initial buffer: the claimed length when plausible, never more than 1 MiB
/// up front, so a lying `Content-Length` cannot make us allocate.
fn initial_capacity(claimed: Option<u64>, limit: u64) -> usize {
    let cap = claimed.unwrap_or(64 * 1024).min(limit).min(1024 * 1024);
    usize::try_from(cap).unwrap_or(0)
}

/// Reads `response`'s body under `limit` bytes, waiting at most
/// `read_timeout` for each chunk.
pub async fn read_body(
    mut response: Response,
    limit: u64,
    overflow: Overflow,
    read_timeout: Duration,
) -> Result<Body, BodyError> {
    let claimed = response.content_length();
    if overflow == Overflow::Fail && claimed.is_some_and(|len| len > limit) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut buffer = BytesMut::with_capacity(initial_capacity(claimed, limit));
    let mut hasher = Sha256::new();
    let mut truncated = false;
    loop {
        let chunk = match tokio::time::timeout(read_timeout, response.chunk()).await {
            Err(_) => return Err(BodyError::Timeout),
            Ok(Err(source)) => return Err(BodyError::Transfer(source)),
            Ok(Ok(None)) => break,
            Ok(Ok(Some(chunk))) => chunk,
        };
        let room = limit.saturating_sub(buffer.len() as u64);
        if chunk.len() as u64 > room {
            if overflow == Overflow::Fail {
                return Err(BodyError::TooLarge { limit });
            }
            let kept = &chunk[..usize::try_from(room).unwrap_or(0)];
            hasher.update(kept);
            buffer.extend_from_slice(kept);
            truncated = true;
            break;
        }
        hasher.update(&chunk);
        buffer.extend_from_slice(&chunk);
    }
    Ok(Body {
        bytes: buffer.freeze(),
        sha256: hasher.finalize().into(),
        truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_never_trusts_huge_claims() {
        assert_eq!(initial_capacity(Some(10), 1000), 10);
        assert_eq!(initial_capacity(Some(u64::MAX), 1 << 40), 1024 * 1024);
        assert_eq!(initial_capacity(None, 100), 100);
    }
}
