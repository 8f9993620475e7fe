//! The loop's decisions, without a loop: backoff per subject, the plan, what is refreshed now
//! and when the loop wakes next. Times are fixed instants; no clock runs.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, TimeDelta, Utc};

use super::plan::{self, COALESCE};
use super::retries::Retries;
use crate::azure::login_server::HostPort;
use crate::error::{Error, ErrorKind};
use crate::events::SubjectKey;
use crate::hint::Hint;
use crate::refresh::{Refreshed, RegistryOutcome};
use crate::schedule::policy::{Backoff, Policy};
use crate::store::config::{RegistryAuth, RegistryConfig};
use crate::store::state::{IdentityState, RegistryState, State, StoredError};

fn at(minutes: i64) -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH + TimeDelta::days(20_000) + TimeDelta::minutes(minutes)
}

/// Hourly, 15 minutes' margin, no jitter: every time below is exact.
fn policy() -> Policy {
    Policy {
        interval: TimeDelta::minutes(60),
        min_remaining: TimeDelta::minutes(15),
        jitter: TimeDelta::zero(),
        backoff: Backoff {
            jitter: 0.0,
            ..Backoff::default()
        },
    }
}

fn registry(name: &str, identity: &str) -> RegistryConfig {
    RegistryConfig {
        name: name.into(),
        login_server: HostPort::parse(&format!("{name}.azurecr.io")).expect("host"),
        identity: Some(identity.into()),
        auth: RegistryAuth::Identity,
        admin_username: None,
        acr_token: None,
        acr_token_password: None,
        arm_id: None,
        trusted_custom_domain: false,
        tenant: None,
    }
}

fn ls(reg: &RegistryConfig) -> String {
    reg.login_server.to_string()
}

fn outcome(reg: &RegistryConfig, result: Result<(), Error>) -> RegistryOutcome {
    RegistryOutcome {
        name: reg.name.clone(),
        login_server: ls(reg),
        identity: reg.signs_in_as(),
        result: result.map(|()| Refreshed {
            audience: None,
            expires_at: None,
            role: None,
        }),
    }
}

fn identities(regs: &[&RegistryConfig]) -> HashMap<String, String> {
    regs.iter()
        .filter_map(|r| Some((ls(r), r.identity.clone()?)))
        .collect()
}

fn network(retry_after: Option<u64>) -> Error {
    Error::Network {
        what: "token exchange".into(),
        url: "https://one.azurecr.io/oauth2/exchange".into(),
        detail: "connection refused".into(),
        retry_after,
    }
}

fn no_secret(identity: &str) -> Error {
    Error::SecretUnavailable {
        identity: identity.into(),
        detail: "not in the keyring".into(),
        hint: Hint::none(),
    }
}

fn broken_docker_config() -> Error {
    Error::Registry {
        registry: "one.azurecr.io".into(),
        message: "config.json cannot be written".into(),
        kind: ErrorKind::DockerConfig,
        hint: Hint::none(),
    }
}

fn session_over(identity: &str) -> Error {
    Error::SignInRequired {
        identity: identity.into(),
        reason: "the refresh token was revoked".into(),
        hint: Hint::none(),
    }
}

fn refreshed_at(regs: &[(&RegistryConfig, i64)]) -> State {
    let mut state = State::default();
    for (reg, minutes) in regs {
        state.registries.insert(
            ls(reg),
            RegistryState {
                last_refresh: Some(at(*minutes)),
                expires_at: Some(at(*minutes + 180)),
                ..RegistryState::default()
            },
        );
    }
    state
}

