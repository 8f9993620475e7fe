//! Registries with repository permissions (ABAC, docs/protocol.md#acr-abac): the registry's
//! `roleAssignmentMode` is read in ARM, status and discovery mark such registries and name what
//! the identity may do in Entra's repository roles, and a refused sign-in says that AcrPull and
//! AcrPush are not honoured there and which role to ask for. Legacy registries read as before.

use acr_tray_tests::World;
use fake_azure::{RegistrySpec, RepositoryCondition, Role, RoleAssignmentMode};

fn abac(name: &str) -> RegistrySpec {
    RegistrySpec::new(name).role_assignment_mode(RoleAssignmentMode::AbacRepositoryPermissions)
}

/// `check NAME --repository REPO --json`, which must succeed.
fn check_json(w: &World, name: &str, repository: &str) -> serde_json::Value {
    w.cli(&["check", name, "--repository", repository, "--json"])
        .expect_code(0)
        .json()
}

/// A world and a service principal, not signed in yet.
fn world() -> (World, fake_azure::ServicePrincipal) {
    let w = World::new();
    let sp = w.service_principal();
    (w, sp)
}

/// The condition that names one repository.
fn repo(name: &str) -> RepositoryCondition {
    RepositoryCondition::Equals(name.to_owned())
}

/// The condition that names every repository under a prefix.
fn under(prefix: &str) -> RepositoryCondition {
    RepositoryCondition::StartsWith(prefix.to_owned())
}

/// A new ABAC registry where `sp` is Reader in ARM and Repository Reader on what `condition`
/// names.
fn abac_reader(
    w: &World,
    sp: &fake_azure::ServicePrincipal,
    name: &str,
    condition: RepositoryCondition,
) -> fake_azure::Registry {
    let reg = registry_with(w, sp, abac(name), &[Role::Reader]);
    w.fake
        .assign_repository_role(name, &sp.object_id, Role::RepositoryReader, condition);
    reg
}

/// A new registry made as `spec` says, where `sp` has each of `roles`.
fn registry_with(
    w: &World,
    sp: &fake_azure::ServicePrincipal,
    spec: RegistrySpec,
    roles: &[Role],
) -> fake_azure::Registry {
    let reg = w.fake.add_registry(spec);
    for role in roles {
        w.fake.assign_role(&reg.name, &sp.object_id, *role);
    }
    reg
}

