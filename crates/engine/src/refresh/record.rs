//! The bookkeeping of a refresh pass, without I/O: what each registry's result changes in the
//! state (last refresh, expiry, failing since, role, the identity's last token and sign-in
//! requirement, the learned sign-in frequency) and the events that tell it.

use chrono::{DateTime, Utc};

use super::Refreshed;
use crate::engine::ends_session;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::store::config::RegistryConfig;
use crate::store::state::{State, StoredError};

/// One registry's result in a pass, as the bookkeeping sees it.
pub(crate) struct Attempt<'a> {
    /// The registry.
    pub(crate) registry: &'a RegistryConfig,
    /// What the pass got for it.
    pub(crate) result: &'a Result<Refreshed>,
    /// Whether the credential of this pass is the one Docker uses: false for a cache-only pass
    /// of a registry whose credential Docker keeps elsewhere (the token in Docker's config is
    /// as it was). Only then do the state and the events speak of it; a session that ended is
    /// noted either way.
    pub(crate) docker_uses_it: bool,
}

/// What [`record`] decided besides the state.
#[derive(Debug, Default)]
pub(crate) struct Recorded {
    /// The events to send, in order.
    pub(crate) events: Vec<Event>,
    /// Identities whose session this pass found ended (for the first time): nothing is tried
    /// for them until they sign in again, and their cached tokens are to be forgotten.
    pub(crate) signed_out: Vec<String>,
}

