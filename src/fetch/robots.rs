//! robots.txt (RFC 9309): parsing into the rules that apply to us, and
//! deciding whether a URL may be fetched. Pure; the fetcher fetches and
//! caches one [`RobotsRules`] per origin.
//!
//! Groups start with one or more `User-agent:` lines. The groups naming our
//! product token (case-insensitively) apply, merged; when none does, the `*`
//! groups apply; when neither exists, everything is allowed. Among the
//! `Allow`/`Disallow` patterns matching a path (with `*` wildcards and a `$`
//! end anchor) the longest wins; on a tie `Allow` wins. `/robots.txt` itself
//! is always allowed.

/// One `Allow` or `Disallow` line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    allow: bool,
    pattern: String,
}

/// The rules of one robots.txt that apply to one user agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RobotsRules {
    rules: Vec<Rule>,
    disallow_all: bool,
}

/// Where a parsed line belongs while a group is being read.
#[derive(Default)]
struct GroupState {
    agents: Vec<String>,
    rules: Vec<Rule>,
    in_rules: bool,
}

impl RobotsRules {
    /// Everything allowed (no robots.txt, or a 4xx for it).
    pub fn allow_all() -> Self {
        Self::default()
    }

    /// Nothing allowed (robots.txt answered 5xx: the site is unavailable).
    pub fn disallow_all() -> Self {
        Self {
            rules: Vec::new(),
            disallow_all: true,
        }
    }

    /// Parses a robots.txt body, keeping the rules for `product_token`.
    pub fn parse(body: &str, product_token: &str) -> Self {
        let token = product_token.to_ascii_lowercase();
        let mut ours = Vec::new();
        let mut star = Vec::new();
        let mut matched_ours = false;
        let mut group = GroupState::default();
        let mut finish = |group: &mut GroupState| {
            let taken = std::mem::take(group);
            if taken.agents.contains(&token) {
                matched_ours = true;
                ours.extend(taken.rules);
            } else if taken.agents.iter().any(|a| a == "*") {
                star.extend(taken.rules);
            }
        };
        for (key, value) in body.lines().filter_map(split_line) {
            match key.as_str() {
                "user-agent" => {
                    if group.in_rules {
                        finish(&mut group);
                    }
                    group.agents.push(agent_token(&value));
                }
                "allow" | "disallow" if !group.agents.is_empty() => {
                    group.in_rules = true;
                    if !value.is_empty() {
                        group.rules.push(Rule {
                            allow: key == "allow",
                            pattern: value,
                        });
                    }
                }
                _ => {}
            }
        }
        finish(&mut group);
        let rules = if matched_ours { ours } else { star };
        Self {
            rules,
            disallow_all: false,
        }
    }

    /// Whether `path_and_query` (e.g. `/a/b.jpg?x=1`) may be fetched.
    pub fn is_allowed(&self, path_and_query: &str) -> bool {
        if path_and_query == "/robots.txt" {
            return true;
        }
        if self.disallow_all {
            return false;
        }
        let path = normalise_escapes(path_and_query);
        let best = self
            .rules
            .iter()
            .filter(|rule| pattern_matches(&normalise_escapes(&rule.pattern), &path))
            .max_by_key(|rule| (rule.pattern.len(), rule.allow));
        best.is_none_or(|rule| rule.allow)
    }
}

/// `key: value` with the key lower-cased and comments removed.
fn split_line(line: &str) -> Option<(String, String)> {
    let line = line.split('#').next().unwrap_or("");
    let (key, value) = line.split_once(':')?;
    let key = key.trim().to_ascii_lowercase();
    let key = match key.as_str() {
        "useragent" | "user agent" => "user-agent".to_owned(),
        "dissallow" | "dissalow" | "disalow" => "disallow".to_owned(),
        _ => key,
    };
    Some((key, value.trim().to_owned()))
}

/// The product token of a `User-agent:` value, lower-cased (`Foo/1.2` → `foo`).
fn agent_token(value: &str) -> String {
    let token = value
        .split(|c: char| c == '/' || c.is_whitespace())
        .next()
        .unwrap_or("");
    token.to_ascii_lowercase()
}

/// Upper-cases the hex digits of `%xx` escapes so `%2f` and `%2F` compare equal.
fn normalise_escapes(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            out.push('%');
            out.push(bytes[i + 1].to_ascii_uppercase() as char);
            out.push(bytes[i + 2].to_ascii_uppercase() as char);
            i += 3;
        } else {
            let ch = text[i..].chars().next().unwrap_or('\u{fffd}');
            out.push(ch);
            i += ch.len_utf8().max(1);
        }
    }
    out
}

