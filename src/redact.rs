//! Showing a URL without the secrets it may carry: a password in its
//! user-info, and the values of query parameters that hold credentials
//! (`api_key`, `token`, `password`, `sslpassword`, …). Every URL that
//! reaches a log line, an error or `db status` goes through [`redact_url`].

use url::Url;

/// Query parameters whose values are credentials (compared without case,
/// `-` read as `_`).
const SENSITIVE_PARAMS: &[&str] = &[
    "api_key",
    "apikey",
    "key",
    "token",
    "access_token",
    "auth",
    "secret",
    "password",
    "sslpassword",
    "pass",
    "pwd",
    "signature",
    "sig",
    "subscription_token",
];

/// The text shown in place of a secret.
pub const REDACTED: &str = "***";

/// Whether a query parameter named `name` carries a credential.
pub fn is_sensitive_param(name: &str) -> bool {
    let name = name.replace('-', "_");
    SENSITIVE_PARAMS
        .iter()
        .any(|s| s.eq_ignore_ascii_case(&name))
}

/// `url` for logs and messages: any password and the values of
/// credential-like query parameters replaced by `***`.
pub fn redact_url(url: &Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some(REDACTED));
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(name, value)| {
                let value = if is_sensitive_param(&name) {
                    REDACTED.to_string()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        shown.query_pairs_mut().clear().extend_pairs(pairs);
    }
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_passwords_are_hidden_everything_else_kept() {
        let url = Url::parse(
            "https://user:pw123@serpapi.com/search.json?engine=google_images&q=red+fox&api_key=sk-SECRET&ijn=2&Token=t0k",
        )
        .unwrap();
        let shown = redact_url(&url);
        assert!(!shown.contains("sk-SECRET"), "{shown}");
        assert!(!shown.contains("pw123"), "{shown}");
        assert!(!shown.contains("t0k"), "{shown}");
        assert!(shown.contains("api_key=***"), "{shown}");
        assert!(shown.contains("q=red+fox"), "{shown}");
        assert!(shown.contains("ijn=2"), "{shown}");
        let plain = Url::parse("https://example.org/a?b=c").unwrap();
        assert_eq!(redact_url(&plain), "https://example.org/a?b=c");
    }

    #[test]
    fn database_passwords_in_the_query_are_hidden() {
        let url = Url::parse(
            "postgres://alice@db:5432/prov?password=SECRET&sslpassword=KEYPW&sslmode=require&passfile=/home/a/.pgpass",
        )
        .unwrap();
        let shown = redact_url(&url);
        assert!(
            !shown.contains("SECRET") && !shown.contains("KEYPW"),
            "{shown}"
        );
        assert!(shown.contains("sslmode=require"), "{shown}");
        assert!(shown.contains("alice@db:5432"), "{shown}");
    }
}
