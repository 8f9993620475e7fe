//! The notification policy's tests: fixtures here, the tests beside the part they test.

mod acr_token;
mod admin;
mod client_files;
mod incidents;
mod policy;
mod tenants;
mod text;

use chrono::{DateTime, TimeDelta, Utc};

use super::*;
use crate::error::ErrorKind;
use crate::events::Event;
use crate::hint::{Action, Hint, HintWords};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
        .expect("time")
        .with_timezone(&Utc)
}

fn mins(m: i64) -> TimeDelta {
    TimeDelta::minutes(m)
}

fn login_server(registry: &str) -> String {
    format!("{registry}.azurecr.io")
}

fn failed(
    registry: &str,
    identity: Option<&str>,
    kind: ErrorKind,
    hint: Option<&str>,
    valid_until: Option<DateTime<Utc>>,
) -> Event {
    Event::RefreshFailed {
        registry: registry.into(),
        login_server: login_server(registry),
        identity: identity.map(str::to_owned),
        kind,
        message: format!("refresh of {registry} failed"),
        hint: hint.map(Hint::text),
        valid_until,
    }
}

/// A transient failure of a registry of "alice" with Docker's credential good until
/// `valid_until`.
fn offline(registry: &str, valid_until: Option<DateTime<Utc>>) -> Event {
    failed(
        registry,
        Some("alice"),
        ErrorKind::Transient,
        Some("check the network"),
        valid_until,
    )
}

fn denied(registry: &str) -> Event {
    failed(
        registry,
        Some("alice"),
        ErrorKind::Permission,
        Some("assign AcrPull"),
        Some(t0() + TimeDelta::hours(3)),
    )
}

fn refreshed(registry: &str) -> Event {
    Event::Refreshed {
        registry: registry.into(),
        login_server: login_server(registry),
        expires_at: Some(t0() + TimeDelta::hours(3)),
    }
}

fn sign_in_required(identity: &str) -> Event {
    Event::SignInRequired {
        identity: identity.into(),
        message: "AADSTS70043: the session is over".into(),
        hint: Some(Hint::text(format!(
            "run `acr-tray-cli login` as {identity}"
        ))),
    }
}

fn signed_in(identity: &str) -> Event {
    Event::SignedIn {
        identity: identity.into(),
    }
}

fn expiring(identity: &str, at: DateTime<Utc>) -> Event {
    Event::SessionExpiringSoon {
        identity: identity.into(),
        at,
    }
}

/// Says an action by its kind in angle brackets ("<sign-in>"), to see where it lands.
struct Kinds;

impl HintWords for Kinds {
    fn action(&self, action: &Action) -> String {
        let value = serde_json::to_value(action).unwrap_or_default();
        format!("<{}>", value["action"].as_str().unwrap_or_default())
    }
    fn run(&self, action: &Action) -> String {
        format!("do {}", self.action(action))
    }
    fn cli_notes(&self) -> bool {
        false
    }
}

fn policy() -> NotificationPolicy {
    NotificationPolicy::new(Incidents::default(), std::sync::Arc::new(Kinds))
}

fn admin_enabled(registry: &str, admin_mode: bool) -> Event {
    Event::AdminEnabled {
        registry: registry.into(),
        login_server: login_server(registry),
        admin_mode,
    }
}

fn admin_disabled(registry: &str, admin_mode: bool) -> Event {
    Event::AdminDisabled {
        registry: registry.into(),
        login_server: login_server(registry),
        admin_mode,
    }
}

fn regenerated(registry: &str, password: &str, written: bool) -> Event {
    Event::AdminPasswordRegenerated {
        registry: registry.into(),
        login_server: login_server(registry),
        password: password.into(),
        admin_mode: written,
        written_to_docker: written,
    }
}

/// Each part stays readable whole: its tests live here, beside it, not inside it.
#[test]
fn each_part_is_at_most_800_lines() {
    let parts = [
        ("mod.rs", include_str!("../mod.rs")),
        ("incidents.rs", include_str!("../incidents.rs")),
        ("policy.rs", include_str!("../policy.rs")),
        ("text.rs", include_str!("../text.rs")),
    ];
    for (part, source) in parts {
        let lines = source.lines().count();
        assert!(
            lines <= 800,
            "notify/{part} has {lines} lines: split it by concern"
        );
    }
}
