//! Secrets bound to their authority: an identity's client secret, refresh token, assertion and
//! tokens go only to the cloud it signed in to. Two fakes play two clouds; the second one's
//! request log must never see a credential of an identity signed in to the first.

use crate::snapshot::names_of;
use acr_tray_tests::{World, assert_contains};
use fake_azure::{FakeAzure, LoggedRequest, Role, Service};

/// A second cloud: another fake, with its own CA, authority and registries.
fn second_cloud(w: &World) -> FakeAzure {
    w.rt.block_on(FakeAzure::builder().start()).unwrap()
}

/// A CA file trusting both clouds, so a credential sent to the second one would really arrive
/// (and the first one's registries stay reachable).
fn both_cas(w: &World, other: &FakeAzure) -> String {
    let path = w.home.path().join("both-clouds-ca.pem");
    std::fs::write(&path, format!("{}\n{}", w.fake.ca_pem(), other.ca_pem())).unwrap();
    path.display().to_string()
}

/// `cloud set custom ...` arguments naming `other`, trusting both clouds' CAs.
fn cloud_args(w: &World, other: &FakeAzure) -> Vec<String> {
    vec![
        "cloud".into(),
        "set".into(),
        "custom".into(),
        "--authority".into(),
        other.authority_url(),
        "--arm".into(),
        other.arm_url(),
        "--acr-suffix".into(),
        other.acr_suffix(),
        "--ca-file".into(),
        both_cas(w, other),
    ]
}

fn refs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// Every request `cloud` saw that carried a credential, or asked Entra for a token.
fn credential_requests(cloud: &FakeAzure) -> Vec<LoggedRequest> {
    cloud
        .requests()
        .into_iter()
        .filter(|r| {
            !r.credentials.is_empty() || (r.service == Service::Entra && r.path.ends_with("/token"))
        })
        .collect()
}

/// A service principal (secret in the keyring) and a person (device code, refresh token in the
/// keyring), each with a registry, refreshed once on the first cloud.
/// What the snapshots name: the service principal's ids and the user's.
fn names(sp: &fake_azure::ServicePrincipal, user_id: &str) -> Vec<(String, &'static str)> {
    let mut names = names_of(sp);
    names.push((user_id.to_owned(), "[USER-ID]"));
    names
}

