//! `srcset` parsing (the HTML "parse a srcset attribute" algorithm, simplified)
//! and choosing its largest image.

/// One image candidate of a `srcset`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SrcsetEntry<'a> {
    /// The URL as written (may be relative).
    pub url: &'a str,
    /// Its descriptor.
    pub descriptor: Descriptor,
}

/// A `srcset` descriptor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Descriptor {
    /// `800w`: the image's real width in pixels.
    Width(u32),
    /// `2x` (or no descriptor, which means `1x`).
    Density(f32),
}

/// The entries of a `srcset` value. URLs may contain commas (`w_300,h_200`
/// in CDN paths): a comma ends a URL only when followed by whitespace or
/// when it is the URL's last character.
pub(crate) fn parse_srcset(value: &str) -> Vec<SrcsetEntry<'_>> {
    let mut entries = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        if rest.is_empty() {
            break;
        }
        let url_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let raw_url = &rest[..url_end];
        rest = &rest[url_end..];
        if let Some(url) = raw_url.strip_suffix(',') {
            push_entry(&mut entries, url.trim_end_matches(','), "");
            continue;
        }
        let descriptor_end = rest.find(',').unwrap_or(rest.len());
        push_entry(&mut entries, raw_url, &rest[..descriptor_end]);
        rest = &rest[descriptor_end..];
    }
    entries
}

fn push_entry<'a>(entries: &mut Vec<SrcsetEntry<'a>>, url: &'a str, descriptors: &str) {
    if url.is_empty() {
        return;
    }
    let mut descriptor = Descriptor::Density(1.0);
    for token in descriptors.split_whitespace() {
        if let Some(width) = token.strip_suffix(['w', 'W']).and_then(|n| n.parse().ok()) {
            descriptor = Descriptor::Width(width);
        } else if let Some(density) = token
            .strip_suffix(['x', 'X'])
            .and_then(|n| n.parse::<f32>().ok())
        {
            if density.is_finite() && density > 0.0 {
                descriptor = Descriptor::Density(density);
            }
        }
    }
    entries.push(SrcsetEntry { url, descriptor });
}

/// The largest entry: the widest `w` entry if any has a width, else the
/// highest density. Ties keep the first.
pub(crate) fn largest<'a, 'b>(entries: &'b [SrcsetEntry<'a>]) -> Option<&'b SrcsetEntry<'a>> {
    let widest = entries
        .iter()
        .filter_map(|e| match e.descriptor {
            Descriptor::Width(w) => Some((w, e)),
            Descriptor::Density(_) => None,
        })
        .fold(
            None,
            |best: Option<(u32, &SrcsetEntry)>, (w, e)| match best {
                Some((bw, _)) if bw >= w => best,
                _ => Some((w, e)),
            },
        );
    if let Some((_, entry)) = widest {
        return Some(entry);
    }
    entries.iter().fold(None, |best: Option<&SrcsetEntry>, e| {
        match (best, e.descriptor) {
            (Some(b), Descriptor::Density(d)) if density(b) >= d => Some(b),
            _ => Some(e),
        }
    })
}

fn density(entry: &SrcsetEntry) -> f32 {
    match entry.descriptor {
        Descriptor::Density(d) => d,
        Descriptor::Width(_) => 0.0,
    }
}

impl SrcsetEntry<'_> {
    /// The width the descriptor states, if it is a `w` descriptor.
    pub fn width(&self) -> Option<u32> {
        match self.descriptor {
            Descriptor::Width(w) => Some(w),
            Descriptor::Density(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_pick_the_widest() {
        let entries = parse_srcset("a-480.jpg 480w, a-1600.jpg 1600w,a-800.jpg 800w");
        assert_eq!(entries.len(), 3);
        assert_eq!(largest(&entries).unwrap().url, "a-1600.jpg");
        assert_eq!(largest(&entries).unwrap().width(), Some(1600));
    }

    #[test]
    fn densities_pick_the_highest_and_bare_means_1x() {
        let entries = parse_srcset("img.jpg, img@3x.jpg 3x, img@2x.jpg 2x");
        assert_eq!(largest(&entries).unwrap().url, "img@3x.jpg");
        assert_eq!(largest(&entries).unwrap().width(), None);
    }

    #[test]
    fn commas_inside_urls_survive() {
        let value = "https://res.example.com/image/upload/w_400,h_300,c_fill/fox.jpg 400w, https://res.example.com/image/upload/w_1200,h_900,c_fill/fox.jpg 1200w";
        let entries = parse_srcset(value);
        assert_eq!(entries.len(), 2, "{entries:?}");
        assert_eq!(
            largest(&entries).unwrap().url,
            "https://res.example.com/image/upload/w_1200,h_900,c_fill/fox.jpg"
        );
    }

    #[test]
    fn junk_is_tolerated() {
        assert!(parse_srcset("").is_empty());
        assert!(parse_srcset(" , ,, ").is_empty());
        let entries = parse_srcset("a.jpg,, b.jpg 2x,");
        assert_eq!(
            entries.iter().map(|e| e.url).collect::<Vec<_>>(),
            vec!["a.jpg", "b.jpg"]
        );
        let entries = parse_srcset("a.jpg bogus, b.jpg NaNx");
        assert_eq!(entries[0].descriptor, Descriptor::Density(1.0));
        assert_eq!(entries[1].descriptor, Descriptor::Density(1.0));
    }
}