#[test]
fn abac_registries_are_labelled_with_entra_repository_roles() {
    let (w, sp) = world();
    // Reader: ARM read only (it shows the registry and its mode; no data access on ABAC).
    let read = abac_reader(&w, &sp, "abacread", under("team-a/"));
    let write = registry_with(
        &w,
        &sp,
        abac("abacwrite"),
        &[Role::Reader, Role::RepositoryWriter],
    );
    // A legacy registry beside them reads exactly as before.
    let legacy = registry_with(
        &w,
        &sp,
        RegistrySpec::new("legacyrw"),
        &[Role::Reader, Role::AcrPush],
    );
    w.login_and_add(&sp, &[&read, &write, &legacy]);
    w.cli(&["refresh"]).expect_code(0);

    let read = w.registry_status("abacread");
    assert_eq!(read["role"], "AcrPull", "{read:#}");
    assert_eq!(read["can"], "pull");
    assert_eq!(read["roleAssignmentMode"], "AbacRepositoryPermissions");
    assert_eq!(read["roleName"], "Container Registry Repository Reader");
    let write = w.registry_status("abacwrite");
    assert_eq!(write["roleName"], "Container Registry Repository Writer");
    assert_eq!(write["can"], "push");
    let legacy = w.registry_status("legacyrw");
    assert_eq!(
        (&legacy["role"], &legacy["can"]),
        (&"AcrPush".into(), &"push".into())
    );
    let keys = |v: &serde_json::Value| {
        v.as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    assert!(
        !keys(&legacy)
            .iter()
            .any(|k| k == "roleAssignmentMode" || k == "roleName"),
        "{legacy:#}"
    );

    let text = w.cli(&["status"]).expect_code(0).stdout;
    assert_message!(w, "abac_status_stdout", text);

    let found = w
        .cli(&["registry", "discover", "--json"])
        .expect_code(0)
        .json();
    let listed = found[0]["registries"].as_array().unwrap();
    let flag = |name: &str| {
        listed
            .iter()
            .find(|r| r["name"] == name)
            .map(|r| r["repositoryPermissions"].clone())
    };
    assert_eq!(flag("abacread"), Some(true.into()));
    assert_eq!(flag("abacwrite"), Some(true.into()));
    assert_eq!(flag("legacyrw"), Some(serde_json::Value::Null));
    let text = w.cli(&["registry", "discover"]).expect_code(0).stdout;
    assert_message!(w, "abac_discover_stdout", text);
}

#[test]
fn a_refused_sign_in_on_an_abac_registry_names_the_repository_role_to_ask_for() {
    let (w, sp) = world();
    // AcrPush is not honoured on an ABAC registry: the exchange is refused.
    let reg = registry_with(&w, &sp, abac("abacdenied"), &[Role::Reader, Role::AcrPush]);
    // The same roles on a legacy registry, taken away later: the legacy explanation.
    let legacy = registry_with(
        &w,
        &sp,
        RegistrySpec::new("legacydenied"),
        &[Role::Reader, Role::AcrPush],
    );
    w.login_and_add(&sp, &[&legacy]);
    w.fake
        .assign_role("legacydenied", &sp.object_id, Role::None);
    w.fake
        .assign_role("legacydenied", &sp.object_id, Role::Reader);
    w.cli(&["registry", "add", "abacdenied"]).expect_code(0);

    // The first pass reads the registry's mode in ARM after the refusal; what it prints and
    // remembers says it already.
    let out = w.cli(&["refresh"]).expect_code(1);
    assert_message!(w, "abac_denied_refresh_stdout", out.stdout);
    // Later passes know it from the start: the log says it too.
    let out = w.cli(&["refresh"]).expect_code(1);
    assert_message!(w, "abac_denied_refresh_stderr", out.stderr);

    let status = w.registry_status("abacdenied");
    let error = &status["lastError"];
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("AcrPull and AcrPush are not honoured"),
        "{error:#}"
    );
    let hint = error["hint"].as_str().unwrap();
    assert!(
        hint.contains("Container Registry Repository Reader")
            && hint.contains("Container Registry Repository Writer")
            && hint.contains(&format!(
                "az role assignment create --assignee {} --role \"Container Registry Repository Reader\" --scope {}",
                sp.client_id, reg.id
            )),
        "{hint}"
    );
    let legacy = w.registry_status("legacydenied");
    let hint = legacy["lastError"]["hint"].as_str().unwrap();
    assert!(
        hint.contains("assign AcrPull (pull) or AcrPush (push and pull)")
            && !hint.contains("Repository"),
        "{hint}"
    );
    let text = w.cli(&["status"]).expect_code(0).stdout;
    assert_message!(w, "abac_denied_status_stdout", text);
}

#[test]
fn a_refused_push_on_an_abac_registry_names_the_writer_role_for_that_repository() {
    let (w, sp) = world();
    let reg = abac_reader(&w, &sp, "abacpush", repo("team-a/app"));
    // A legacy registry where the same pull-only identity is told nothing new.
    let legacy = registry_with(&w, &sp, RegistrySpec::new("legacypull"), &[Role::AcrPull]);
    w.login_and_add(&sp, &[&reg, &legacy]);
    w.cli(&["refresh"]).expect_code(0);

    // Pull but not push on the repository the condition names: ask for the Writer role.
    let out = w
        .cli(&["check", "abacpush", "--repository", "team-a/app"])
        .expect_code(0);
    assert_message!(w, "abac_push_refused_check_stdout", out.stdout);
    let json = check_json(&w, "abacpush", "team-a/app");
    assert_eq!(json["granted"], serde_json::json!(["pull"]));
    let hint = json["hint"].as_str().unwrap();
    assert!(
        hint.contains("AcrPull and AcrPush are not honoured")
            && hint.contains("StringEqualsIgnoreCase 'team-a/app'")
            && hint.contains(&format!(
                "--role \"Container Registry Repository Writer\" --scope {}",
                reg.id
            )),
        "{hint}"
    );
    // Nothing on another repository: ask for the Reader role there.
    let out = w
        .cli(&["check", "abacpush", "--repository", "team-b/app"])
        .expect_code(1);
    assert_message!(w, "abac_nothing_granted_check_stdout", out.stdout);

    let legacy = check_json(&w, "legacypull", "team-a/app");
    assert_eq!(legacy["granted"], serde_json::json!(["pull"]));
    assert!(legacy.get("hint").is_none(), "{legacy:#}");
}
