//! `[clients] helm = true`: Helm's registry config holds a working credential. skopeo reads
//! the same format Helm does (an `auths` map), so it pulls with Helm's file as its only auth
//! file.

use fake_azure::Role;

use crate::common::{Seeded, ok, pulled_files, says_denied};

#[test]
fn skopeo_pulls_with_helms_registry_config_as_its_auth_file() {
    let s = Seeded::new("realhelm");
    let sp = s.w.service_principal();
    s.w.fake
        .assign_role(s.reg.name(), &sp.object_id, Role::AcrPull);
    s.w.login(&sp).expect_code(0);
    s.w.cli(&["registry", "add", s.reg.name()]).expect_code(0);
    s.w.edit_settings(|text| format!("{text}\n[clients]\nhelm = true\n"));
    s.w.cli(&["refresh"]).expect_code(0);

    // Helm's default place: `helm/registry/config.json` in the user's config folder.
    let helm_dir = s.w.home.path().join("home/.config/helm/registry");
    let remote = s.remote("1");
    assert_eq!(
        pulled_files(&s.clients, &helm_dir, &remote, s.work.path(), &s.reg),
        vec![("app.txt".to_owned(), b"v1\n".to_vec())]
    );
    // The credential came from Helm's file: without our entry there, the pull is refused.
    let file = helm_dir.join("config.json");
    let mut helm: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    helm["auths"]
        .as_object_mut()
        .unwrap()
        .remove(&s.reg.login_server)
        .expect("our entry in Helm's file");
    std::fs::write(&file, helm.to_string()).unwrap();
    let refused = s.clients.skopeo_inspect(&helm_dir, &remote, false);
    assert!(says_denied(&refused), "{refused}");
    // The next refresh writes it again, and the pull works again.
    s.w.cli(&["refresh"]).expect_code(0);
    ok(s.clients.skopeo_inspect(&helm_dir, &remote, false), &s.reg);
}
