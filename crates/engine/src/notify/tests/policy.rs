//! The state machine: what is announced, when, how loudly, and how often.

use chrono::{Local, TimeDelta};

use super::*;

#[test]
fn transient_failures_wait_until_docker_is_at_risk_or_two_hours_passed() {
    // (name, valid_until relative to the check, age of the incident at the check, notify?)
    let cases: [(&str, Option<TimeDelta>, TimeDelta, bool); 11] = [
        ("nothing in Docker", None, TimeDelta::zero(), true),
        (
            "credential long valid",
            Some(mins(120)),
            TimeDelta::zero(),
            false,
        ),
        ("31 minutes left", Some(mins(31)), TimeDelta::zero(), false),
        (
            "exactly 30 minutes left",
            Some(mins(30)),
            TimeDelta::zero(),
            false,
        ),
        (
            "a second under 30 minutes",
            Some(mins(30) - TimeDelta::seconds(1)),
            TimeDelta::zero(),
            true,
        ),
        ("expired", Some(mins(-5)), TimeDelta::zero(), true),
        ("one hour old", Some(mins(600)), mins(60), false),
        ("exactly two hours old", Some(mins(600)), mins(120), false),
        (
            "a second over two hours",
            Some(mins(600)),
            mins(120) + TimeDelta::seconds(1),
            true,
        ),
        ("old and nothing in Docker", None, mins(180), true),
        ("old and at risk", Some(mins(1)), mins(180), true),
    ];
    for (name, valid_for, age, notify) in cases {
        let mut p = policy();
        let check = t0() + age;
        let valid_until = valid_for.map(|d| check + d);
        let first = p.on_events(t0(), &[offline("acr-a", valid_until)]);
        let later = if age > TimeDelta::zero() {
            p.on_events(check, &[offline("acr-a", valid_until)])
        } else {
            Vec::new()
        };
        let shown: Vec<_> = first.into_iter().chain(later).collect();
        assert_eq!(shown.len(), usize::from(notify), "{name}: {shown:?}");
        if let Some(n) = shown.first() {
            assert_eq!(n.incident, "registry:acr-a.azurecr.io", "{name}");
            assert_eq!(n.title, "acr-a could not refresh", "{name}");
        }
    }
}

#[test]
fn other_failures_notify_at_once_and_only_once() {
    let far = Some(t0() + TimeDelta::hours(3));
    for kind in [
        ErrorKind::Permission,
        ErrorKind::Configuration,
        ErrorKind::DockerConfig,
        ErrorKind::SignInRequired,
    ] {
        let mut p = policy();
        let event = failed("acr-a", Some("alice"), kind, Some("do this"), far);
        let shown = p.on_events(t0(), &[event.clone(), event.clone()]);
        assert_eq!(shown.len(), 1, "{kind:?}");
        let n = &shown[0];
        assert_eq!(n.covers, ["registry:acr-a.azurecr.io"]);
        assert_eq!(n.urgency, Urgency::Normal, "{kind:?}: Docker still works");
        assert!(n.body.contains("refresh of acr-a failed"), "{}", n.body);
        assert!(n.body.ends_with("do this"), "{}", n.body);
        let expected_action = if kind == ErrorKind::SignInRequired {
            NotificationAction::SignIn {
                identity: "alice".into(),
            }
        } else {
            NotificationAction::OpenSettings
        };
        assert_eq!(n.action, Some(expected_action), "{kind:?}");
        // However many more failures arrive, over however long.
        for minutes in [1, 10, 60, 600, 6000] {
            let again = p.on_events(t0() + mins(minutes), std::slice::from_ref(&event));
            assert!(again.is_empty(), "{kind:?} after {minutes} min: {again:?}");
        }
    }
}

#[test]
fn urgency_follows_what_docker_still_has() {
    let cases = [
        ("far", Some(t0() + mins(120)), Urgency::Normal),
        ("soon", Some(t0() + mins(29)), Urgency::Critical),
        ("gone", Some(t0() - mins(1)), Urgency::Critical),
        ("nothing", None, Urgency::Critical),
    ];
    for (name, valid_until, urgency) in cases {
        let mut p = policy();
        let event = failed("acr-a", None, ErrorKind::Configuration, None, valid_until);
        let shown = p.on_events(t0(), &[event]);
        assert_eq!(shown.len(), 1, "{name}");
        assert_eq!(shown[0].urgency, urgency, "{name}");
    }
}