/// The stored forms of the keys are those `notifications.json` and the backoff's jitter
/// have always used.
#[test]
fn subject_keys_keep_their_stored_form() {
    let keys = [
        SubjectKey::Registry("one.azurecr.io".into()),
        SubjectKey::Identity("app".into()),
        SubjectKey::Admin("one.azurecr.io".into()),
        SubjectKey::AcrToken("one.azurecr.io".into()),
        SubjectKey::Session("me".into()),
        SubjectKey::ClientFile("/home/me/.config/helm/registry/config.json".into()),
    ];
    let text: Vec<String> = keys.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "registry:one.azurecr.io",
            "identity:app",
            "admin:one.azurecr.io",
            "acr-token:one.azurecr.io",
            "session:me",
            "client-file:/home/me/.config/helm/registry/config.json"
        ]
    );
}

/// A registry's own failure backs that registry off, doubling per failure in a row; a
/// success clears it.
#[test]
fn a_registry_failure_backs_off_that_registry_and_doubles() {
    let (one, two) = (registry("one", "app"), registry("two", "app"));
    let ids = identities(&[&one, &two]);
    let mut retries = Retries::default();
    let failed = [outcome(&one, Err(network(None))), outcome(&two, Ok(()))];

    retries.count_outcomes(&failed, &ids, at(0), &policy());
    assert_eq!(retries.count(&one), 1);
    assert_eq!(retries.retry_at(&one), Some(at(0) + TimeDelta::seconds(15)));
    assert_eq!(retries.retry_at(&two), None, "the other registry is fine");

    retries.count_outcomes(&failed, &ids, at(1), &policy());
    assert_eq!(retries.count(&one), 2);
    assert_eq!(retries.retry_at(&one), Some(at(1) + TimeDelta::seconds(30)));

    retries.count_outcomes(&[outcome(&one, Ok(()))], &ids, at(2), &policy());
    assert_eq!(retries.count(&one), 0);
    assert!(!retries.is_retrying(&one));
}

/// A failure to get the identity's token backs off the identity: every registry of it waits
/// on one backoff, and a success of any of them clears it.
#[test]
fn an_identity_failure_holds_every_registry_of_the_identity() {
    let (one, two, other) = (
        registry("one", "app"),
        registry("two", "app"),
        registry("three", "other"),
    );
    let ids = identities(&[&one, &two, &other]);
    let mut retries = Retries::default();
    retries.count_outcomes(
        &[outcome(&one, Err(no_secret("app")))],
        &ids,
        at(0),
        &policy(),
    );
    assert!(retries.get(&SubjectKey::Identity("app".into())).is_some());
    assert!(retries.get(&SubjectKey::Registry(ls(&one))).is_none());
    let five_minutes = Some(at(5));
    assert_eq!(retries.retry_at(&one), five_minutes, "needs a fix: slowly");
    assert_eq!(retries.retry_at(&two), five_minutes);
    assert_eq!(retries.count(&two), 1);
    assert!(!retries.is_retrying(&other));

    retries.count_outcomes(&[outcome(&two, Ok(()))], &ids, at(6), &policy());
    assert!(!retries.is_retrying(&one));
}

/// A session that ended is not retried at all (the loop waits for a sign-in instead), and
/// clears the registry's own backoff.
#[test]
fn an_ended_session_is_not_backed_off() {
    let one = registry("one", "app");
    let ids = identities(&[&one]);
    let mut retries = Retries::default();
    retries.count_outcomes(&[outcome(&one, Err(network(None)))], &ids, at(0), &policy());
    retries.count_outcomes(
        &[outcome(&one, Err(session_over("app")))],
        &ids,
        at(1),
        &policy(),
    );
    assert!(!retries.is_retrying(&one));
}

/// A server's Retry-After is honoured when longer than the backoff.
#[test]
fn retry_after_is_honoured() {
    let one = registry("one", "app");
    let mut retries = Retries::default();
    retries.count_outcomes(
        &[outcome(&one, Err(network(Some(600))))],
        &identities(&[&one]),
        at(0),
        &policy(),
    );
    assert_eq!(retries.retry_at(&one), Some(at(10)));
}

