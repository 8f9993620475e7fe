//! ACR-token news: a password expiring, the token disabled.

use super::*;

fn expiring(registry: &str, password: &str, within_days: u32) -> Event {
    Event::AcrTokenPasswordExpiring {
        registry: registry.into(),
        login_server: login_server(registry),
        token: "pull-token".into(),
        password: password.into(),
        expires_at: t0() + TimeDelta::days(i64::from(within_days)) - mins(30),
        within_days,
    }
}

fn token_disabled(registry: &str) -> Event {
    Event::AcrTokenDisabled {
        registry: registry.into(),
        login_server: login_server(registry),
        token: "pull-token".into(),
    }
}

#[test]
fn an_expiring_password_is_announced_once_critical_on_the_last_day() {
    let mut p = policy();
    let shown = p.on_events(t0(), &[expiring("acra", "password1", 14)]);
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].incident, "acr-token:acra.azurecr.io");
    assert_eq!(
        shown[0].title,
        "acra: token pull-token's password1 expires within 14 days"
    );
    assert!(
        shown[0]
            .body
            .contains("az acr token credential generate -r acra -n pull-token --password1"),
        "{}",
        shown[0].body
    );
    assert_eq!(shown[0].urgency, Urgency::Normal);
    assert_eq!(shown[0].action, Some(NotificationAction::OpenSettings));
    assert_eq!(p.on_events(t0() + mins(1), &[]), Vec::new());

    let shown = p.on_events(t0() + mins(60), &[expiring("acra", "password1", 1)]);
    assert_eq!(
        shown[0].title,
        "acra: token pull-token's password1 expires within a day"
    );
    assert_eq!(shown[0].urgency, Urgency::Critical);
}

#[test]
fn token_news_in_one_pass_share_one_notification_named_for_tokens() {
    let mut p = policy();
    let shown = p.on_events(
        t0(),
        &[
            expiring("acra", "password1", 14),
            expiring("acra", "password2", 14),
            token_disabled("acrb"),
        ],
    );
    assert_eq!(shown.len(), 1, "{shown:#?}");
    assert_eq!(shown[0].title, "ACR tokens need attention: acra, acrb");
    assert_eq!(shown[0].urgency, Urgency::Critical);
    let mixed = policy().on_events(
        t0(),
        &[token_disabled("acra"), admin_enabled("acrb", false)],
    );
    assert_eq!(
        mixed[0].title,
        "Admin accounts and ACR tokens changed: acra, acrb"
    );
}

#[test]
fn a_disabled_token_covers_the_refresh_failure_it_causes() {
    let mut p = policy();
    let refused = failed(
        "acra",
        None,
        ErrorKind::Permission,
        Some("check the token"),
        None,
    );
    let shown = p.on_events(t0(), &[refused.clone(), token_disabled("acra")]);
    assert_eq!(shown.len(), 1, "{shown:#?}");
    assert_eq!(shown[0].title, "acra: ACR token pull-token disabled");
    assert_eq!(shown[0].urgency, Urgency::Critical);
    // Still refused at the next passes: nothing more.
    assert_eq!(p.on_events(t0() + mins(60), &[refused]), Vec::new());
}
