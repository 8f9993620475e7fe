use super::*;
use crate::azure::arm::TokenPasswordExpiry;
use crate::store::config::TokenPassword;

fn registry(held: Option<TokenPassword>) -> RegistryConfig {
    RegistryConfig {
        name: "team".into(),
        login_server: crate::azure::login_server::HostPort::parse("team.azurecr.io").expect("host"),
        identity: Some("reader".into()),
        auth: RegistryAuth::AcrToken,
        admin_username: None,
        acr_token: Some("pull-token".into()),
        acr_token_password: held,
        arm_id: None,
        trusted_custom_domain: false,
        tenant: None,
    }
}

fn info(enabled: bool, expiries: &[(TokenPassword, Option<DateTime<Utc>>)]) -> AcrTokenInfo {
    AcrTokenInfo {
        enabled: Some(enabled),
        passwords: expiries
            .iter()
            .map(|(name, expiry)| TokenPasswordExpiry {
                name: *name,
                expiry: *expiry,
            })
            .collect(),
    }
}

/// `(password, within_days)` of each expiry warning, and whether "disabled" was among them.
fn said(events: &[Event]) -> (Vec<(String, u32)>, bool) {
    let mut warnings = Vec::new();
    let mut disabled = false;
    for e in events {
        match e {
            Event::AcrTokenPasswordExpiring {
                password,
                within_days,
                ..
            } => warnings.push((password.clone(), *within_days)),
            Event::AcrTokenDisabled { .. } => disabled = true,
            other => panic!("{other:?}"),
        }
    }
    (warnings, disabled)
}

/// Runs the watch's rules over `steps` (time, what ARM says), each from the state the one
/// before left.
fn run(
    reg: &RegistryConfig,
    steps: &[(DateTime<Utc>, AcrTokenInfo)],
) -> Vec<(Vec<(String, u32)>, bool)> {
    let mut state = AcrTokenWatchState::default();
    steps
        .iter()
        .map(|(now, info)| {
            let (next, events) = evaluate(reg, "pull-token", state.clone(), info, *now);
            state = next;
            said(&events)
        })
        .collect()
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).expect("time")
}

#[test]
fn each_threshold_once_and_a_new_expiry_starts_again() {
    let day = TimeDelta::days(1);
    let expiry = t0() + day * 20;
    let p1 = |at| info(true, &[(TokenPassword::Password1, Some(at))]);
    let got = run(
        &registry(None),
        &[
            (t0(), p1(expiry)),                         // 20 days: nothing
            (expiry - day * 14, p1(expiry)),            // 14 days: warned
            (expiry - day * 14 + day / 2, p1(expiry)),  // again: nothing
            (expiry - day, p1(expiry)),                 // 1 day: warned
            (expiry - day / 2, p1(expiry)),             // again: nothing
            (expiry + day, p1(expiry)),                 // expired: nothing
            (expiry + day, p1(expiry + day * 30)),      // regenerated: nothing yet
            (expiry + day * 17, p1(expiry + day * 30)), // 13 days: warned again
        ],
    );
    let none = (vec![], false);
    let w = |d| (vec![("password1".to_owned(), d)], false);
    assert_eq!(
        got,
        vec![
            none.clone(),
            w(14),
            none.clone(),
            w(1),
            none.clone(),
            none.clone(),
            none,
            w(14)
        ]
    );
}

#[test]
fn a_first_read_within_a_day_warns_once_with_the_nearest_threshold() {
    let now = t0();
    let soon = info(
        true,
        &[(TokenPassword::Password2, Some(now + TimeDelta::hours(5)))],
    );
    let got = run(&registry(None), &[(now, soon.clone()), (now, soon)]);
    assert_eq!(
        got,
        vec![(vec![("password2".to_owned(), 1)], false), (vec![], false)]
    );
}

#[test]
fn the_held_password_only_when_known_else_every_expiring_one() {
    let now = t0();
    let both = info(
        true,
        &[
            (TokenPassword::Password1, Some(now + TimeDelta::days(10))),
            (TokenPassword::Password2, Some(now + TimeDelta::days(3))),
        ],
    );
    assert_eq!(
        run(&registry(None), &[(now, both.clone())]),
        vec![(
            vec![("password1".to_owned(), 14), ("password2".to_owned(), 14)],
            false
        )]
    );
    assert_eq!(
        run(&registry(Some(TokenPassword::Password2)), &[(now, both)]),
        vec![(vec![("password2".to_owned(), 14)], false)]
    );
}

#[test]
fn disabled_is_said_once_and_again_after_it_was_enabled() {
    let now = t0();
    let soon = Some(now + TimeDelta::days(5));
    let on = info(true, &[(TokenPassword::Password1, soon)]);
    let off = info(false, &[(TokenPassword::Password1, soon)]);
    let got = run(
        &registry(None),
        &[
            (now, off.clone()),
            (now, off.clone()),
            (now, on.clone()),
            (now, on),
            (now, off),
        ],
    );
    assert_eq!(
        got,
        vec![
            (vec![], true),
            (vec![], false),
            // Enabled again: the expiry warning it held back is due now.
            (vec![("password1".to_owned(), 14)], false),
            (vec![], false),
            (vec![], true),
        ]
    );
}

#[test]
fn a_password_without_a_readable_expiry_is_kept_and_never_warned() {
    let now = t0();
    let (state, events) = evaluate(
        &registry(None),
        "pull-token",
        AcrTokenWatchState::default(),
        &info(true, &[(TokenPassword::Password1, None)]),
        now,
    );
    assert!(events.is_empty());
    assert_eq!(state.soonest_expiry(), None);
    assert_eq!(state.passwords.len(), 1);
}
