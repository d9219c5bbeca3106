//! The config file, `$XDG_CONFIG_HOME/provenance/config.toml` (or the file
//! `PROVENANCE_CONFIG` names): settings that need not be repeated on every
//! command. Each key is a setting's environment variable in lower case,
//! without the `PROVENANCE_` prefix (`model_dir`, `provider`, `data_dir`,
//! `max_results`, `serpapi_api_key`, `database_url`, …); its value fills
//! that variable when neither the environment nor `.env` sets it, so the
//! order is flags > environment > `.env` > config file > defaults.
//!
//! A key nobody reads is an error (a typo must not be ignored). Secrets —
//! API keys, tokens, `database_url` — are taken only from a file no one
//! else can read (mode `0600` or stricter); otherwise one sentence says so
//! and nothing runs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::config::ConfigError;
use crate::search::ProviderKind;

/// Largest config file read.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Where the config file is, and whether it was named: `PROVENANCE_CONFIG`
/// (which must then exist), else the user's config directory's
/// `provenance/config.toml` (which may not).
fn location() -> Option<(PathBuf, bool)> {
    if let Some(path) = std::env::var_os("PROVENANCE_CONFIG") {
        return Some((PathBuf::from(path), true));
    }
    directories::BaseDirs::new().map(|d| (d.config_dir().join("provenance/config.toml"), false))
}

/// Reads the config file, if there is one, and sets each variable it names
/// that the environment (or `.env`) does not. Call before any thread
/// starts: it changes this process's environment.
pub fn apply(known: &BTreeSet<String>) -> Result<(), ConfigError> {
    let Some((path, explicit)) = location() else {
        return Ok(());
    };
    let text = match crate::local::read_capped(&path, MAX_CONFIG_BYTES) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| invalid(&path, "it is not UTF-8"))?,
        Err(_) if !explicit && !path.exists() => return Ok(()),
        Err(e) => return Err(invalid(&path, &format!("it cannot be read ({e})"))),
    };
    for (name, value) in
        settings(&text, known, private_to_user(&path)).map_err(|why| invalid(&path, &why))?
    {
        if std::env::var_os(&name).is_none() {
            std::env::set_var(name, value);
        }
    }
    Ok(())
}

fn invalid(path: &Path, why: &str) -> ConfigError {
    ConfigError::Invalid(format!(
        "the config file {} is not used: {why}",
        path.display()
    ))
}

/// The `(variable, value)` pairs of a config file's text. Pure: `known` is
/// every variable the binary reads, `private` whether the file is the
/// user's alone.
pub fn settings(
    text: &str,
    known: &BTreeSet<String>,
    private: bool,
) -> Result<Vec<(String, String)>, String> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| format!("it is not valid TOML ({})", e.message()))?;
    let mut out = Vec::new();
    for (key, value) in table {
        let upper = key.to_ascii_uppercase();
        let name = [format!("PROVENANCE_{upper}"), upper]
            .into_iter()
            .find(|n| known.contains(n) && n != "PROVENANCE_CONFIG")
            .ok_or_else(|| format!("`{key}` is not a setting (keys are the settings' environment variables in lower case, without PROVENANCE_)"))?;
        if is_secret(&name) && !private {
            return Err(format!(
                "it holds the secret `{key}` but others can read it; run `chmod 600` on it, or keep the secret in the environment"
            ));
        }
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Array(items) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or(()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|()| format!("`{key}` must be a list of strings"))?
                .join(","),
            _ => {
                return Err(format!(
                    "`{key}` must be a string, a number, true/false or a list"
                ))
            }
        };
        out.push((name, value));
    }
    Ok(out)
}

/// API keys, tokens and the database URL (which may carry a password).
fn is_secret(name: &str) -> bool {
    name == "DATABASE_URL"
        || name == "PROVENANCE_WEBHOOK_URL"
        || name.ends_with("_KEY")
        || name.ends_with("_TOKEN")
}

/// Every variable the binary reads: its flags', the providers' keys and
/// base URLs, and the server's token.
pub fn known_variables(command: &clap::Command) -> BTreeSet<String> {
    let mut known: BTreeSet<String> = ProviderKind::ALL
        .iter()
        .flat_map(|k| k.key_variable().into_iter().chain([k.base_url_variable()]))
        .chain([super::serve::TOKEN_VARIABLE])
        .map(str::to_owned)
        .collect();
    collect(command, &mut known);
    known
}

fn collect(command: &clap::Command, known: &mut BTreeSet<String>) {
    for arg in command.get_arguments() {
        if let Some(env) = arg.get_env() {
            known.insert(env.to_string_lossy().into_owned());
        }
    }
    for sub in command.get_subcommands() {
        collect(sub, known);
    }
}

#[cfg(unix)]
fn private_to_user(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 == 0)
}

#[cfg(not(unix))]
fn private_to_user(_path: &Path) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> BTreeSet<String> {
        [
            "PROVENANCE_MODEL_DIR",
            "PROVENANCE_PROVIDER",
            "PROVENANCE_MAX_RESULTS",
            "SERPAPI_API_KEY",
            "PROVENANCE_FOLLOW_PAGES",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    }

    #[test]
    fn every_variable_the_binary_reads_is_a_key() {
        use clap::CommandFactory;
        let known = known_variables(&crate::cli::args::Cli::command());
        for name in [
            "DATABASE_URL",
            "PROVENANCE_DATA_DIR",
            "SERPAPI_API_KEY",
            "SEARXNG_URL",
            "PROVENANCE_OPENVERSE_URL",
            "PROVENANCE_WAYBACK_URL",
            "PROVENANCE_API_TOKEN",
        ] {
            assert!(known.contains(name), "{name}");
        }
    }

    #[test]
    fn keys_are_variables_in_lower_case() {
        let text = "model_dir = \"/models/clip\"\nprovider = [\"openverse\", \"commons\"]\nmax_results = 40\nfollow_pages = true\n";
        let got = settings(text, &known(), false).unwrap();
        assert_eq!(
            got,
            [
                ("PROVENANCE_FOLLOW_PAGES".to_owned(), "true".to_owned()),
                ("PROVENANCE_MAX_RESULTS".to_owned(), "40".to_owned()),
                ("PROVENANCE_MODEL_DIR".to_owned(), "/models/clip".to_owned()),
                (
                    "PROVENANCE_PROVIDER".to_owned(),
                    "openverse,commons".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn typos_bad_toml_and_shared_secrets_are_refused() {
        assert!(settings("modle_dir = \"x\"", &known(), true)
            .unwrap_err()
            .contains("`modle_dir` is not a setting"));
        assert!(settings("model_dir = ", &known(), true)
            .unwrap_err()
            .contains("not valid TOML"));
        let secret = "serpapi_api_key = \"sk-123\"";
        let err = settings(secret, &known(), false).unwrap_err();
        assert!(
            err.contains("chmod 600") && !err.contains("sk-123"),
            "{err}"
        );
        assert_eq!(
            settings(secret, &known(), true).unwrap()[0].0,
            "SERPAPI_API_KEY"
        );
        assert!(settings("model_dir = { a = 1 }", &known(), true).is_err());
    }
}