#[test]
fn the_body_says_how_long_docker_keeps_working() {
    let mut p = policy();
    let until = t0() + mins(20);
    let shown = p.on_events(t0(), &[offline("acr-a", Some(until))]);
    let local = until.with_timezone(&Local).format("%H:%M").to_string();
    assert_eq!(
        shown[0].body,
        format!(
            "refresh of acr-a failed\nDocker's login still works until {local}.\ncheck the network"
        )
    );
    let mut p = policy();
    let shown = p.on_events(t0(), &[offline("acr-a", Some(t0() - mins(1)))]);
    assert!(shown[0].body.contains("Docker's login has run out."));
}

#[test]
fn a_sign_in_covers_the_registries_of_its_identity() {
    // Whatever the order within the batch.
    let orders = [
        vec![
            sign_in_required("alice"),
            denied("acr-a"),
            offline("acr-b", None),
        ],
        vec![
            denied("acr-a"),
            offline("acr-b", None),
            sign_in_required("alice"),
        ],
    ];
    for events in orders {
        let mut p = policy();
        let shown = p.on_events(t0(), &events);
        assert_eq!(shown.len(), 1, "{shown:?}");
        let n = &shown[0];
        assert_eq!(n.incident, "identity:alice");
        assert_eq!(n.covers, ["identity:alice"]);
        assert_eq!(n.title, "alice must sign in again");
        assert_eq!(n.body, "run `acr-tray-cli login` as alice");
        assert_eq!(n.urgency, Urgency::Critical);
        assert_eq!(
            n.action,
            Some(NotificationAction::SignIn {
                identity: "alice".into()
            })
        );
        // More failures and repeated sign-in-required events stay covered.
        let later = p.on_events(
            t0() + TimeDelta::hours(5),
            &[
                sign_in_required("alice"),
                denied("acr-a"),
                offline("acr-b", None),
            ],
        );
        assert!(later.is_empty(), "{later:?}");
    }
}

#[test]
fn other_identities_are_not_covered() {
    let mut p = policy();
    let bobs = failed(
        "acr-b",
        Some("bob"),
        ErrorKind::Permission,
        None,
        Some(t0() + mins(120)),
    );
    let shown = p.on_events(t0(), &[sign_in_required("alice"), bobs]);
    assert_eq!(shown.len(), 1, "coalesced: {shown:?}");
    let n = &shown[0];
    assert_eq!(n.covers, ["identity:alice", "registry:acr-b.azurecr.io"]);
    assert!(n.incident.starts_with("batch:"), "{}", n.incident);
    assert_eq!(n.title, "ACR Tray needs attention");
    assert_eq!(
        n.body,
        "alice must sign in again.\nacr-b could not refresh.\nOpen ACR Tray for the details."
    );
    assert_eq!(n.urgency, Urgency::Critical);
    assert_eq!(
        n.action,
        Some(NotificationAction::SignIn {
            identity: "alice".into()
        })
    );
}

#[test]
fn a_batch_of_new_incidents_is_one_notification() {
    let mut p = policy();
    let shown = p.on_events(t0(), &[denied("acr-a"), denied("acr-b"), denied("acr-c")]);
    assert_eq!(shown.len(), 1, "{shown:?}");
    let n = &shown[0];
    assert_eq!(n.title, "3 registries could not refresh");
    assert_eq!(
        n.body,
        "3 registries could not refresh: acr-a, acr-b, acr-c.\nassign AcrPull"
    );
    assert_eq!(n.urgency, Urgency::Normal);
    assert_eq!(n.action, Some(NotificationAction::OpenSettings));
    assert_eq!(
        n.covers,
        [
            "registry:acr-a.azurecr.io",
            "registry:acr-b.azurecr.io",
            "registry:acr-c.azurecr.io"
        ]
    );

    // Different hints: no hint is picked.
    let mut p = policy();
    let shown = p.on_events(t0(), &[denied("acr-a"), offline("acr-b", None)]);
    assert_eq!(shown.len(), 1);
    assert_eq!(
        shown[0].body,
        "2 registries could not refresh: acr-a, acr-b.\nOpen ACR Tray for the details."
    );
    assert_eq!(shown[0].urgency, Urgency::Critical, "acr-b has nothing");

    // Many: the list is cut short.
    let mut p = policy();
    let names = ["r1", "r2", "r3", "r4", "r5", "r6", "r7"];
    let events: Vec<Event> = names.iter().map(|n| denied(n)).collect();
    let shown = p.on_events(t0(), &events);
    assert_eq!(shown.len(), 1);
    assert_eq!(
        shown[0].body,
        "7 registries could not refresh: r1, r2, r3, r4, r5 and 2 more.\nassign AcrPull"
    );

    // Registries that all wait for the same sign-in (no sign-in incident known): sign in.
    let mut p = policy();
    let ended = |r: &str| {
        failed(
            r,
            Some("alice"),
            ErrorKind::SignInRequired,
            Some("sign in"),
            None,
        )
    };
    let shown = p.on_events(t0(), &[ended("acr-a"), ended("acr-b")]);
    assert_eq!(
        shown[0].action,
        Some(NotificationAction::SignIn {
            identity: "alice".into()
        })
    );
}

