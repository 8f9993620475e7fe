//! Refreshing registries in several tenants with one sign-in.

use acr_tray_tests::assert_contains;
use fake_azure::Role;

use super::Guest;

/// One device-code sign-in at home keeps a home registry and a guest tenant's registry fresh:
/// the same refresh token is redeemed at the guest tenant, and the exchange there names that
/// tenant (the fake refuses a token of another tenant).
#[test]
fn a_guests_one_sign_in_keeps_registries_in_two_tenants_fresh() {
    let g = Guest::new(1);
    let home = g.home_registry("homereg");
    let away = g.guest_registry(0, "awayreg", Role::AcrPull);
    g.add(&[&home, &away]);
    for _ in 0..2 {
        g.world.cli(&["refresh"]).expect_code(0);
        for r in [&home, &away] {
            let (user, token) = g.world.docker_auth(&r.login_server);
            assert_eq!(user, "00000000-0000-0000-0000-000000000000");
            assert!(!token.is_empty());
        }
    }
    let devicecodes = g
        .world
        .fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/devicecode"))
        .count();
    assert_eq!(devicecodes, 1, "one sign-in for both tenants");
    assert!(
        g.token_requests_at(g.tenant(0)) > 0,
        "redeemed at the guest tenant"
    );
    let status = g.world.registry_status("awayreg");
    assert_eq!(status["tenant"], g.tenant(0), "{status}");
    assert_eq!(status["lastError"], serde_json::Value::Null, "{status}");
}

/// MFA demanded by one guest tenant marks only that tenant's registries "sign-in required"
/// (the account and the home registry keep refreshing, nothing more is asked of that tenant),
/// and a sign-in to that tenant alone clears it.
#[test]
fn mfa_in_one_tenant_waits_for_a_sign_in_to_that_tenant_only() {
    let g = Guest::new(2);
    g.three_registries();

    let tenant = g.tenants[0].0.clone();
    g.demand_mfa_in_first_tenant();
    let failed = g.world.cli(&["refresh"]);
    assert_ne!(failed.code, 0, "{}", failed.stdout);
    let status = g.world.registry_status("mfareg");
    assert_eq!(status["lastError"]["kind"], "sign-in-required", "{status}");
    assert_contains(
        status["lastError"]["message"].as_str().unwrap_or_default(),
        "AADSTS50076",
    );
    assert_contains(
        &status["lastError"]["hint"].to_string(),
        &format!("acr-tray-cli login --tenant {}", tenant.id),
    );
    for name in ["homereg", "otherreg"] {
        let fine = g.world.registry_status(name);
        assert_eq!(fine["lastError"], serde_json::Value::Null, "{fine}");
    }
    let accounts = g.world.cli(&["accounts", "--json"]).expect_code(0).json();
    let account = &accounts[0];
    assert_eq!(
        account["signInRequired"],
        serde_json::Value::Null,
        "{account}"
    );
    let demanding = acr_tray_tests::element_where(&account["tenants"], "id", &tenant.id);
    assert_contains(&demanding["signInRequired"].to_string(), "AADSTS50076");

    // Nothing more is asked of that tenant until the person signs in to it.
    g.world.fake.clear_requests();
    g.world.cli(&["refresh"]);
    assert_eq!(g.token_requests_at(&tenant.id), 0);
    assert_eq!(
        g.world.registry_status("homereg")["lastError"],
        serde_json::Value::Null
    );

    // A sign-in to that tenant alone (device code at its authority) clears it.
    g.world
        .fake
        .set_device_code_auto_approve(Some((g.user.clone(), 0)));
    let out = g
        .world
        .cli(&["login", "--device-code", "--tenant", &tenant.id])
        .expect_code(0);
    assert_contains(
        &out.stdout,
        &format!("Signed in {} to tenant {}", super::UPN, tenant.id),
    );
    let accounts = g.world.cli(&["accounts", "--json"]).expect_code(0).json();
    assert_eq!(
        accounts.as_array().map(Vec::len),
        Some(1),
        "still one account"
    );
    g.world.cli(&["refresh"]).expect_code(0);
    let status = g.world.registry_status("mfareg");
    assert_eq!(status["lastError"], serde_json::Value::Null, "{status}");

    // That tenant's sign-in has its own refresh token; signing out forgets it with the rest.
    let keys = || g.world.secrets.keys();
    assert!(
        keys()
            .iter()
            .any(|k| k.starts_with("tenant-refresh-token/")),
        "{:?}",
        keys()
    );
    g.world.cli(&["logout"]).expect_code(0);
    assert!(
        !keys().iter().any(|k| k.contains("refresh-token/")),
        "{:?}",
        keys()
    );
}