/// Whether a robots pattern (prefix match, `*` = any run, trailing `$` = end)
/// matches the start of `path`.
fn pattern_matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(stripped) => (stripped, true),
        None => (pattern, false),
    };
    let pieces: Vec<&str> = pattern.split('*').collect();
    let mut rest = match path.strip_prefix(pieces[0]) {
        Some(rest) => rest,
        None => return false,
    };
    let middle = &pieces[1..];
    for (index, piece) in middle.iter().enumerate() {
        let is_last = index + 1 == middle.len();
        if is_last && anchored {
            return rest.ends_with(piece);
        }
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    !anchored || rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROBOTS: &str = "\
# example
User-agent: *
Disallow: /private/
Allow: /private/public-*.jpg$

User-agent: GoogleBot
Disallow: /

User-agent: otherbot
User-agent: Provenance/2.0
Disallow: /no-provenance
Allow: /no-provenance/but-this
";

    #[test]
    fn our_group_wins_over_star() {
        let rules = RobotsRules::parse(ROBOTS, "provenance");
        assert!(!rules.is_allowed("/no-provenance/x.jpg"));
        assert!(rules.is_allowed("/no-provenance/but-this/x.jpg"));
        assert!(
            rules.is_allowed("/private/secret.jpg"),
            "star group must not apply"
        );
    }

    #[test]
    fn star_group_applies_when_we_are_not_named() {
        let rules = RobotsRules::parse(ROBOTS, "someone-else");
        assert!(!rules.is_allowed("/private/secret.jpg"));
        assert!(rules.is_allowed("/private/public-1.jpg"));
        assert!(!rules.is_allowed("/private/public-1.jpg?size=big"));
        assert!(rules.is_allowed("/elsewhere.jpg"));
    }

    #[test]
    fn longest_match_wins_and_allow_wins_ties() {
        let rules = RobotsRules::parse(
            "User-agent: *\nDisallow: /a\nAllow: /a/b\nDisallow: /a/b/c\nAllow: /t\nDisallow: /t\n",
            "x",
        );
        assert!(!rules.is_allowed("/a/x"));
        assert!(rules.is_allowed("/a/b/x"));
        assert!(!rules.is_allowed("/a/b/c/x"));
        assert!(rules.is_allowed("/t/x"));
    }

    #[test]
    fn empty_disallow_allows_everything_and_robots_txt_is_always_allowed() {
        let rules = RobotsRules::parse("User-agent: *\nDisallow:\n", "x");
        assert!(rules.is_allowed("/anything"));
        let all = RobotsRules::parse("User-agent: *\nDisallow: /\n", "x");
        assert!(!all.is_allowed("/anything"));
        assert!(all.is_allowed("/robots.txt"));
        assert!(!RobotsRules::disallow_all().is_allowed("/x"));
        assert!(RobotsRules::disallow_all().is_allowed("/robots.txt"));
    }

    #[test]
    fn wildcards_and_anchors() {
        assert!(pattern_matches("/*.jpg$", "/a/b.jpg"));
        assert!(!pattern_matches("/*.jpg$", "/a/b.jpg?x"));
        assert!(pattern_matches("/*.jpg", "/a/b.jpg?x"));
        assert!(pattern_matches("/a*b*c", "/axxbyyc/d"));
        assert!(!pattern_matches("/a*b*c", "/axxcyyb"));
        assert!(pattern_matches("/exact$", "/exact"));
        assert!(!pattern_matches("/exact$", "/exactly"));
        assert!(pattern_matches("*", "/anything"));
    }

    #[test]
    fn escapes_compare_case_insensitively() {
        let rules = RobotsRules::parse("User-agent: *\nDisallow: /a%2fb\n", "x");
        assert!(!rules.is_allowed("/a%2Fb/c"));
    }

    #[test]
    fn garbage_and_rules_before_any_agent_are_ignored() {
        let rules = RobotsRules::parse(
            "Disallow: /\n\u{0}\u{1}junk\n<html>\nUser-agent: *\nDisallow: /x\n",
            "x",
        );
        assert!(rules.is_allowed("/y"));
        assert!(!rules.is_allowed("/x"));
    }
}
