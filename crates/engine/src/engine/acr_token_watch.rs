//! The ACR-token watch (docs/protocol.md#acr-tokens): ACR says nothing on the wire before a
//! token's password expires, so with every full refresh the identity given for a registry that
//! signs in with a token reads the token's ARM resource: its `status` and each password's
//! `expiry`. A password expiring within 14 days, then within 1 day, and a disabled token are
//! each announced once (through the notification policy); what was announced is kept in
//! `state.json` per password and expiry, so a new expiry (a regenerated password) starts
//! again. No password value is read or kept: ARM does not hand one out.
//!
//! A registry without an identity is not watched; an identity that ARM refuses (403, or a
//! token or registry it cannot see: 404) is asked again once a day, and the reason is kept
//! for the status and the settings window.

use chrono::{DateTime, TimeDelta, Utc};

use crate::azure::arm::{AcrTokenInfo, Arm};
use crate::azure::cloud::Audience;
use crate::engine::Engine;
use crate::engine::admin_watch::NOT_VISIBLE_RETRY;
use crate::error::ErrorKind;
use crate::events::Event;
use crate::store::config::{RegistryAuth, RegistryConfig};
use crate::store::state::{AcrTokenWatchState, State, WatchedPassword};

/// How long before a password's expiry it is announced: each threshold once, nearest last.
pub const EXPIRY_WARNINGS_DAYS: [u32; 2] = [14, 1];

impl Engine {
    /// Reads the tokens of the given registries that sign in with an ACR token and have an
    /// identity to read it, updating `state` and sending an event for each warning due. A
    /// registry read less than `fresh_for` ago is left alone. Failures are logged and tried
    /// again with the next refresh; they never fail the refresh.
    pub(crate) async fn watch_acr_tokens(
        &self,
        registries: &[&RegistryConfig],
        state: &mut State,
        fresh_for: TimeDelta,
    ) {
        let now = self.clock.now();
        let due: Vec<(&RegistryConfig, AcrTokenWatchState)> = registries
            .iter()
            .copied()
            .filter(|r| r.auth == RegistryAuth::AcrToken)
            // An identity that must sign in again is not asked for an ARM token meanwhile.
            .filter(|r| {
                r.identity.as_ref().is_some_and(|id| {
                    state
                        .identities
                        .get(id)
                        .is_none_or(|s| s.sign_in_required.is_none())
                })
            })
            .filter_map(|r| {
                let last = remembered(state, r);
                (last.retry_at.is_none_or(|at| at <= now)
                    && last.checked_at.is_none_or(|at| now - at >= fresh_for))
                .then_some((r, last))
            })
            .collect();
        let runs = due.into_iter().map(|(reg, last)| async move {
            let watched = self.watch_token(reg, last, now).await;
            (reg, watched)
        });
        for (reg, watched) in futures::future::join_all(runs).await {
            let Some((watched, events)) = watched else {
                continue;
            };
            for event in events {
                self.emit(event);
            }
            state
                .registries
                .entry(reg.login_server.to_string())
                .or_default()
                .acr_token = Some(watched);
        }
    }

