//! Registries with repository permissions (ABAC, docs/protocol.md#acr-abac): the registry's
//! `roleAssignmentMode` is read in ARM, status and discovery mark such registries and name what
//! the identity may do in Entra's repository roles, and a refused sign-in says that AcrPull and
//! AcrPush are not honoured there and which role to ask for. Legacy registries read as before.

use acr_tray_tests::World;
use fake_azure::{RegistrySpec, RepositoryCondition, Role, RoleAssignmentMode};

fn abac(name: &str) -> RegistrySpec {
    RegistrySpec::new(name).role_assignment_mode(RoleAssignmentMode::AbacRepositoryPermissions)
}

#[test]
fn abac_registries_are_labelled_with_entra_repository_roles() {
    let w = World::new();
    let sp = w.service_principal();
    // Reader: ARM read only (it shows the registry and its mode; no data access on ABAC).
    w.fake.add_registry(abac("abacread"));
    w.fake.assign_role("abacread", &sp.object_id, Role::Reader);
    w.fake.assign_repository_role(
        "abacread",
        &sp.object_id,
        Role::RepositoryReader,
        RepositoryCondition::StartsWith("team-a/".to_owned()),
    );
    w.fake.add_registry(abac("abacwrite"));
    w.fake.assign_role("abacwrite", &sp.object_id, Role::Reader);
    w.fake
        .assign_role("abacwrite", &sp.object_id, Role::RepositoryWriter);
    // A legacy registry beside them reads exactly as before.
    w.fake.add_registry(RegistrySpec::new("legacyrw"));
    w.fake.assign_role("legacyrw", &sp.object_id, Role::Reader);
    w.fake.assign_role("legacyrw", &sp.object_id, Role::AcrPush);
    w.login(&sp).expect_code(0);
    for name in ["abacread", "abacwrite", "legacyrw"] {
        w.cli(&["registry", "add", name]).expect_code(0);
    }
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
    let w = World::new();
    let sp = w.service_principal();
    // AcrPush is not honoured on an ABAC registry: the exchange is refused.
    let reg = w.fake.add_registry(abac("abacdenied"));
    w.fake
        .assign_role("abacdenied", &sp.object_id, Role::Reader);
    w.fake
        .assign_role("abacdenied", &sp.object_id, Role::AcrPush);
    // The same roles on a legacy registry, taken away later: the legacy explanation.
    w.fake.add_registry(RegistrySpec::new("legacydenied"));
    w.fake
        .assign_role("legacydenied", &sp.object_id, Role::Reader);
    w.fake
        .assign_role("legacydenied", &sp.object_id, Role::AcrPush);
    w.login(&sp).expect_code(0);
    w.cli(&["registry", "add", "legacydenied"]).expect_code(0);
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
    let w = World::new();
    let sp = w.service_principal();
    let reg = w.fake.add_registry(abac("abacpush"));
    w.fake.assign_role("abacpush", &sp.object_id, Role::Reader);
    w.fake.assign_repository_role(
        "abacpush",
        &sp.object_id,
        Role::RepositoryReader,
        RepositoryCondition::Equals("team-a/app".to_owned()),
    );
    // A legacy registry where the same pull-only identity is told nothing new.
    w.fake.add_registry(RegistrySpec::new("legacypull"));
    w.fake
        .assign_role("legacypull", &sp.object_id, Role::AcrPull);
    w.login(&sp).expect_code(0);
    for name in ["abacpush", "legacypull"] {
        w.cli(&["registry", "add", name]).expect_code(0);
    }
    w.cli(&["refresh"]).expect_code(0);

    // Pull but not push on the repository the condition names: ask for the Writer role.
    let out = w
        .cli(&["check", "abacpush", "--repository", "team-a/app"])
        .expect_code(0);
    assert_message!(w, "abac_push_refused_check_stdout", out.stdout);
    let json = w
        .cli(&["check", "abacpush", "--repository", "team-a/app", "--json"])
        .expect_code(0)
        .json();
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

    let legacy = w
        .cli(&[
            "check",
            "legacypull",
            "--repository",
            "team-a/app",
            "--json",
        ])
        .expect_code(0)
        .json();
    assert_eq!(legacy["granted"], serde_json::json!(["pull"]));
    assert!(legacy.get("hint").is_none(), "{legacy:#}");
}