/// After the clock jumped (resume from sleep) transient failures are tried at once; those
/// that need a fix keep their backoff. A changed config.json releases only the registries
/// that failed on it.
#[test]
fn a_clock_jump_and_a_changed_docker_config_release_their_failures_only() {
    let (one, two, three) = (
        registry("one", "a"),
        registry("two", "b"),
        registry("three", "c"),
    );
    let ids = identities(&[&one, &two, &three]);
    let outcomes = [
        outcome(&one, Err(network(None))),
        outcome(&two, Err(broken_docker_config())),
        outcome(&three, Err(no_secret("c"))),
    ];
    let mut retries = Retries::default();
    retries.count_outcomes(&outcomes, &ids, at(0), &policy());
    assert!(retries.waits_on_docker_config(&ls(&two)));
    assert!(!retries.waits_on_docker_config(&ls(&one)));

    retries.after_clock_jump();
    assert!(!retries.is_retrying(&one));
    assert!(retries.is_retrying(&two));
    assert!(retries.is_retrying(&three));

    retries.after_docker_config_changed();
    assert!(!retries.is_retrying(&two));
    assert!(retries.is_retrying(&three));
}

/// The plan: a registry never refreshed is due at the wake; one refreshed is due when the
/// policy says; a backoff replaces that time (the later of the registry's and its
/// identity's); a registry whose identity must sign in again is not planned.
#[test]
fn the_plan_follows_the_policy_the_backoff_and_sign_ins() {
    let (new, fresh, failing, waiting) = (
        registry("new", "a"),
        registry("fresh", "a"),
        registry("failing", "a"),
        registry("waiting", "gone"),
    );
    let registries = vec![new.clone(), fresh.clone(), failing.clone(), waiting.clone()];
    let state = refreshed_at(&[(&fresh, 0), (&failing, 0)]);
    let mut retries = Retries::default();
    retries.count_outcomes(
        &[outcome(&failing, Err(network(None)))],
        &identities(&[&failing]),
        at(10),
        &policy(),
    );
    let blocked = BTreeSet::from(["gone".to_owned()]);

    let plan = plan::plan(&registries, &state, &retries, &blocked, &policy(), at(10));
    let due: Vec<(&str, Option<DateTime<Utc>>)> =
        plan.iter().map(|(r, at)| (r.name.as_str(), *at)).collect();
    assert_eq!(
        due,
        [
            ("new", Some(at(10))),
            ("fresh", Some(at(60))),
            ("failing", Some(at(10) + TimeDelta::seconds(15))),
            ("waiting", None),
        ]
    );

    // The identity's backoff, later than the registry's, wins.
    retries.fail(
        SubjectKey::Identity("a".into()),
        at(10),
        &no_secret("a"),
        &policy(),
    );
    let plan = plan::plan(&registries, &state, &retries, &blocked, &policy(), at(10));
    assert_eq!(plan[2].1, Some(at(15)));
    assert_eq!(plan[1].1, Some(at(15)), "every registry of the identity");
}

/// An admin password or an ACR token needs no identity (a token's identity only watches it):
/// it is planned even when that identity waits.
#[test]
fn an_admin_password_does_not_wait_for_a_sign_in() {
    let blocked = BTreeSet::from(["gone".to_owned()]);
    for auth in [RegistryAuth::AdminPassword, RegistryAuth::AcrToken] {
        let mut own = registry("own", "gone");
        own.auth = auth;
        assert_eq!(plan::waiting_for_sign_in(&own, &blocked), None, "{auth:?}");
    }
    let reg = registry("one", "gone");
    assert_eq!(plan::waiting_for_sign_in(&reg, &blocked), Some("gone"));
}