#[test]
fn no_more_than_three_in_ten_minutes_then_a_summary() {
    let mut p = policy();
    let mut shown = Vec::new();
    for (i, registry) in ["r1", "r2", "r3", "r4", "r5"].iter().enumerate() {
        let minute = i64::try_from(i).expect("small");
        shown.push(p.on_events(t0() + mins(minute), &[denied(registry)]));
    }
    let counts: Vec<usize> = shown.iter().map(Vec::len).collect();
    assert_eq!(counts, [1, 1, 1, 0, 0]);
    // The window is sliding: the first notification (at t0) still counts a second before
    // t0 + 10 min.
    let almost = p.on_events(t0() + mins(10) - TimeDelta::seconds(1), &[]);
    assert!(almost.is_empty(), "{almost:?}");
    assert_eq!(p.next_check(t0() + mins(9)), Some(t0() + mins(10)));
    // At t0 + 10 min there is room for one: both deferred registries in one summary.
    let summary = p.on_events(t0() + mins(10), &[]);
    assert_eq!(summary.len(), 1, "{summary:?}");
    assert_eq!(
        summary[0].body,
        "2 registries could not refresh: r4, r5.\nassign AcrPull"
    );
    assert_eq!(
        summary[0].covers,
        ["registry:r4.azurecr.io", "registry:r5.azurecr.io"]
    );
    assert!(p.on_events(t0() + mins(30), &[]).is_empty(), "once only");
    assert_eq!(p.next_check(t0() + mins(30)), None);
}

#[test]
fn a_deferred_problem_that_resolves_is_never_shown() {
    let mut p = policy();
    for (i, registry) in ["r1", "r2", "r3", "r4"].iter().enumerate() {
        let minute = i64::try_from(i).expect("small");
        p.on_events(t0() + mins(minute), &[denied(registry)]);
    }
    assert!(p.on_events(t0() + mins(5), &[refreshed("r4")]).is_empty());
    assert!(p.on_events(t0() + mins(20), &[]).is_empty(), "r4 is fine");
}

#[test]
fn recovery_is_announced_only_after_a_failure_was() {
    let mut p = policy();
    // acr-a is announced, acr-b stays quiet (Docker's credential is good for hours).
    let shown = p.on_events(
        t0(),
        &[denied("acr-a"), offline("acr-b", Some(t0() + mins(180)))],
    );
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].covers, ["registry:acr-a.azurecr.io"]);
    let back = p.on_events(t0() + mins(30), &[refreshed("acr-a"), refreshed("acr-b")]);
    assert_eq!(back.len(), 1, "{back:?}");
    let n = &back[0];
    assert_eq!(
        n.incident, "registry:acr-a.azurecr.io",
        "replaces the failure's"
    );
    assert_eq!(n.title, "acr-a is logged in again");
    assert_eq!(n.body, "Docker is logged in to acr-a.azurecr.io again.");
    assert_eq!(n.urgency, Urgency::Normal);
    assert_eq!(n.action, None);
    assert!(p.incidents().open.is_empty());
    assert!(p.incidents().recovered.is_empty());
    // Recovered (with failing_since) closes just the same, and only once.
    assert!(
        p.on_events(
            t0() + mins(31),
            &[Event::Recovered {
                registry: "acr-a".into(),
                login_server: login_server("acr-a"),
                failing_since: t0(),
            }]
        )
        .is_empty()
    );
}

