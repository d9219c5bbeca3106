//! Fuzz target: every search provider's answer parser (SerpApi, Brave,
//! Serper, SearXNG, Openverse, Wikimedia Commons, SerpApi Lens, TinEye) on arbitrary bodies must return
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
        ProviderKind::Openverse,
        ProviderKind::Commons,
        ProviderKind::TinEye,
    ];
    match usize::from(selector) % 9 {
        7 => drop(parse_lens_answer(&body, "visual_matches")),
        8 => drop(parse_lens_answer(&body, "exact_matches")),
        i => {
            if let Ok(candidates) = parse_answer(kinds[i], &body) {
                for c in candidates {
                    assert!(matches!(c.image_url.scheme(), "http" | "https"));
                }
            }
        }
    }
});
