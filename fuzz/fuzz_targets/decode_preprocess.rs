//! Fuzz target: decoding arbitrary bytes within tight limits, then CLIP
//! preprocessing, must never panic nor allocate past the limits (libFuzzer's
//! -rss_limit_mb catches that); a decoded picture must honour the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use provenance::decode::{decode, DecodeLimits};

fuzz_target!(|data: &[u8]| {
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