#[test]
fn recoveries_are_coalesced() {
    let mut p = policy();
    p.on_events(t0(), &[denied("acr-a"), denied("acr-b"), denied("acr-c")]);
    let back = p.on_events(
        t0() + mins(15),
        &[
            refreshed("acr-a"),
            Event::Recovered {
                registry: "acr-b".into(),
                login_server: login_server("acr-b"),
                failing_since: t0(),
            },
        ],
    );
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].title, "Logged in again");
    assert_eq!(back[0].body, "acr-a and acr-b are logged in again.");
    assert!(back[0].incident.starts_with("batch:"));
    let back = p.on_events(t0() + mins(16), &[refreshed("acr-c")]);
    assert_eq!(back[0].title, "acr-c is logged in again");
}

#[test]
fn signing_in_closes_the_identity_and_what_it_covered() {
    let mut p = policy();
    let ended = failed(
        "acr-a",
        Some("alice"),
        ErrorKind::SignInRequired,
        Some("sign in"),
        None,
    );
    let shown = p.on_events(t0(), &[sign_in_required("alice"), ended]);
    assert_eq!(shown.len(), 1);
    let back = p.on_events(t0() + mins(60), &[signed_in("alice")]);
    assert_eq!(back.len(), 1, "{back:?}");
    assert_eq!(back[0].incident, "identity:alice");
    assert_eq!(back[0].title, "alice is signed in again");
    assert!(p.incidents().open.is_empty(), "{:?}", p.incidents().open);
    // The registry then refreshes: nothing was shown for it, so nothing more.
    assert!(
        p.on_events(t0() + mins(61), &[refreshed("acr-a")])
            .is_empty()
    );
}

#[test]
fn a_registry_announced_before_the_sign_in_incident_still_recovers() {
    let mut p = policy();
    assert_eq!(p.on_events(t0(), &[denied("acr-a")]).len(), 1);
    assert_eq!(
        p.on_events(t0() + mins(30), &[sign_in_required("alice")])
            .len(),
        1
    );
    let back = p.on_events(t0() + mins(60), &[signed_in("alice"), refreshed("acr-a")]);
    assert_eq!(back.len(), 1);
    assert_eq!(
        back[0].body,
        "alice is signed in again. acr-a is logged in again."
    );
}

#[test]
fn a_deferred_recovery_is_taken_back_when_it_fails_again() {
    let mut p = policy();
    p.on_events(t0(), &[denied("r1")]);
    p.on_events(t0() + mins(1), &[denied("r2")]);
    p.on_events(t0() + mins(2), &[denied("r3")]);
    // r1 recovers while the cap is full, then fails again before the recovery was shown.
    assert!(p.on_events(t0() + mins(3), &[refreshed("r1")]).is_empty());
    assert!(
        p.incidents()
            .recovered
            .contains_key("registry:r1.azurecr.io")
    );
    assert!(p.on_events(t0() + mins(4), &[denied("r1")]).is_empty());
    assert!(p.incidents().recovered.is_empty());
    assert!(p.incidents().open["registry:r1.azurecr.io"].shown);
    assert_eq!(p.incidents().open["registry:r1.azurecr.io"].since, t0());
    // Nothing is owed: no flapping notifications later either.
    assert!(p.on_events(t0() + mins(30), &[]).is_empty());
}

#[test]
fn with_room_for_one_problems_and_recoveries_share_a_summary() {
    let mut p = policy();
    p.on_events(t0(), &[denied("r1")]);
    p.on_events(t0() + mins(5), &[denied("r2")]);
    p.on_events(t0() + mins(6), &[denied("r3")]);
    assert!(
        p.on_events(t0() + mins(7), &[refreshed("r2"), denied("r4")])
            .is_empty()
    );
    // At t0 + 10 min only the first has left the window.
    let shown = p.on_events(t0() + mins(10), &[]);
    assert_eq!(shown.len(), 1, "{shown:?}");
    let n = &shown[0];
    assert!(n.incident.starts_with("batch:"));
    assert_eq!(n.title, "r4 could not refresh");
    assert!(
        n.body
            .ends_with("\nDocker is logged in to r2.azurecr.io again."),
        "{}",
        n.body
    );
    assert_eq!(
        n.covers,
        ["registry:r4.azurecr.io", "registry:r2.azurecr.io"]
    );
    assert!(p.incidents().recovered.is_empty());
    // With room for two, they come separately.
    let mut p = policy();
    p.on_events(t0(), &[denied("r1")]);
    let shown = p.on_events(t0() + mins(1), &[refreshed("r1"), denied("r2")]);
    assert_eq!(shown.len(), 2);
    assert_eq!(shown[0].title, "r2 could not refresh");
    assert_eq!(shown[1].title, "r1 is logged in again");
}

