//! Fuzz target: decoding arbitrary bytes within tight limits, then CLIP
//! preprocessing, must never panic nor allocate past the limits (libFuzzer's
//! -rss_limit_mb catches that); a decoded picture must honour the limits.
//! The file's XMP credits are read from the same bytes: an answer or a
//! typed error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use provenance::decode::{decode, embedded_credits, DecodeLimits};

fuzz_target!(|data: &[u8]| {
    drop(embedded_credits(data));
    let limits = DecodeLimits {
        max_pixels: 4_000_000,
        max_bytes: 8 * 1024 * 1024,
        max_dimension: 8_000,
    };
    if let Ok(decoded) = decode(data, &limits) {
        assert!(u64::from(decoded.width) * u64::from(decoded.height) <= limits.max_pixels);
        let pixels = provenance::embed::preprocess(&decoded.image);
        assert_eq!(pixels.len(), 3 * 224 * 224);
        assert!(pixels.iter().all(|v| v.is_finite()));
    }
});