/// Records a pass's results in `state` as of `now`, and says which events tell it.
pub(crate) fn record(state: &mut State, attempts: &[Attempt<'_>], now: DateTime<Utc>) -> Recorded {
    let mut out = Recorded::default();
    for Attempt {
        registry: reg,
        result,
        docker_uses_it,
    } in attempts
    {
        if !docker_uses_it {
            if let Err(e) = result
                && let Some(id) = ends_session(e)
            {
                note_session_ended(state, id, e, now, &mut out);
            }
            if let Err(e) = result {
                note_tenant_demand(state, e, now);
            }
            continue;
        }
        let entry = state
            .registries
            .entry(reg.login_server.to_string())
            .or_default();
        match result {
            Ok(r) => {
                if let Some(failed) = entry.last_error.take() {
                    out.events.push(Event::Recovered {
                        registry: reg.name.clone(),
                        login_server: reg.login_server.to_string(),
                        failing_since: entry.failing_since.take().unwrap_or(failed.at),
                    });
                }
                entry.failing_since = None;
                entry.audience = r.audience;
                entry.last_refresh = Some(now);
                entry.expires_at = r.expires_at;
                entry.last_error = None;
                if r.role.is_some() {
                    entry.role = r.role;
                }
                if let Some(id) = &reg.identity {
                    state.identities.entry(id.clone()).or_default().last_token = Some(now);
                }
                tracing::info!(registry = %reg.login_server, "Docker credential refreshed");
                out.events.push(Event::Refreshed {
                    registry: reg.name.clone(),
                    login_server: reg.login_server.to_string(),
                    expires_at: r.expires_at,
                });
            }
            Err(e) => {
                if entry.last_error.is_none() {
                    entry.failing_since = Some(now);
                }
                entry.last_error = Some(StoredError::new(e, now));
                if matches!(e, Error::NoRole { .. }) {
                    // The registry refused every token: the identity may do nothing there.
                    entry.role = Some(crate::azure::acr::RegistryRole::None);
                }
                tracing::warn!(registry = %reg.login_server, error = %e, "refresh failed");
                let valid_until = entry.expires_at.filter(|exp| *exp > now);
                if let Some(id) = ends_session(e) {
                    note_session_ended(state, id, e, now, &mut out);
                }
                note_tenant_demand(state, e, now);
                out.events.push(Event::RefreshFailed {
                    registry: reg.name.clone(),
                    login_server: reg.login_server.to_string(),
                    identity: reg.identity.clone(),
                    kind: e.kind(),
                    message: e.to_string(),
                    hint: e.hint(),
                    valid_until,
                });
            }
        }
    }
    out
}

/// Marks the tenant of an account that demanded a sign-in to it ([`Error::TenantSignInRequired`]):
/// its registries wait for that sign-in; the account and its other tenants go on.
fn note_tenant_demand(state: &mut State, e: &Error, now: DateTime<Utc>) {
    let Error::TenantSignInRequired {
        identity, tenant, ..
    } = e
    else {
        return;
    };
    let entry = state
        .identities
        .entry(identity.clone())
        .or_default()
        .tenants
        .entry(tenant.to_ascii_lowercase())
        .or_default();
    if entry.sign_in_required.is_none() {
        tracing::warn!(identity = %identity, tenant = %tenant, "the tenant demands a sign-in to it; its registries wait for it, the other tenants go on");
        entry.sign_in_required = Some(StoredError::new(e, now));
    }
}

/// Marks an identity whose session ended as needing a sign-in (once: the first time it is
/// seen, with an event), so nothing is tried for it until the user signs in.
fn note_session_ended(
    state: &mut State,
    id: &str,
    e: &Error,
    now: DateTime<Utc>,
    out: &mut Recorded,
) {
    let identity = state.identities.entry(id.to_owned()).or_default();
    if let Some(limit) = crate::schedule::forecast::sign_in_frequency(e) {
        // Learned: the next session will end the same way; warn ahead.
        identity.sign_in_frequency_secs = Some(limit.num_seconds());
    }
    if identity.sign_in_required.is_none() {
        identity.sign_in_required = Some(StoredError::new(e, now));
        out.signed_out.push(id.to_owned());
        out.events.push(Event::SignInRequired {
            identity: id.to_owned(),
            message: e.to_string(),
            hint: e.hint(),
        });
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::azure::acr::RegistryRole;
    use crate::azure::cloud::Audience;
    use crate::azure::login_server::HostPort;
    use crate::error::ErrorKind;
    use crate::store::config::RegistryAuth;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + TimeDelta::days(20_000) + TimeDelta::minutes(minutes)
    }

    fn registry(name: &str, identity: Option<&str>) -> RegistryConfig {
        RegistryConfig {
            name: name.into(),
            login_server: HostPort::parse(&format!("{name}.azurecr.io")).expect("host"),
            identity: identity.map(str::to_owned),
            auth: RegistryAuth::Identity,
            admin_username: None,
            acr_token: None,
            acr_token_password: None,
            arm_id: None,
            trusted_custom_domain: false,
            tenant: None,
        }
    }

    fn issued(expires_at: DateTime<Utc>) -> Result<Refreshed> {
        Ok(Refreshed {
            audience: Some(Audience::Arm),
            expires_at: Some(expires_at),
            role: Some(RegistryRole::AcrPush),
        })
    }

    fn unreachable() -> Error {
        Error::Registry {
            registry: "one.azurecr.io".into(),
            message: "connection refused".into(),
            kind: ErrorKind::Transient,
            hint: crate::hint::Hint::none(),
        }
    }

    fn session_over(identity: &str) -> Error {
        Error::SignInRequired {
            identity: identity.into(),
            reason: "AADSTS70043: The refresh token has expired due to sign-in frequency checks by conditional access. The token was issued on 2026-01-01 and the maximum allowed lifetime for this request is 43200.".into(),
            hint: "sign in again".into(),
        }
    }

    /// Each registry with its result, used by Docker.
    fn used(pairs: &[(RegistryConfig, Result<Refreshed>)]) -> Vec<Attempt<'_>> {
        pairs
            .iter()
            .map(|(registry, result)| Attempt {
                registry,
                result,
                docker_uses_it: true,
            })
            .collect()
    }

    /// A success records the new credential (audience, expiry, role, the identity's last
    /// token) and says so.
    #[test]
    fn a_success_is_recorded_and_told() {
        let reg = registry("one", Some("app"));
        let mut state = State::default();
        let recorded = record(&mut state, &used(&[(reg.clone(), issued(at(180)))]), at(0));

        let entry = &state.registries["one.azurecr.io"];
        assert_eq!(entry.last_refresh, Some(at(0)));
        assert_eq!(entry.expires_at, Some(at(180)));
        assert_eq!(entry.audience, Some(Audience::Arm));
        assert_eq!(entry.role, Some(RegistryRole::AcrPush));
        assert_eq!(entry.last_error, None);
        assert_eq!(state.identities["app"].last_token, Some(at(0)));
        assert_eq!(
            recorded.events,
            vec![Event::Refreshed {
                registry: "one".into(),
                login_server: "one.azurecr.io".into(),
                expires_at: Some(at(180)),
            }]
        );
        assert!(recorded.signed_out.is_empty());
    }

    /// A failure keeps when the registry started failing (the first failure's time, not the
    /// latest), tells until when Docker's credential still works, and a success after it tells
    /// the recovery with that start.
    #[test]
    fn failures_keep_their_start_and_a_success_tells_the_recovery() {
        let reg = registry("one", Some("app"));
        let mut state = State::default();
        record(&mut state, &used(&[(reg.clone(), issued(at(180)))]), at(0));

        let failed = Err(unreachable());
        let first = record(&mut state, &used(&[(reg.clone(), failed.clone())]), at(60));
        let second = record(&mut state, &used(&[(reg.clone(), failed.clone())]), at(90));
        let entry = &state.registries["one.azurecr.io"];
        assert_eq!(entry.failing_since, Some(at(60)));
        assert_eq!(entry.last_error.as_ref().map(|e| e.at), Some(at(90)));
        assert_eq!(
            entry.expires_at,
            Some(at(180)),
            "the old credential still works"
        );
        for (recorded, now) in [(&first, at(60)), (&second, at(90))] {
            let [
                Event::RefreshFailed {
                    valid_until, kind, ..
                },
            ] = recorded.events.as_slice()
            else {
                panic!("one failure event: {:?}", recorded.events);
            };
            assert_eq!(*valid_until, Some(at(180)), "at {now}");
            assert_eq!(*kind, ErrorKind::Transient);
        }

        // Past the old credential's expiry, nothing is said to work any more.
        let late = record(&mut state, &used(&[(reg.clone(), failed.clone())]), at(200));
        assert!(matches!(
            late.events.as_slice(),
            [Event::RefreshFailed {
                valid_until: None,
                ..
            }]
        ));

        let recovered = record(
            &mut state,
            &used(&[(reg.clone(), issued(at(400)))]),
            at(220),
        );
        assert_eq!(
            recovered.events.first(),
            Some(&Event::Recovered {
                registry: "one".into(),
                login_server: "one.azurecr.io".into(),
                failing_since: at(60),
            })
        );
        assert!(matches!(recovered.events[1], Event::Refreshed { .. }));
        let entry = &state.registries["one.azurecr.io"];
        assert_eq!(entry.failing_since, None);
        assert_eq!(entry.last_error, None);
    }

    /// A registry that refused every token records that the identity may do nothing there.
    #[test]
    fn a_refusal_of_every_token_records_no_role() {
        let reg = registry("one", Some("app"));
        let mut state = State::default();
        record(&mut state, &used(&[(reg.clone(), issued(at(180)))]), at(0));
        let refused = Err(Error::NoRole {
            identity: "app".into(),
            registry: "one.azurecr.io".into(),
            detail: "ACR-audience token refused".into(),
            repository_permissions: None,
            tried_tenants: Vec::new(),
        });
        record(&mut state, &used(&[(reg.clone(), refused.clone())]), at(60));
        assert_eq!(
            state.registries["one.azurecr.io"].role,
            Some(RegistryRole::None)
        );
    }

    /// A session that ended marks its identity (once, with one event before the registry's
    /// failure), learns the sign-in frequency Entra named, and asks for its tokens to be
    /// forgotten; the second registry of the same identity adds no second sign-in event.
    #[test]
    fn an_ended_session_is_marked_once_and_its_limit_learned() {
        let one = registry("one", Some("app"));
        let two = registry("two", Some("app"));
        let failed: Result<Refreshed> = Err(session_over("app"));
        let pairs = [(one, failed.clone()), (two, failed)];
        let attempts = used(&pairs);
        let mut state = State::default();
        let recorded = record(&mut state, &attempts, at(0));

        assert_eq!(recorded.signed_out, vec!["app".to_owned()]);
        let identity = &state.identities["app"];
        assert_eq!(
            identity.sign_in_required.as_ref().map(|e| e.at),
            Some(at(0))
        );
        assert_eq!(identity.sign_in_frequency_secs, Some(43_200));
        let kinds: Vec<&str> = recorded
            .events
            .iter()
            .map(|e| match e {
                Event::SignInRequired { .. } => "sign-in required",
                Event::RefreshFailed { .. } => "failed",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["sign-in required", "failed", "failed"]);

        // Already marked: a later pass adds no event and forgets nothing again.
        let again = record(&mut state, &attempts, at(10));
        assert!(again.signed_out.is_empty());
        assert!(
            !again
                .events
                .iter()
                .any(|e| matches!(e, Event::SignInRequired { .. }))
        );
        assert_eq!(
            state.identities["app"]
                .sign_in_required
                .as_ref()
                .map(|e| e.at),
            Some(at(0)),
            "the first time is kept"
        );
    }

    /// A cache-only pass of a registry whose credential Docker keeps elsewhere leaves the
    /// registry's state and events alone; only a session that ended is noted.
    #[test]
    fn a_credential_docker_does_not_use_is_not_recorded() {
        let reg = registry("one", Some("app"));
        let mut state = State::default();
        let pairs = [(reg.clone(), issued(at(180)))];
        let mut attempts = used(&pairs);
        attempts[0].docker_uses_it = false;
        let recorded = record(&mut state, &attempts, at(0));
        assert!(recorded.events.is_empty());
        assert_eq!(state, State::default());

        let failed: Result<Refreshed> = Err(session_over("app"));
        let pairs = [(reg, failed)];
        let mut attempts = used(&pairs);
        attempts[0].docker_uses_it = false;
        let recorded = record(&mut state, &attempts, at(0));
        assert!(state.registries.is_empty());
        assert!(state.identities["app"].sign_in_required.is_some());
        assert!(matches!(
            recorded.events.as_slice(),
            [Event::SignInRequired { .. }]
        ));
    }
}
