//! Tests of `acr`.

#[test]
fn the_role_assignment_mode_reads_arms_values_and_anything_else_as_legacy() {
    use RoleAssignmentMode::*;
    assert_eq!(
        RoleAssignmentMode::from_arm("AbacRepositoryPermissions"),
        AbacRepositoryPermissions
    );
    assert_eq!(
        RoleAssignmentMode::from_arm("abacrepositorypermissions"),
        AbacRepositoryPermissions
    );
    for other in [
        "LegacyRegistryPermissions",
        "",
        "rbac-abac",
        "Abac\u{1b}[2J",
        &"x".repeat(100_000),
    ] {
        assert_eq!(
            RoleAssignmentMode::from_arm(other),
            LegacyRegistryPermissions
        );
    }
}

#[test]
fn roles_are_named_after_the_entra_repository_roles_on_an_abac_registry() {
    let abac = Some(RoleAssignmentMode::AbacRepositoryPermissions);
    let legacy = Some(RoleAssignmentMode::LegacyRegistryPermissions);
    assert_eq!(RegistryRole::AcrPull.name_in(abac), ROLE_REPOSITORY_READER);
    assert_eq!(RegistryRole::AcrPush.name_in(abac), ROLE_REPOSITORY_WRITER);
    assert_eq!(
        RegistryRole::Owner.name_in(abac),
        ROLE_REPOSITORY_CONTRIBUTOR
    );
    for role in [
        RegistryRole::AcrPull,
        RegistryRole::AcrPush,
        RegistryRole::Owner,
        RegistryRole::None,
    ] {
        assert_eq!(role.name_in(legacy), role.name());
        assert_eq!(role.name_in(None), role.name());
    }
}

#[test]
fn roles_from_permission_actions() {
    use super::RegistryRole;
    let role = |a: &[&str]| {
        RegistryRole::from_actions(&a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
    };
    assert_eq!(role(&["read"]), RegistryRole::AcrPull);
    assert_eq!(role(&["read", "write"]), RegistryRole::AcrPush);
    assert_eq!(role(&["*"]), RegistryRole::Owner);
    assert_eq!(role(&[]), RegistryRole::None);
    assert_eq!(role(&["delete"]), RegistryRole::None);
}

#[test]
fn an_answer_that_is_not_json_says_what_it_was() {
    let err = serde_json::from_slice::<serde_json::Value>(b"<html>").expect_err("not JSON");
    let html = super::unparsable(Some("text/html; charset=utf-8"), &err);
    assert!(
        html.contains("text/html") && html.contains("captive portal"),
        "{html}"
    );
    for ct in [Some("application/json"), None] {
        let cut = super::unparsable(ct, &err);
        assert!(cut.starts_with("malformed response ("), "{cut}");
    }
}

use super::*;

fn server() -> HostPort {
    HostPort::parse("myreg.azurecr.io").expect("host")
}

fn allow() -> TokenAllowList {
    TokenAllowList::new(HostPort::parse_suffix("azurecr.io").expect("suffix"), [])
}

#[test]
fn parses_acr_challenge() {
    let c = parse_challenge(
            r#"Bearer realm="https://myreg.azurecr.io/oauth2/token",service="myreg.azurecr.io",scope="repository:a/b:pull,push""#,
            &server(),
            &allow(),
        )
        .expect("challenge");
    assert_eq!(c.service, "myreg.azurecr.io");
    assert_eq!(
        c.exchange_url().as_str(),
        "https://myreg.azurecr.io/oauth2/exchange"
    );
}

#[test]
fn refuses_realms_that_would_leak_tokens() {
    for header in [
        r#"Bearer realm="https://evil.example/oauth2/token",service="myreg.azurecr.io""#,
        r#"Bearer realm="http://myreg.azurecr.io/oauth2/token",service="myreg.azurecr.io""#,
        r#"Basic realm="x""#,
        r#"Bearer service="myreg.azurecr.io""#,
    ] {
        assert!(
            parse_challenge(header, &server(), &allow()).is_err(),
            "{header}"
        );
    }
}

#[test]
fn params_with_quoted_commas() {
    let p = parse_params(r#"realm="a,b", service=x ,scope="c\"d""#);
    assert_eq!(
        p,
        vec![
            ("realm".into(), "a,b".into()),
            ("service".into(), "x".into()),
            ("scope".into(), "c\"d".into())
        ]
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// A parameter value as a server would quote it (`\` and `"` escaped).
    fn quoted(v: &str) -> String {
        format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
    }

    proptest! {
        #![proptest_config(crate::proptest_config(512))]

        #[test]
        fn any_challenge_header_is_parsed_or_refused(header in any::<String>()) {
            let _ = parse_challenge(&header, &server(), &allow());
            let _ = parse_params(&header);
        }

        #[test]
        fn bearer_headers_with_hostile_parts(
            scheme in prop_oneof![
                Just("Bearer".to_owned()),
                Just("bearer".to_owned()),
                Just("Basic".to_owned()),
                ".{0,8}",
            ],
            realm in prop_oneof![
                Just("https://myreg.azurecr.io/oauth2/token".to_owned()),
                Just("https://evil.example/oauth2/token".to_owned()),
                "https?://[a-z.:@0-9\\[\\]]{0,30}/.{0,10}",
                ".{0,40}",
            ],
            service in ".{0,30}",
            extra in proptest::collection::vec(("[a-zA-Z]{0,6}", ".{0,20}"), 0..4),
        ) {
            let mut header = format!("{scheme} realm={},service={}", quoted(&realm), quoted(&service));
            for (k, v) in &extra {
                header.push_str(&format!(",{k}={}", quoted(v)));
            }
            if let Ok(c) = parse_challenge(&header, &server(), &allow()) {
                // Only an HTTPS realm on the registry (or an allowed host) is accepted.
                prop_assert_eq!(c.realm.scheme(), "https");
                let host = c.realm.host_str().unwrap_or_default().to_owned();
                prop_assert!(host == "myreg.azurecr.io" || allow().check(&host).is_ok(), "{}", host);
            }
        }

        /// Printing parameters as a server quotes them and parsing them back gives them again.
        #[test]
        fn params_round_trip(
            params in proptest::collection::vec(("[a-zA-Z][a-zA-Z0-9_-]{0,10}", ".{0,30}"), 0..6),
        ) {
            let params: Vec<(String, String)> = params
                .into_iter()
                .map(|(k, v)| (k, v.trim().to_owned()))
                .collect();
            let printed = params
                .iter()
                .map(|(k, v)| format!("{k}={}", quoted(v)))
                .collect::<Vec<_>>()
                .join(", ");
            prop_assert_eq!(parse_params(&printed), params);
        }

        #[test]
        fn any_acr_error_body_gives_a_message(body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = with_message(&body);
        }

        #[test]
        fn structured_acr_error_bodies(
            errors in proptest::collection::vec((".{0,20}", ".{0,60}"), 0..3),
            noise in ".{0,20}",
        ) {
            let body = serde_json::json!({
                "errors": errors.iter().map(|(code, message)| serde_json::json!({
                    "code": code, "message": message, "detail": noise,
                })).collect::<Vec<_>>(),
            });
            let message = acr_message(body.to_string().as_bytes());
            // The first message, shown as a server's text is: one line, no control characters.
            prop_assert_eq!(message, errors.first().map(|e| crate::text::server_text(&e.1)).unwrap_or_default());
        }
    }
}
