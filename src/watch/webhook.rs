//! Alerts: the changes no one was told of yet, POSTed as JSON (the shape
//! `changes --format json` prints, each change with its `id`) to the
//! webhook a person set (`PROVENANCE_WEBHOOK_URL`). The address is
//! checked by the fetcher's SSRF guard like any other (private addresses
//! only when allowed), redirects are not followed, and a failed delivery
//! is retried with back-off; changes are marked sent only after a 2xx, so
//! one that could not be sent goes with the next run — delivery is at
//! least once, and the ids let a receiver drop a repeat.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use url::Url;

use super::changes_json;
use crate::fetch::guard::{AddressPolicy, GuardedResolver};
use crate::http::{self, ClientOptions};
use crate::store::{Store, StoreError};

/// Changes sent in one request.
const BATCH: u32 = 500;
/// Tries of one request (the first and the retries).
const TRIES: u32 = 3;
/// Longest one request may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Why the webhook could not be told.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// Not an http(s) URL.
    #[error("the webhook URL is not an http(s) URL")]
    Invalid,
    /// Its address is private and private addresses are not allowed.
    #[error("the webhook at {0} is on a private address; allow it with --allow-private-addresses or --allow-network")]
    Blocked(String),
    /// It did not take the changes (after the retries).
    #[error("the webhook at {host} did not take the changes: {reason}; they are kept and sent at the next run")]
    Failed {
        /// Scheme and host only: the path may hold a secret.
        host: String,
        /// What went wrong.
        reason: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A webhook to tell of changes.
#[derive(Debug, Clone)]
pub struct Webhook {
    url: Url,
    host: String,
    client: reqwest::Client,
}

impl Webhook {
    /// A webhook at `url`, reached under `policy` (the fetcher's rules on
    /// addresses) with our `User-Agent`.
    pub fn new(url: &str, policy: AddressPolicy, user_agent: String) -> Result<Self, WebhookError> {
        let url = Url::parse(url.trim()).map_err(|_| WebhookError::Invalid)?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(WebhookError::Invalid);
        }
        let host = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
        let policy = Arc::new(policy);
        policy
            .check_url(&url)
            .map_err(|_| WebhookError::Blocked(host.clone()))?;
        let client = http::client(ClientOptions {
            follow_redirects: false,
            total_timeout: Some(TIMEOUT),
            resolver: Some(Arc::new(GuardedResolver::new(policy))),
            ..ClientOptions::new(user_agent)
        })
        .map_err(|e| WebhookError::Failed {
            host: host.clone(),
            reason: e.to_string(),
        })?;
        Ok(Self { url, host, client })
    }

    /// Where it is, for people: scheme and host, never the path.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Sends every change not sent yet, in batches, marking each batch
    /// sent once the webhook took it; how many were sent.
    pub async fn deliver(&self, store: &dyn Store) -> Result<usize, WebhookError> {
        let mut sent = 0;
        loop {
            let pending = store.undelivered_changes(BATCH).await?;
            if pending.is_empty() {
                return Ok(sent);
            }
            self.post(&changes_json(&pending)).await?;
            let ids: Vec<i64> = pending.iter().map(|c| c.id).collect();
            store.mark_delivered(&ids, Utc::now()).await?;
            sent += ids.len();
        }
    }

    /// One POST, retried after a failure to connect, a timeout, a 429 or
    /// a 5xx (1 s, then 2 s).
    async fn post(&self, body: &serde_json::Value) -> Result<(), WebhookError> {
        let mut reason = String::new();
        for attempt in 0..TRIES {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_secs(1 << (attempt - 1))).await;
            }
            match self.client.post(self.url.clone()).json(body).send().await {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) => {
                    let status = response.status();
                    reason = format!("it answered {status}");
                    if !(status.is_server_error() || status.as_u16() == 429) {
                        break;
                    }
                }
                Err(e) => reason = http_error(e),
            }
        }
        Err(WebhookError::Failed {
            host: self.host.clone(),
            reason,
        })
    }
}

/// A request error without its URL (the path may hold a secret).
fn http_error(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "no answer in time".into()
    } else if e.is_connect() {
        "cannot connect".into()
    } else {
        e.without_url().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closed() -> AddressPolicy {
        AddressPolicy {
            allow_private: false,
            allowed_networks: Vec::new(),
        }
    }

    #[test]
    fn only_web_addresses_and_not_private_ones_unless_allowed() {
        assert!(matches!(
            Webhook::new("ftp://x", closed(), "t".into()),
            Err(WebhookError::Invalid)
        ));
        assert!(matches!(
            Webhook::new("not a url", closed(), "t".into()),
            Err(WebhookError::Invalid)
        ));
        let blocked =
            Webhook::new("http://127.0.0.1:9/hook/SECRET", closed(), "t".into()).unwrap_err();
        assert!(matches!(blocked, WebhookError::Blocked(_)));
        assert!(!blocked.to_string().contains("SECRET"), "{blocked}");
        let open = AddressPolicy {
            allow_private: true,
            allowed_networks: Vec::new(),
        };
        let hook = Webhook::new("http://127.0.0.1:9/hook/SECRET", open, "t".into()).unwrap();
        assert_eq!(hook.host(), "http://127.0.0.1");
    }
}