/// What is refreshed now: everything due, and scheduled refreshes due within the coalescing
/// window with them; a retry keeps its own time; the earliest of the rest is when to wake.
#[test]
fn due_refreshes_coalesce_but_retries_keep_their_time() {
    let (now_due, soon, later, retrying) = (
        registry("now", "a"),
        registry("soon", "a"),
        registry("later", "a"),
        registry("retrying", "b"),
    );
    let mut retries = Retries::default();
    retries.count_outcomes(
        &[outcome(&retrying, Err(network(None)))],
        &identities(&[&retrying]),
        at(0),
        &policy(),
    );
    let now = at(0) + TimeDelta::seconds(5);
    let planned = vec![
        (&now_due, Some(at(0))),
        (&soon, Some(now + COALESCE)),
        (&later, Some(now + COALESCE + TimeDelta::seconds(1))),
        // Due in 10 s: within the window, but a retry waits for its time.
        (&retrying, Some(at(0) + TimeDelta::seconds(15))),
    ];
    let (due, earliest) = plan::due_now(&planned, &retries, now);
    assert_eq!(due, [ls(&now_due), ls(&soon)]);
    assert_eq!(earliest, Some(at(0) + TimeDelta::seconds(15)));

    // After the pass, a time already past means "now", never earlier.
    assert_eq!(plan::earliest(&planned, now), Some(now));
    assert_eq!(plan::earliest(&[(&later, None)], now), None);
}

/// Identities whose session ended are held; one whose sign-in is no longer required (here or
/// in another process) is released.
#[test]
fn sign_ins_release_the_identities_no_longer_waiting() {
    let mut state = State::default();
    let ended = IdentityState {
        sign_in_required: Some(StoredError::new(&session_over("a"), at(0))),
        ..IdentityState::default()
    };
    state.identities.insert("a".into(), ended.clone());
    state.identities.insert("b".into(), ended);
    state
        .identities
        .insert("c".into(), IdentityState::default());

    let (blocked, released) = plan::sign_ins(&BTreeSet::new(), &state);
    assert_eq!(blocked, BTreeSet::from(["a".to_owned(), "b".to_owned()]));
    assert!(released.is_empty());

    state.identities.get_mut("a").expect("a").sign_in_required = None;
    let (blocked, released) = plan::sign_ins(&blocked, &state);
    assert_eq!(blocked, BTreeSet::from(["b".to_owned()]));
    assert_eq!(released, ["a"]);
}

/// The next wake is the earliest of the next refresh, the next session warning and the
/// notification policy's next look; a look already due is not a reason to wake (it was just
/// made).
#[test]
fn the_next_wake_is_the_earliest_thing_due() {
    let now = at(0);
    assert_eq!(
        plan::next_wake(Some(at(30)), Some(at(20)), Some(at(25)), now),
        Some(at(20))
    );
    assert_eq!(
        plan::next_wake(Some(at(30)), None, Some(at(5)), now),
        Some(at(5))
    );
    assert_eq!(
        plan::next_wake(Some(at(30)), None, Some(now), now),
        Some(at(30))
    );
    assert_eq!(plan::next_wake(None, None, None, now), None);
}

/// A wall clock that ran more than two minutes ahead of the monotonic one between two wakes
/// is a jump (resume from sleep); the first wake, and a wake on time, are not.
#[test]
fn a_wall_clock_that_ran_ahead_is_a_jump() {
    let mono = tokio::time::Instant::now();
    let mut wakes = plan::Wakes::new(at(0), mono);
    assert_eq!(wakes.wake(at(600), mono), None, "the first wake is no jump");

    let minute = std::time::Duration::from_secs(60);
    assert_eq!(wakes.wake(at(601), mono + minute), None, "on time");
    assert_eq!(wakes.wall(), at(601));
    assert_eq!(
        wakes.wake(at(603), mono + 2 * minute),
        None,
        "one minute ahead"
    );
    assert_eq!(
        wakes.wake(at(700), mono + 3 * minute),
        Some(TimeDelta::minutes(96)),
        "slept for an hour and a half"
    );
    // The clock set back is no jump ahead.
    assert_eq!(wakes.wake(at(600), mono + 4 * minute), None);
}
