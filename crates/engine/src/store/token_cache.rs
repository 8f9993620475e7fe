//! Entra access tokens in memory: one per identity, tenant and audience, shared by every
//! registry that uses them, fetched once even when many registries ask at the same moment.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use crate::azure::cloud::Audience;
use crate::azure::entra::AccessToken;
use crate::error::Result;

/// A token is renewed when it has less than this left (a registry exchange must not race expiry).
const MIN_REMAINING: chrono::TimeDelta = chrono::TimeDelta::minutes(5);
/// A failure is shared with the registries asking in the same moment instead of being
/// repeated once per registry (a wrong secret must cost one request, not one per registry).
const FAILURE_REUSE: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Slot {
    token: Option<AccessToken>,
    failure: Option<(Instant, crate::error::Error)>,
}

type SharedSlot = Arc<tokio::sync::Mutex<Slot>>;

/// The cache.
#[derive(Default)]
pub struct TokenCache {
    slots: Mutex<HashMap<(String, String, Audience), SharedSlot>>,
}

impl TokenCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The cached token for `(identity, tenant, audience)` (`tenant` `None`: the identity's
    /// own), or the result of `fetch`, which runs at most once at a time per key.
    pub async fn get_or_fetch<F, Fut>(
        &self,
        identity: &str,
        tenant: Option<&str>,
        audience: Audience,
        now: DateTime<Utc>,
        fetch: F,
    ) -> Result<AccessToken>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<AccessToken>>,
    {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots
                .entry((
                    identity.to_ascii_lowercase(),
                    tenant.unwrap_or_default().to_ascii_lowercase(),
                    audience,
                ))
                .or_default()
                .clone()
        };
        let mut slot = slot.lock().await;
        if let Some(token) = &slot.token
            && token.expires_at - now > MIN_REMAINING
        {
            return Ok(token.clone());
        }
        if let Some((at, err)) = &slot.failure
            && at.elapsed() < FAILURE_REUSE
        {
            return Err(err.clone());
        }
        match fetch().await {
            Ok(token) => {
                slot.token = Some(token.clone());
                slot.failure = None;
                Ok(token)
            }
            Err(err) => {
                slot.token = None;
                slot.failure = Some((Instant::now(), err.clone()));
                Err(err)
            }
        }
    }

    /// Forgets an identity's tokens (after sign-out).
    pub fn forget(&self, identity: &str) {
        let id = identity.to_ascii_lowercase();
        self.slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(i, _, _), _| *i != id);
    }

    /// Forgets an identity's tokens for one tenant (after a sign-in to that tenant).
    pub fn forget_tenant(&self, identity: &str, tenant: &str) {
        let (id, tenant) = (identity.to_ascii_lowercase(), tenant.to_ascii_lowercase());
        self.slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(i, t, _), _| *i != id || *t != tenant);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn token(minutes: i64) -> AccessToken {
        AccessToken {
            token: Secret::new("t"),
            expires_at: Utc::now() + chrono::TimeDelta::minutes(minutes),
            tenant_id: None,
        }
    }

    #[tokio::test]
    async fn concurrent_askers_share_one_fetch() {
        let cache = TokenCache::new();
        let calls = AtomicUsize::new(0);
        let fetch = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(token(60))
        };
        let results = futures::future::join_all(
            (0..20).map(|_| cache.get_or_fetch("App", None, Audience::Acr, Utc::now(), fetch)),
        )
        .await;
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        cache
            .get_or_fetch("app", None, Audience::Arm, Utc::now(), fetch)
            .await
            .expect("arm");
        assert_eq!(calls.load(Ordering::SeqCst), 2, "one token per audience");
        cache
            .get_or_fetch("app", Some("T2"), Audience::Arm, Utc::now(), fetch)
            .await
            .expect("other tenant");
        assert_eq!(calls.load(Ordering::SeqCst), 3, "one token per tenant");
        cache.forget_tenant("App", "t2");
        cache
            .get_or_fetch("app", Some("t2"), Audience::Arm, Utc::now(), fetch)
            .await
            .expect("other tenant again");
        cache
            .get_or_fetch("app", None, Audience::Arm, Utc::now(), fetch)
            .await
            .expect("home kept");
        assert_eq!(
            calls.load(Ordering::SeqCst),
            4,
            "only that tenant's forgotten"
        );
    }

    // On a paused clock: a failure is shared for a few seconds, which must not run out between
    // the two asks however slowly the machine gets from one to the other.
    #[tokio::test(start_paused = true)]
    async fn nearly_expired_tokens_are_renewed_and_failures_shared() {
        let cache = TokenCache::new();
        cache
            .get_or_fetch("a", None, Audience::Acr, Utc::now(), || async {
                Ok(token(4))
            })
            .await
            .expect("first");
        let calls = AtomicUsize::new(0);
        let failing = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(crate::error::Error::invalid_input("no", ""))
        };
        assert!(
            cache
                .get_or_fetch("a", None, Audience::Acr, Utc::now(), failing)
                .await
                .is_err()
        );
        assert!(
            cache
                .get_or_fetch("a", None, Audience::Acr, Utc::now(), failing)
                .await
                .is_err()
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        cache.forget("A");
        assert!(
            cache
                .get_or_fetch("a", None, Audience::Acr, Utc::now(), || async {
                    Ok(token(60))
                })
                .await
                .is_ok()
        );
    }
}