/// A registry added by name in a tenant ARM does not show (AcrPull only) is tried in the
/// account's tenants once; the one that works is remembered in the settings and asked
/// directly afterwards, also by a new process.
#[test]
fn an_unlisted_registrys_tenant_is_found_once_and_remembered() {
    let g = Guest::new(2);
    let far = g.guest_registry(1, "farreg", Role::AcrPull);
    g.add(&[&far]);
    g.world.fake.clear_requests();
    g.world.cli(&["refresh"]).expect_code(0);
    let exchanges = |status: u16| {
        g.world
            .fake
            .requests()
            .iter()
            .filter(|r| r.path == "/oauth2/exchange" && r.status == status)
            .count()
    };
    assert!(
        exchanges(401) > 0,
        "the home tenant's token was refused first"
    );
    assert_eq!(exchanges(200), 1);
    let listings = g
        .world
        .fake
        .requests()
        .iter()
        .filter(|r| r.path == "/tenants")
        .count();
    assert_eq!(listings, 0, "the tenants listed at sign-in are tried");
    assert!(
        g.token_requests_at(g.tenant(0)) > 0,
        "the first guest tenant was tried"
    );
    assert_contains(
        &g.world.settings_text(),
        &format!("tenant = \"{}\"", g.tenant(1)),
    );
    let logged = g.world.home_files().into_iter().any(|(p, t)| {
        p.to_string_lossy().contains("logs") && t.contains("found the registry's tenant")
    });
    assert!(logged, "the log says which tenant was found");

    // Afterwards (each CLI run is a new process): the remembered tenant, directly.
    for _ in 0..2 {
        g.world.fake.clear_requests();
        g.world.cli(&["refresh"]).expect_code(0);
        assert_eq!(exchanges(401), 0, "no trial again");
        assert_eq!(exchanges(200), 1);
        assert_eq!(g.token_requests_at(g.tenant(0)), 0);
    }
}

/// A registry that no tenant of the account takes names the tenants tried.
#[test]
fn a_registry_no_tenant_takes_names_the_tenants_tried() {
    let g = Guest::new(1);
    g.registry_nobody_takes("nobodyreg");
    let out = g.world.cli(&["refresh"]);
    assert_ne!(out.code, 0);
    let status = g.world.registry_status("nobodyreg");
    assert_eq!(status["lastError"]["kind"], "permission", "{status}");
    // Still a refusal: what the identity may do there is recorded, and the hint says which
    // role to ask for.
    assert_eq!(status["can"], "none", "{status}");
    assert_contains(
        status["lastError"]["hint"].as_str().unwrap_or_default(),
        "assign AcrPull (pull) or AcrPush (push and pull)",
    );
    let said = format!("{}{}", out.stdout, out.stderr);
    assert_contains(
        &said,
        "the account's other tenants were tried too: Fake tenant 2 (refused)",
    );
    let remembered = format!("tenant = \"{}\"", g.tenant(0));
    assert!(
        !g.world.settings_text().contains(&remembered),
        "nothing remembered"
    );
}

/// A tenant planted in state.json that is not a GUID is never asked (it would go into token
/// URLs and file names): the trial skips it.
#[test]
fn a_planted_tenant_that_is_not_a_guid_is_never_asked() {
    let g = Guest::new(1);
    g.registry_nobody_takes("plantedreg");
    let path = g.world.home.path().join("state").join("state.json");
    let text = std::fs::read_to_string(&path).expect("state.json after sign-in");
    let mut state: serde_json::Value = serde_json::from_str(&text).expect("json");
    state["identities"][super::UPN]["tenants"]["../../evil"] =
        serde_json::json!({"displayName": "Evil"});
    std::fs::write(&path, state.to_string()).expect("plant");
    g.world.fake.clear_requests();
    g.world.cli(&["refresh"]);
    let strays: Vec<String> = g
        .world
        .fake
        .requests()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| p.contains("evil"))
        .collect();
    assert!(strays.is_empty(), "{strays:?}");
    assert!(
        g.token_requests_at(g.tenant(0)) > 0,
        "the real tenant is tried"
    );
}
