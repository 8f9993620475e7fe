//! `acr-tray-cli check`: the credential Docker holds, used as Docker would use it. Without
//! `--repository` it must get a token and pass `/v2/`; with one it reports what the registry
//! grants of pull, push and delete.

use acr_tray_tests::{World, ZERO_GUID, argv, assert_no_secrets};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use fake_azure::{RegistrySpec, Role};

/// A registry where a new service principal has `role`, refreshed into Docker's config.json.
fn refreshed(w: &World, name: &str, role: Role) -> fake_azure::Registry {
    let (_, r) = w.signed_in_registry(name, role);
    w.cli(&["refresh"]).expect_code(0);
    r
}

/// Writes a registry's `auths` entry.
fn write_entry(w: &World, login_server: &str, entry: serde_json::Value) {
    let config = serde_json::json!({ "auths": { login_server: entry } });
    std::fs::write(w.docker_config_path(), config.to_string()).unwrap();
}

fn auth(user: &str, password: &str) -> String {
    STANDARD.encode(format!("{user}:{password}"))
}

#[test]
fn without_a_repository_the_token_is_issued_and_v2_accepts_it() {
    let w = World::new();
    let r = refreshed(&w, "checkreg", Role::AcrPull);
    w.fake.clear_requests();
    let out = w.cli(&["check", "checkreg"]).expect_code(0);
    assert_message!(w, "authenticated_stdout", out.stdout);
    // Docker's way: the password form on GET /oauth2/token, then /v2/ with the bearer token;
    // nothing went to Entra or the exchange.
    let requests = w.fake.requests();
    // Every request, the credential's included, went to the registry itself.
    let host = r.login_server.split(':').next().unwrap();
    assert!(
        requests.iter().all(|q| q.host == host),
        "{:?}",
        requests.iter().map(|q| &q.host).collect::<Vec<_>>()
    );
    let asked: Vec<(String, String, u16)> = requests
        .into_iter()
        .map(|q| (q.method, q.path, q.status))
        .collect();
    assert_eq!(
        asked,
        [
            ("GET".to_owned(), "/v2/".to_owned(), 401),
            ("GET".to_owned(), "/oauth2/token".to_owned(), 200),
            ("GET".to_owned(), "/v2/".to_owned(), 200),
        ]
    );
    let token = w.docker_auth(&r.login_server).1;
    assert_no_secrets("check's output", &(out.stdout + &out.stderr), &[&token]);
}

#[test]
fn a_repository_is_granted_what_the_role_allows() {
    let w = World::new();
    w.signed_in_registries([("pullonly", Role::AcrPull), ("pushreg", Role::AcrPush)]);
    w.cli(&["refresh"]).expect_code(0);
    let pull = w.cli(&["check", "pullonly", "--repository", "team/app"]);
    let pull = pull.expect_code(0);
    assert_message!(w, "acr_pull_stdout", pull.stdout);

    let push = w
        .cli(&["check", "pushreg", "--repository", "team/app", "--json"])
        .expect_code(0);
    let json = push.json();
    assert_eq!(json["granted"], serde_json::json!(["pull", "push"]));
    assert_eq!(json["authenticated"], true);
    assert_eq!(json["repository"], "team/app");
    assert_eq!(json["username"], ZERO_GUID);
    assert_eq!(json["source"], serde_json::json!({"kind": "config-file"}));
    assert!(json["expiresAt"].is_string(), "{json:#}");
    assert!(json["error"].is_null(), "{json:#}");
    // What was asked: the whole set, once, for that repository.
    let scopes: Vec<String> = w
        .fake
        .requests()
        .into_iter()
        .filter(|q| q.path == "/oauth2/token")
        .filter_map(|q| q.scope)
        .collect();
    assert!(
        scopes.contains(&"repository:team/app:pull,push,delete".to_owned()),
        "{scopes:?}"
    );
}

#[test]
fn an_admin_account_is_checked_with_its_user_name_and_password() {
    let w = World::new();
    let (reg, user, passwords) = w.admin_registry("admincheck");
    w.cli_stdin(
        &argv::strs(&argv::registry_add_admin(&reg.name, &user)),
        &format!("{}\n", passwords[0]),
    )
    .expect_code(0);
    w.cli(&["refresh"]).expect_code(0);
    let out = w
        .cli(&["check", "admincheck", "--repository", "app"])
        .expect_code(0);
    assert_message!(w, "admin_stdout", out.stdout);
    assert_no_secrets(
        "check's output",
        &(out.stdout + &out.stderr),
        &[&passwords[0]],
    );
}

#[test]
fn no_credential_in_docker_says_to_refresh() {
    let w = World::new();
    let (_, r) = w.signed_in_registry("notyet", Role::AcrPull);
    write_entry(&w, &r.login_server, serde_json::json!({}));
    let out = w.cli(&["check", "notyet"]).expect_code(3);
    assert_message!(w, "no_credential_stderr", out.stderr);
    let json = w.cli(&["check", "notyet", "--json"]).expect_code(3).json();
    assert_eq!(json["authenticated"], false);
    assert_eq!(json["error"]["kind"], "sign-in-required");
}

