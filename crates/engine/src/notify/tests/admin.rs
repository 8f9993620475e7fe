//! Admin-account news.

use super::*;

#[test]
fn each_admin_change_is_announced_once() {
    let mut p = policy();
    let shown = p.on_events(t0(), &[admin_enabled("acra", false)]);
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].title, "Admin account enabled on acra");
    assert!(shown[0].body.contains("recommend keeping it disabled"));
    assert_eq!(shown[0].urgency, Urgency::Normal);
    assert_eq!(shown[0].action, Some(NotificationAction::OpenSettings));
    // Announced: nothing more, however often the policy is asked.
    assert_eq!(p.on_events(t0() + mins(1), &[]), Vec::new());
    assert_eq!(p.next_check(t0() + mins(1)), None);

    let shown = p.on_events(t0() + mins(60), &[regenerated("acra", "password2", false)]);
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].title, "acra: admin password2 regenerated");
    assert!(shown[0].body.contains("Docker is not affected"));
    let shown = p.on_events(t0() + mins(120), &[regenerated("acrb", "password", true)]);
    assert!(
        shown[0]
            .body
            .contains("wrote the new password into Docker's config")
    );
}

#[test]
fn admin_changes_in_one_pass_share_one_notification() {
    let mut p = policy();
    let shown = p.on_events(
        t0(),
        &[
            admin_enabled("acra", false),
            admin_disabled("acrb", false),
            regenerated("acrc", "password", false),
        ],
    );
    assert_eq!(shown.len(), 1, "{shown:#?}");
    assert_eq!(shown[0].title, "Admin accounts changed: acra, acrb, acrc");
    assert!(shown[0].body.contains("Admin account disabled on acrb."));
}

#[test]
fn admin_disabled_in_admin_mode_covers_the_refresh_failure_it_causes() {
    let mut p = policy();
    let broken = failed(
        "acra",
        Some("alice"),
        ErrorKind::Configuration,
        Some("enable it"),
        None,
    );
    let shown = p.on_events(t0(), &[broken.clone(), admin_disabled("acra", true)]);
    assert_eq!(shown.len(), 1, "{shown:#?}");
    assert_eq!(shown[0].title, "acra: admin account disabled");
    assert!(shown[0].body.contains("Switch it to an Entra identity"));
    assert_eq!(shown[0].urgency, Urgency::Critical);
    assert_eq!(shown[0].action, Some(NotificationAction::OpenSettings));
    // Later passes fail the same way: nothing more.
    assert_eq!(p.on_events(t0() + mins(60), &[broken]), Vec::new());

    // Enabled again: one notification says both; no separate "logged in again".
    let shown = p.on_events(
        t0() + mins(120),
        &[refreshed("acra"), admin_enabled("acra", true)],
    );
    assert_eq!(shown.len(), 1, "{shown:#?}");
    assert_eq!(shown[0].title, "Admin account enabled on acra");
    assert!(
        shown[0]
            .body
            .contains("logged in to acra.azurecr.io with the admin account again")
    );
    assert_eq!(p.on_events(t0() + mins(121), &[]), Vec::new());
}

#[test]
fn admin_news_waits_for_the_rate_cap_and_survives_a_restart() {
    let mut p = policy();
    for (i, r) in ["acra", "acrb", "acrc"].iter().enumerate() {
        let shown = p.on_events(t0() + mins(i as i64), &[denied(r)]);
        assert_eq!(shown.len(), 1);
    }
    // The cap (3 in 10 minutes) is reached: the news waits, and is kept across a restart.
    assert_eq!(
        p.on_events(t0() + mins(3), &[admin_enabled("acrd", false)]),
        Vec::new()
    );
    assert_eq!(p.next_check(t0() + mins(3)), Some(t0() + mins(10)));
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("notifications.json");
    save_incidents(&path, p.incidents()).expect("save");
    let mut p = NotificationPolicy::new(load_incidents(&path), std::sync::Arc::new(Kinds));
    let shown = p.on_events(t0() + mins(10), &[]);
    assert_eq!(shown.len(), 1, "{shown:#?}");
    assert_eq!(shown[0].title, "Admin account enabled on acrd");
}