#[test]
fn a_session_warning_comes_once_per_expected_time() {
    let mut p = policy();
    let at = t0() + mins(125);
    let shown = p.on_events(t0(), &[expiring("alice", at)]);
    assert_eq!(shown.len(), 1);
    let n = &shown[0];
    let local = at.with_timezone(&Local).format("%H:%M").to_string();
    assert_eq!(n.incident, "session:alice");
    assert_eq!(n.title, "Sign-in needed soon for alice");
    assert_eq!(
        n.body,
        format!("Sign-in will be needed around {local} — sign in now?")
    );
    assert_eq!(n.urgency, Urgency::Normal);
    assert_eq!(
        n.action,
        Some(NotificationAction::SignIn {
            identity: "alice".into()
        })
    );
    // The same expected time again (also a few seconds off): nothing.
    assert!(
        p.on_events(
            t0() + mins(10),
            &[
                expiring("alice", at),
                expiring("alice", at + TimeDelta::seconds(59))
            ]
        )
        .is_empty()
    );
    // A new expected time: a new warning.
    let later = at + mins(60);
    assert_eq!(
        p.on_events(t0() + mins(20), &[expiring("alice", later)])
            .len(),
        1
    );
    // Signing in closes it silently; the next session warns again.
    assert!(
        p.on_events(t0() + mins(30), &[signed_in("alice")])
            .is_empty()
    );
    assert!(p.incidents().open.is_empty());
    assert_eq!(
        p.on_events(t0() + mins(31), &[expiring("alice", later)])
            .len(),
        1
    );
}

#[test]
fn a_session_that_ended_replaces_its_warning() {
    let mut p = policy();
    p.on_events(t0(), &[expiring("alice", t0() + mins(60))]);
    let shown = p.on_events(t0() + mins(61), &[sign_in_required("alice")]);
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].incident, "identity:alice");
    assert!(!p.incidents().open.contains_key("session:alice"));
    // While the sign-in is required, warnings about the old session mean nothing.
    assert!(
        p.on_events(t0() + mins(62), &[expiring("alice", t0() + mins(60))])
            .is_empty()
    );
    assert!(!p.incidents().open.contains_key("session:alice"));
}

#[test]
fn a_snoozed_incident_may_come_back_once_after_the_snooze() {
    let mut p = policy();
    let shown = p.on_events(t0(), &[sign_in_required("alice")]);
    p.snooze(&shown[0].incident, t0() + mins(60));
    for minute in [1, 30, 59] {
        let during = p.on_events(t0() + mins(minute), &[sign_in_required("alice")]);
        assert!(during.is_empty(), "{minute}: {during:?}");
    }
    assert_eq!(p.next_check(t0() + mins(59)), Some(t0() + mins(60)));
    let after = p.on_events(t0() + mins(60), &[]);
    assert_eq!(after.len(), 1, "once more");
    assert_eq!(after[0].incident, "identity:alice");
    assert!(
        p.on_events(t0() + mins(90), &[sign_in_required("alice")])
            .is_empty()
    );
}

#[test]
fn snoozing_a_batch_snoozes_everything_it_announced() {
    let mut p = policy();
    let shown = p.on_events(t0(), &[denied("acr-a"), denied("acr-b")]);
    let batch = shown[0].incident.clone();
    p.snooze(&batch, t0() + mins(120));
    // Recovering while snoozed shows nothing.
    assert!(
        p.on_events(t0() + mins(30), &[refreshed("acr-a")])
            .is_empty()
    );
    assert!(p.on_events(t0() + mins(119), &[denied("acr-b")]).is_empty());
    let after = p.on_events(t0() + mins(120), &[]);
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].covers, ["registry:acr-b.azurecr.io"]);
}

#[test]
fn snoozing_an_unknown_incident_is_harmless() {
    let mut p = policy();
    p.on_events(t0(), &[denied("acr-a")]);
    let before = p.incidents().clone();
    p.snooze("registry:nowhere.azurecr.io", t0() + mins(60));
    p.snooze("", t0() + mins(60));
    p.snooze("batch:999", t0() + mins(60));
    assert_eq!(p.incidents(), &before);
    let mut empty = policy();
    empty.snooze("identity:alice", t0() + mins(60));
    assert_eq!(empty.incidents(), &Incidents::default());
    assert_eq!(empty.on_events(t0(), &[sign_in_required("alice")]).len(), 1);
}

