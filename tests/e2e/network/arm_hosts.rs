//! The ARM token goes to the cloud's ARM host only: registry resource ids are checked wherever
//! they come from (config.toml, state.json, an ARM listing), and a `nextLink` or
//! `Azure-AsyncOperation` URL on another host is refused before the token is attached.
//!
//! "Another host" is `elsewhere.localhost` on the fake's own port: the fake answers it over TLS
//! (as an unknown host) and logs every request it gets, so "no request reached it" is checked
//! in the fake's request log, and each test shows the log does see requests to it.

use acr_tray_tests::{World, assert_contains};
use fake_azure::{FaultAction, FaultTarget, Registry, RegistrySpec, Role, Service};
use serde_json::json;

const ELSEWHERE: &str = "elsewhere.localhost";

fn elsewhere_base(w: &World) -> String {
    format!("https://{ELSEWHERE}:{}/", w.fake.port())
}

/// The requests that reached the other host.
fn reached_elsewhere(w: &World) -> Vec<String> {
    w.fake
        .requests()
        .iter()
        .filter(|r| r.host == ELSEWHERE)
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// The fake does log a request to the other host (so an empty log above means none was sent).
fn the_log_sees_the_other_host(w: &World) {
    let url = format!("{}probe", elsewhere_base(w));
    let status =
        w.rt.block_on(async { w.client().get(&url).send().await.map(|r| r.status()) })
            .unwrap();
    assert_eq!(status.as_u16(), 404);
    assert_eq!(reached_elsewhere(w), vec!["GET /probe".to_owned()]);
}

/// A service principal with `role` on a new registry, signed in.
fn owner_of(w: &World, spec: RegistrySpec) -> Registry {
    let sp = w.service_principal();
    let reg = w.fake.add_registry(spec);
    w.fake.assign_role(&reg.name, &sp.object_id, Role::Owner);
    w.login(&sp).expect_code(0);
    reg
}

/// [`owner_of`], with the registry added to ACR Tray (the default identity).
fn added_by_its_owner(w: &World, spec: RegistrySpec) -> Registry {
    let reg = owner_of(w, spec);
    w.add_registry(&reg.name).expect_code(0);
    reg
}

#[test]
fn a_resource_id_in_config_toml_that_is_not_a_registry_id_is_refused_before_any_request() {
    let w = World::new();
    let reg = owner_of(&w, RegistrySpec::new("cfgid123").admin_enabled(true));
    w.cli(&["registry", "add", &reg.name, "--admin"])
        .expect_code(0);
    let config = w.home.path().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.contains(&reg.id),
        "the id found through ARM is kept: {text}"
    );
    // Someone who can edit config.toml points the id at another host.
    let hostile = format!("https://{ELSEWHERE}:{}{}", w.fake.port(), reg.id);
    std::fs::write(&config, text.replace(&reg.id, &hostile)).unwrap();
    w.fake.clear_requests();

    let out = w.cli(&["refresh"]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert_message!(w, "hostile_arm_id_refresh_stderr", out.stderr);
    assert_eq!(w.fake.requests(), Vec::new(), "nothing was sent anywhere");

    // The id as ARM gave it works again.
    std::fs::write(&config, text).unwrap();
    w.cli(&["refresh"]).expect_code(0);
    assert_eq!(reached_elsewhere(&w), Vec::<String>::new());
    the_log_sees_the_other_host(&w);
}

#[test]
fn a_remembered_resource_id_that_is_not_a_registry_id_is_dropped_and_found_again() {
    let w = World::new();
    let reg = added_by_its_owner(&w, RegistrySpec::new("stateid1").admin_enabled(true));
    w.cli(&["run", "--once"]).expect_code(0);
    let state_path = w.home.path().join("state").join("state.json");
    let state_path = if state_path.exists() {
        state_path
    } else {
        w.home.path().join("state.json")
    };
    let text = std::fs::read_to_string(&state_path).unwrap();
    assert!(text.contains(&reg.id), "the watch remembers the id: {text}");
    let hostile = format!("https://{ELSEWHERE}:{}{}", w.fake.port(), reg.id);
    std::fs::write(&state_path, text.replace(&reg.id, &hostile)).unwrap();
    w.fake.clear_requests();

    w.cli(&["run", "--once"]).expect_code(0);
    assert_eq!(reached_elsewhere(&w), Vec::<String>::new());
    let text = std::fs::read_to_string(&state_path).unwrap();
    assert!(
        text.contains(&format!("\"armId\": \"{}\"", reg.id)) && !text.contains(ELSEWHERE),
        "the id is found again through ARM: {text}"
    );
    // The rest of the state was kept: the registry's last refresh is still there.
    assert_contains(&text, "last_refresh");
    the_log_sees_the_other_host(&w);
}

#[test]
fn a_registry_listed_by_arm_with_an_id_elsewhere_gets_no_token() {
    let w = World::new();
    let reg = owner_of(&w, RegistrySpec::new("listid12").admin_enabled(true));
    // ARM lists the registry with a resource id that is a URL on another host.
    let hostile = json!({
        "value": [{
            "id": format!("https://{ELSEWHERE}:{}{}", w.fake.port(), reg.id),
            "name": reg.name,
            "type": "Microsoft.ContainerRegistry/registries",
            "location": "westus",
            "sku": {"name": "Standard", "tier": "Standard"},
            "properties": {"loginServer": reg.login_server, "adminUserEnabled": true},
        }]
    });
    w.fake.add_fault(fake_azure::Fault::new(
        FaultTarget::service(Service::Arm)
            .path_prefix(format!("/subscriptions/{}/providers/", reg.subscription)),
        FaultAction::Status {
            status: 200,
            body: Some(hostile.to_string()),
            retry_after: None,
        },
    ));
    w.fake.clear_requests();
    let out = w.cli(&["registry", "add", &reg.name, "--admin"]);
    assert_ne!(out.code, 0, "{}", out.stdout);
    assert_message!(w, "listed_elsewhere_registry_add_stderr", out.stderr);
    assert_eq!(reached_elsewhere(&w), Vec::<String>::new());
    let discovered = w
        .cli(&["registry", "discover", "--json"])
        .expect_code(0)
        .json();
    assert_eq!(discovered[0]["registries"], json!([]), "{discovered:#}");
    assert_eq!(reached_elsewhere(&w), Vec::<String>::new());

    // Without the fault, the same registry is found and its credentials read.
    w.fake.clear_faults();
    w.cli(&["registry", "add", &reg.name, "--admin"])
        .expect_code(0);
    the_log_sees_the_other_host(&w);
}

#[test]
fn a_next_link_to_another_host_is_not_followed() {
    let w = World::new();
    let sp = w.service_principal();
    w.fake.set_arm_page_size(1);
    for name in ["paged001", "paged002"] {
        w.fake.add_registry(RegistrySpec::new(name));
        w.fake.assign_role(name, &sp.object_id, Role::Reader);
    }
    w.login(&sp).expect_code(0);
    w.fake.set_arm_link_base(Some(&elsewhere_base(&w)));
    w.fake.clear_requests();

    let out = w.cli(&["registry", "discover"]);
    assert_eq!(reached_elsewhere(&w), Vec::<String>::new());
    assert_ne!(out.code, 0, "{}", out.stdout);
    assert_message!(w, "next_link_elsewhere_discover_stderr", out.stderr);
    let arm_pages = w
        .fake
        .requests()
        .iter()
        .filter(|r| r.service == Service::Arm && r.path.ends_with("/registries"))
        .count();
    assert_eq!(arm_pages, 1, "the first page was read");
    assert_eq!(reached_elsewhere(&w), Vec::<String>::new());

    w.fake.set_arm_link_base(None);
    let found = w
        .cli(&["registry", "discover", "--json"])
        .expect_code(0)
        .json();
    assert_eq!(found[0]["registries"].as_array().unwrap().len(), 2);
    the_log_sees_the_other_host(&w);
}

#[test]
fn an_async_operation_on_another_host_is_not_polled() {
    let w = World::new();
    let reg = added_by_its_owner(&w, RegistrySpec::new("asyncop1").admin_enabled(true));
    w.fake.set_arm_patch_async(true);
    w.fake.set_arm_link_base(Some(&elsewhere_base(&w)));
    w.fake.clear_requests();

    let out = w.cli(&["registry", "admin-account", &reg.name, "--disable"]);
    assert_eq!(reached_elsewhere(&w), Vec::<String>::new());
    assert_ne!(out.code, 0, "{}", out.stdout);
    assert_message!(
        w,
        "async_operation_elsewhere_admin_account_stderr",
        out.stderr
    );
    let patched = w
        .fake
        .requests()
        .iter()
        .any(|r| r.service == Service::Arm && r.method == "PATCH" && r.status == 201);
    assert!(patched, "{:?}", w.fake.requests());
    assert_eq!(reached_elsewhere(&w), Vec::<String>::new());
    the_log_sees_the_other_host(&w);
}
