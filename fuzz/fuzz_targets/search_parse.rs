//! Fuzz target: every search provider's answer parser (SerpApi, Brave,
//! Serper, SearXNG, SerpApi Lens) on arbitrary bodies must return
//! candidates or a typed error, never panic. The first byte picks the parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use provenance::search::{parse_answer, parse_lens_answer, ProviderKind};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let body = String::from_utf8_lossy(rest);
    let kinds = [
        ProviderKind::SerpApi,
        ProviderKind::Brave,
        ProviderKind::Serper,
        ProviderKind::SearXng,
    ];
    match usize::from(selector) % 6 {
        4 => drop(parse_lens_answer(&body, "visual_matches")),
        5 => drop(parse_lens_answer(&body, "exact_matches")),
        i => {
            if let Ok(candidates) = parse_answer(kinds[i], &body) {
                for c in candidates {
                    assert!(matches!(c.image_url.scheme(), "http" | "https"));
                }
            }
        }
    }
});