#[test]
fn next_check_names_the_moment_a_quiet_failure_becomes_due() {
    let mut p = policy();
    assert_eq!(p.next_check(t0()), None);
    let valid_until = t0() + mins(100);
    assert!(
        p.on_events(t0(), &[offline("acr-a", Some(valid_until))])
            .is_empty()
    );
    let check = p.next_check(t0()).expect("a time");
    assert_eq!(check, valid_until - AT_RISK + TimeDelta::seconds(1));
    assert!(p.on_events(check - TimeDelta::seconds(1), &[]).is_empty());
    assert_eq!(p.on_events(check, &[]).len(), 1);
    assert_eq!(p.next_check(check), None);
    // Two hours of quiet come first when Docker's credential lasts longer.
    let mut p = policy();
    assert!(
        p.on_events(t0(), &[offline("acr-a", Some(t0() + mins(600)))])
            .is_empty()
    );
    assert_eq!(
        p.next_check(t0()),
        Some(t0() + QUIET_FOR + TimeDelta::seconds(1))
    );
}

#[test]
fn hints_are_said_in_the_words_of_the_shell_that_shows_them() {
    let hint = Hint::text("sign in again with ")
        .with(Action::sign_in("alice"))
        .cli_note(" (add a flag)")
        .then(", or ")
        .run(Action::DoctorFix);
    let mut p = policy();
    let shown = p.on_events(
        t0(),
        &[Event::SignInRequired {
            identity: "alice".into(),
            message: "the session is over".into(),
            hint: Some(hint.clone()),
        }],
    );
    assert_eq!(
        shown[0].body,
        "sign in again with <sign-in>, or do <doctor-fix>"
    );
    // The same hint shared by several registries.
    let mut p = policy();
    let ended = |r: &str| Event::RefreshFailed {
        registry: r.into(),
        login_server: login_server(r),
        identity: Some("bob".into()),
        kind: ErrorKind::Permission,
        message: "denied".into(),
        hint: Some(hint.clone()),
        valid_until: None,
    };
    let shown = p.on_events(t0(), &[ended("acr-a"), ended("acr-b")]);
    assert_eq!(
        shown[0].body,
        "2 registries could not refresh: acr-a, acr-b.\nsign in again with <sign-in>, or do <doctor-fix>"
    );
}

#[test]
fn a_hint_that_says_nothing_in_these_words_is_left_out() {
    // Advice only the CLI shows says nothing in words that leave it out (Kinds does).
    let cli_only = Hint::none().cli_note("(add --device-code without a browser)");
    let mut p = policy();
    let shown = p.on_events(
        t0(),
        &[Event::SignInRequired {
            identity: "alice".into(),
            message: "the session is over".into(),
            hint: Some(cli_only.clone()),
        }],
    );
    assert_eq!(
        shown[0].body,
        "Sign in again as alice to keep Docker logged in."
    );
    let mut p = policy();
    let shown = p.on_events(
        t0(),
        &[failed(
            "acr-a",
            None,
            ErrorKind::Permission,
            None,
            Some(t0() + TimeDelta::hours(3)),
        )],
    );
    let without = shown[0].body.clone();
    let mut p = policy();
    let mut denied = failed(
        "acr-a",
        None,
        ErrorKind::Permission,
        None,
        Some(t0() + TimeDelta::hours(3)),
    );
    if let Event::RefreshFailed { hint, .. } = &mut denied {
        *hint = Some(cli_only.clone());
    }
    let shown = p.on_events(
        t0(),
        &[denied.clone(), {
            let mut b = denied.clone();
            if let Event::RefreshFailed {
                registry,
                login_server,
                ..
            } = &mut b
            {
                *registry = "acr-b".into();
                *login_server = super::login_server("acr-b");
            }
            b
        }],
    );
    assert_eq!(
        shown[0].body,
        "2 registries could not refresh: acr-a, acr-b.\nOpen ACR Tray for the details."
    );
    let mut p = policy();
    let shown_one = p.on_events(t0(), &[denied]);
    assert_eq!(shown_one[0].body, without, "no empty line for the hint");
}