    async fn watch_token(
        &self,
        reg: &RegistryConfig,
        mut last: AcrTokenWatchState,
        now: DateTime<Utc>,
    ) -> Option<(AcrTokenWatchState, Vec<Event>)> {
        let token = reg.acr_token.as_deref()?;
        let identity = self.identity_of(reg).ok()?;
        let tenant = self.registry_tenant(reg);
        let arm_token = match self
            .entra_token_in(identity, tenant.as_deref(), Audience::Arm)
            .await
        {
            Ok(t) => t,
            Err(e) => {
                tracing::debug!(identity = %identity.id, error = %e, "ACR token watch: no ARM token");
                return None;
            }
        };
        let clients = self.clients().ok()?;
        let arm = Arm::new(
            &clients.http,
            &self.cloud.arm,
            &arm_token.token,
            &identity.id,
        );
        let not_watched = |mut last: AcrTokenWatchState, why: String| {
            tracing::info!(registry = %reg.login_server, "ACR token watch: {why}");
            last.not_watched = Some(why);
            last.retry_at = Some(now + NOT_VISIBLE_RETRY);
            last.checked_at = Some(now);
            Some((last, Vec::new()))
        };
        let cannot_read = format!(
            "{} cannot read the token {token} in ARM (reading tokens needs Reader or more on the registry; AcrPull and AcrPush do not show them)",
            identity.id
        );
        let id = match reg.arm_id.clone().or_else(|| last.arm_id.clone()) {
            Some(id) => id,
            None => match arm.find_registry(&reg.login_server).await {
                Ok(Some(found)) => found.id,
                Ok(None) => return not_watched(last, cannot_read),
                Err(e) => {
                    tracing::info!(registry = %reg.login_server, error = %e, "ACR token watch: could not list registries; trying again with the next refresh");
                    return None;
                }
            },
        };
        match arm.get_acr_token(&id, token).await {
            Ok(info) => {
                last.arm_id = Some(id);
                last.not_watched = None;
                last.retry_at = None;
                last.checked_at = Some(now);
                Some(evaluate(reg, token, last, &info, now))
            }
            Err(e) if matches!(e.kind(), ErrorKind::Permission | ErrorKind::Configuration) => {
                tracing::debug!(registry = %reg.login_server, error = %e, "ACR token watch: ARM refused");
                last.arm_id = None;
                not_watched(last, cannot_read)
            }
            Err(e) => {
                tracing::info!(registry = %reg.login_server, error = %e, "ACR token watch: could not read the token; trying again with the next refresh");
                None
            }
        }
    }
}

/// What the watch remembers about a registry's token (nothing yet, or about another token:
/// the default).
fn remembered(state: &State, reg: &RegistryConfig) -> AcrTokenWatchState {
    let fresh = AcrTokenWatchState {
        token: reg.acr_token.clone(),
        ..Default::default()
    };
    state
        .registries
        .get(&reg.login_server.to_string())
        .and_then(|r| r.acr_token.clone())
        .filter(|w| w.token == reg.acr_token)
        .unwrap_or(fresh)
}

/// The new state and the warnings due, from what ARM says now. Pure: the rules of the watch.
pub(crate) fn evaluate(
    reg: &RegistryConfig,
    token: &str,
    mut last: AcrTokenWatchState,
    info: &AcrTokenInfo,
    now: DateTime<Utc>,
) -> (AcrTokenWatchState, Vec<Event>) {
    let mut events = Vec::new();
    let login_server = reg.login_server.to_string();
    match info.enabled {
        Some(false) if !last.disabled_notified => {
            events.push(Event::AcrTokenDisabled {
                registry: reg.name.clone(),
                login_server: login_server.clone(),
                token: token.to_owned(),
            });
            last.disabled_notified = true;
        }
        Some(true) => last.disabled_notified = false,
        _ => {}
    }
    last.enabled = info.enabled;
    let disabled = info.enabled == Some(false);
    let mut passwords = std::collections::BTreeMap::new();
    for p in &info.passwords {
        if reg.acr_token_password.is_some_and(|held| held != p.name) {
            continue;
        }
        let before = last.passwords.get(&p.name);
        let mut notified = before
            .filter(|b| b.expiry == p.expiry)
            .and_then(|b| b.notified_within_days);
        // A disabled token was announced itself: its passwords wait until it is enabled.
        if let Some(expiry) = p.expiry.filter(|_| !disabled) {
            let left = expiry - now;
            let crossed = EXPIRY_WARNINGS_DAYS
                .iter()
                .copied()
                .filter(|d| left <= TimeDelta::days(i64::from(*d)))
                .min();
            if let Some(days) = crossed
                && notified.is_none_or(|n| days < n)
            {
                // An expired password is not warned about (the refresh says it failed); it
                // is remembered as warned.
                if expiry > now {
                    events.push(Event::AcrTokenPasswordExpiring {
                        registry: reg.name.clone(),
                        login_server: login_server.clone(),
                        token: token.to_owned(),
                        password: p.name.to_string(),
                        expires_at: expiry,
                        within_days: days,
                    });
                }
                notified = Some(days);
            }
        }
        passwords.insert(
            p.name,
            WatchedPassword {
                expiry: p.expiry,
                notified_within_days: notified,
            },
        );
    }
    last.passwords = passwords;
    (last, events)
}

#[cfg(test)]
mod tests;