/// A service principal and a user signed in on the first cloud (see [`signed_in_world`]),
/// the names their snapshots use, and a second cloud to switch to.
struct TwoClouds {
    w: World,
    sp: fake_azure::ServicePrincipal,
    user_id: String,
    ids: Vec<(String, &'static str)>,
    other: FakeAzure,
}

fn signed_in_on_two_clouds() -> TwoClouds {
    let (w, sp, user_id) = signed_in_world();
    let ids = names(&sp, &user_id);
    let other = second_cloud(&w);
    TwoClouds {
        w,
        sp,
        user_id,
        ids,
        other,
    }
}

fn signed_in_world() -> (World, fake_azure::ServicePrincipal, String) {
    let w = World::new();
    let sp = w.service_principal();
    let sp_reg = w.registry("spreg", &sp, Role::AcrPull);
    w.login(&sp).expect_code(0);
    w.cli(&["registry", "add", &sp_reg.name, "--identity", &sp.client_id])
        .expect_code(0);
    let user = w.device_code_user("dev@contoso.localhost", 0);
    w.cli(&["login", "--device-code"]).expect_code(0);
    let accounts = w.cli(&["accounts", "--json"]).expect_code(0).json();
    let user_id = accounts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .find(|id| id.starts_with("dev@"))
        .unwrap();
    let user_reg = w.registry_for("userreg", &user.object_id, Role::AcrPull);
    w.cli(&["registry", "add", &user_reg.name, "--identity", &user_id])
        .expect_code(0);
    w.cli(&["refresh"]).expect_code(0);
    (w, sp, user_id)
}

#[test]
fn after_a_cloud_switch_a_refresh_sends_no_credential_to_the_new_cloud() {
    let TwoClouds { w, ids, other, .. } = signed_in_on_two_clouds();
    let args = cloud_args(&w, &other);

    // Without a terminal and without --yes: refused, listing who would be signed out.
    let config_before = std::fs::read(w.home.path().join("config.toml")).unwrap();
    let out = w.cli(&refs(&args)).expect_code(2);
    assert_message!(
        w,
        "cloud_change_without_yes_stderr",
        out.stderr,
        ids.clone()
    );
    assert_eq!(
        std::fs::read(w.home.path().join("config.toml")).unwrap(),
        config_before,
        "a refused change changes nothing"
    );

    let mut yes = args.clone();
    yes.push("--yes".into());
    let out = w.cli(&refs(&yes)).expect_code(0);
    assert_message!(w, "cloud_change_with_yes_stdout", out.stdout, ids.clone());
    // The next refresh asks nothing of the new cloud for them, and says why.
    let out = w.cli(&["refresh"]);
    let leaked = credential_requests(&other);
    assert!(
        leaked.is_empty(),
        "credentials went to the new cloud: {leaked:#?}"
    );
    let out = out.expect_code(3);
    // The log (stderr) names each registry as its refresh ends, in no set order.
    assert_contains(&out.stderr, "sign");
    assert_message!(w, "cloud_changed_refresh_stdout", out.stdout, ids.clone());
    // Their secrets are gone from the keyring.
    let kept: Vec<String> = w
        .secrets
        .keys()
        .into_iter()
        .filter(|k| k.starts_with("client-secret/") || k.starts_with("refresh-token/"))
        .collect();
    assert!(kept.is_empty(), "{kept:?}");

    let accounts = w.cli(&["accounts", "--json"]).expect_code(0).json();
    for a in accounts.as_array().unwrap() {
        assert!(
            !a["signInRequired"].is_null(),
            "{} reads sign-in required: {accounts:#}",
            a["id"]
        );
    }
}

#[test]
fn a_terminal_asks_before_signing_out_and_no_keeps_the_cloud() {
    let w = World::new();
    let sp = w.service_principal();
    let ids = names_of(&sp);
    w.login(&sp).expect_code(0);
    let other = second_cloud(&w);
    let args = cloud_args(&w, &other);
    let out = w.cli_terminal(&refs(&args), "n\n").expect_code(1);
    assert_message!(w, "answered_no_stderr", out.stderr, ids.clone());
    let shown = w.cli(&["cloud", "show", "--json"]).expect_code(0).json();
    assert_eq!(shown["authority"], w.fake.authority_url());

    let out = w.cli_terminal(&refs(&args), "y\n").expect_code(0);
    assert_message!(w, "answered_yes_stdout", out.stdout, ids.clone());
    let shown = w.cli(&["cloud", "show", "--json"]).expect_code(0).json();
    assert_eq!(shown["authority"], other.authority_url());
    // Signing in again on the new cloud binds the identity to it.
    let sp2 = other.add_service_principal(&other.default_tenant());
    w.login(&sp2).expect_code(0);
    let config = std::fs::read_to_string(w.home.path().join("config.toml")).unwrap();
    assert_contains(&config, &other.authority_url());
}

/// Someone edits config.toml to point the cloud elsewhere: nothing carrying a secret follows,
/// whether or not they also rewrite the identities' recorded cloud.
#[test]
fn a_hand_edited_cloud_gets_no_credential() {
    let TwoClouds {
        w,
        sp,
        user_id,
        ids,
        other,
    } = signed_in_on_two_clouds();
    let path = w.home.path().join("config.toml");
    let original = std::fs::read_to_string(&path).unwrap();
    let (old_authority, old_arm) = (w.fake.authority_url(), w.fake.arm_url());
    let old_ca = w.fake.ca_path().display().to_string();
    let both = both_cas(&w, &other);
    let retarget = |text: &str| {
        text.replace(&old_authority, &other.authority_url())
            .replace(&old_arm, &other.arm_url())
            .replace(&old_ca, &both)
    };
    // Only the [cloud] table: the identities stay bound to the first cloud.
    let (head, identities) = original.split_at(original.find("[[identity]]").unwrap());
    std::fs::write(&path, format!("{}{identities}", retarget(head))).unwrap();
    let out = w.cli(&["refresh"]);
    assert!(
        credential_requests(&other).is_empty(),
        "{:#?}",
        other.requests()
    );
    let out = out.expect_code(3);
    // The log (stderr) names each registry as its refresh ends, in no set order.
    assert_contains(&out.stderr, "signed in to");
    assert_message!(w, "hand_edited_refresh_stdout", out.stdout, ids.clone());
    let accounts = w.cli(&["accounts"]).expect_code(0);
    assert_message!(
        w,
        "hand_edited_cloud_accounts_stdout",
        accounts.stdout,
        ids.clone()
    );

    // A hand edit deletes nothing: the secrets stay under the first cloud's keys.
    let keys = w.secrets.keys();
    let authority = w.fake.authority_url();
    let bound = [
        acr_tray_engine::client_secret_key(&authority, &sp.tenant, &sp.client_id),
        acr_tray_engine::refresh_token_key(&authority, &user_id),
    ];
    for key in bound {
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
}

/// The cloud and every identity's recorded cloud rewritten by hand: the keyring holds nothing
/// under the other authority's keys, so nothing is sent.
#[test]
fn rewriting_the_recorded_cloud_too_finds_no_secret_to_send() {
    let TwoClouds { w, ids, other, .. } = signed_in_on_two_clouds();
    let both = both_cas(&w, &other);
    w.edit_settings(|text| {
        text.replace(&w.fake.authority_url(), &other.authority_url())
            .replace(&w.fake.arm_url(), &other.arm_url())
            .replace(&w.fake.ca_path().display().to_string(), &both)
    });
    let out = w.cli(&["refresh"]);
    let leaked = credential_requests(&other);
    assert!(leaked.is_empty(), "{leaked:#?}");
    let out = out.expect_code(3);
    assert_message!(
        w,
        "rewritten_recorded_cloud_refresh_stdout",
        out.stdout,
        ids.clone()
    );
}

/// Settings from before identities recorded their cloud: bound, once, to the configured cloud,
/// with the keyring secret moved under that authority's key.
#[test]
fn settings_without_a_recorded_cloud_are_bound_to_the_configured_one() {
    let w = World::new();
    let (sp, _) = w.signed_in_registry("legacyreg", Role::AcrPull);
    // Rewrite as an older version left it: no [identity.cloud], the secret under the old key.
    w.edit_settings(|text| {
        let start = text.find("[identity.cloud]").expect("a recorded cloud");
        let end = text[start..]
            .find("\n\n")
            .map(|e| start + e)
            .unwrap_or(text.len());
        let legacy = format!("{}{}", &text[..start], &text[end..]);
        assert!(!legacy.contains("[identity.cloud]"), "{legacy}");
        legacy
    });
    let bound =
        acr_tray_engine::client_secret_key(&w.fake.authority_url(), &sp.tenant, &sp.client_id);
    let old = acr_tray_engine::legacy_client_secret_key(&sp.tenant, &sp.client_id);
    use acr_tray_engine::SecretStore;
    let secret = w.secrets.get(&bound).unwrap().unwrap();
    w.secrets.delete(&bound).unwrap();
    w.secrets.set(&old, &secret).unwrap();

    w.cli(&["refresh"]).expect_code(0);
    let text = w.settings_text();
    assert_contains(&text, "[identity.cloud]");
    assert_contains(&text, &w.fake.authority_url());
    assert_eq!(w.secrets.keys().iter().filter(|k| **k == old).count(), 0);
    assert_eq!(
        w.secrets.get(&bound).unwrap().unwrap().expose(),
        sp.secret,
        "moved under the bound key"
    );
}

/// A certificate's signed assertion and a managed identity's IMDS tokens are bound the same
/// way: after the cloud is pointed elsewhere by hand, no assertion reaches the new authority and
/// IMDS is not asked for a token meant for the new cloud.
#[test]
fn certificates_and_managed_identities_are_bound_too() {
    let mut w = World::new();
    w.extra_env
        .push(("ACR_TRAY_IMDS_ENDPOINT".into(), w.fake.imds_url()));
    let (sp, cert) = w.certificate_principal();
    let pem = w.home.path().join("sp.pem");
    std::fs::write(&pem, &cert.combined_pem).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pem, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    w.login_certificate(&sp, &pem).expect_code(0);
    let cert_reg = w.registry_for("certreg", &sp.object_id, Role::AcrPull);
    w.cli(&[
        "registry",
        "add",
        &cert_reg.name,
        "--identity",
        &sp.client_id,
    ])
    .expect_code(0);
    let mi = w.fake.add_managed_identity(&w.fake.default_tenant());
    w.fake.set_system_assigned_identity(Some(mi.clone()));
    w.cli(&["login", "--managed-identity"]).expect_code(0);
    let mi_reg = w.registry_for("mireg", &mi.object_id, Role::AcrPull);
    w.cli(&[
        "registry",
        "add",
        &mi_reg.name,
        "--identity",
        "managed-identity",
    ])
    .expect_code(0);
    w.cli(&["refresh"]).expect_code(0);

    let other = second_cloud(&w);
    w.edit_settings(|original| {
        let (head, identities) = original.split_at(original.find("[[identity]]").unwrap());
        let head = head
            .replace(&w.fake.authority_url(), &other.authority_url())
            .replace(&w.fake.arm_url(), &other.arm_url())
            .replace(
                &w.fake.ca_path().display().to_string(),
                &both_cas(&w, &other),
            );
        format!("{head}{identities}")
    });
    w.fake.clear_requests();
    let out = w.cli(&["refresh"]);
    let leaked = credential_requests(&other);
    assert!(leaked.is_empty(), "{leaked:#?}");
    let imds: Vec<LoggedRequest> = w
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.service == Service::Imds)
        .collect();
    assert!(imds.is_empty(), "IMDS asked for the new cloud: {imds:#?}");
    out.expect_code(3);
}