#[test]
fn an_expired_credential_is_not_sent_and_says_to_refresh() {
    let w = World::new();
    let (_, r) = w.signed_in_registry("expiredreg", Role::AcrPull);
    let payload = URL_SAFE_NO_PAD.encode(r#"{"exp":1000000000,"iss":"Azure Container Registry"}"#);
    let token = format!("eyJhbGciOiJSUzI1NiJ9.{payload}.c2ln");
    write_entry(
        &w,
        &r.login_server,
        serde_json::json!({ "auth": auth(ZERO_GUID, &token) }),
    );
    w.fake.clear_requests();
    let out = w.cli(&["check", "expiredreg"]).expect_code(3);
    assert_message!(w, "expired_stderr", out.stderr);
    assert!(
        w.fake.requests().is_empty(),
        "an expired credential is not sent"
    );
    assert_no_secrets("check's output", &(out.stdout + &out.stderr), &[&token]);
}

#[test]
fn a_refused_password_is_exit_code_3_without_the_password() {
    let w = World::new();
    let (_, r) = w.signed_in_registry("refusedreg", Role::AcrPull);
    let password = "wrong-password-4d1c8e";
    write_entry(
        &w,
        &r.login_server,
        serde_json::json!({ "auth": auth("someadmin", password) }),
    );
    let out = w
        .cli(&["check", "refusedreg", "--repository", "app"])
        .expect_code(3);
    assert_message!(w, "refused_stderr", out.stderr);
    assert_no_secrets("check's output", &(out.stdout + &out.stderr), &[password]);
}

#[test]
fn an_identity_token_is_traded_as_docker_trades_it() {
    let w = World::new();
    let r = refreshed(&w, "idtoken", Role::AcrPush);
    let (_, token) = w.docker_auth(&r.login_server);
    write_entry(
        &w,
        &r.login_server,
        serde_json::json!({ "auth": auth(ZERO_GUID, ""), "identitytoken": token }),
    );
    w.fake.clear_requests();
    let json = w
        .cli(&["check", "idtoken", "--repository", "app", "--json"])
        .expect_code(0)
        .json();
    assert_eq!(json["granted"], serde_json::json!(["pull", "push"]));
    let posts: Vec<_> = w
        .fake
        .requests()
        .into_iter()
        .filter(|q| q.path == "/oauth2/token")
        .map(|q| (q.method, q.grant_type))
        .collect();
    assert_eq!(
        posts,
        [("POST".to_owned(), Some("refresh_token".to_owned()))]
    );
}

#[test]
fn acr_trays_own_helper_answers_from_its_cache() {
    let w = World::new();
    refreshed(&w, "ownhelper", Role::AcrPull);
    w.cli(&["docker", "use-helper"]).expect_code(0);
    let out = w.cli(&["check", "ownhelper"]).expect_code(0);
    assert_message!(w, "own_helper_stdout", out.stdout);
}

#[test]
fn an_unknown_registry_is_a_usage_error_and_a_bad_repository_is_refused() {
    let w = World::new();
    let out = w.cli(&["check", "nosuch"]).expect_code(2);
    assert_message!(w, "unknown_registry_stderr", out.stderr);
    refreshed(&w, "badrepo", Role::AcrPull);
    w.fake.clear_requests();
    let out = w
        .cli(&["check", "badrepo", "--repository", "app:latest"])
        .expect_code(2);
    assert_message!(w, "bad_repository_stderr", out.stderr);
    assert!(w.fake.requests().is_empty());
}

#[test]
fn a_refused_acr_token_says_to_refresh() {
    let w = World::new();
    let (_, r) = w.signed_in_registry("forgedreg", Role::AcrPull);
    // Not yet expired, but not the registry's: its signature does not hold.
    let payload = URL_SAFE_NO_PAD.encode(r#"{"exp":4102444800,"grant_type":"refresh_token"}"#);
    let token = format!("eyJhbGciOiJSUzI1NiJ9.{payload}.c2ln");
    write_entry(
        &w,
        &r.login_server,
        serde_json::json!({ "auth": auth(ZERO_GUID, &token) }),
    );
    let out = w.cli(&["check", "forgedreg"]).expect_code(3);
    assert_message!(w, "refused_token_stderr", out.stderr);
    assert_no_secrets("check's output", &(out.stdout + &out.stderr), &[&token]);
}

/// On a registry with repository permissions (ABAC), a role on one repository: `check` says
/// pull there, and nothing on another repository, with exit code 1.
#[test]
fn a_repository_the_identity_has_no_permission_on_is_granted_nothing() {
    let w = World::new();
    let sp = w.service_principal();
    let reg = w.fake.add_registry(
        RegistrySpec::new("abaccheck")
            .role_assignment_mode(fake_azure::RoleAssignmentMode::AbacRepositoryPermissions),
    );
    w.fake.assign_repository_role(
        &reg.name,
        &sp.object_id,
        Role::RepositoryReader,
        fake_azure::RepositoryCondition::Equals("team/app".into()),
    );
    w.login_and_add(&sp, &[&reg]);
    w.cli(&["refresh"]).expect_code(0);

    let there = w
        .cli(&["check", "abaccheck", "--repository", "team/app", "--json"])
        .expect_code(0);
    assert_eq!(there.json()["granted"], serde_json::json!(["pull"]));

    let elsewhere = w.cli(&["check", "abaccheck", "--repository", "other/app"]);
    let elsewhere = elsewhere.expect_code(1);
    assert_message!(w, "nothing_granted_stdout", elsewhere.stdout);
    assert!(elsewhere.stderr.is_empty(), "{}", elsewhere.stderr);
}
