//! The real OS keyring (Secret Service). These need a session bus with an unlocked keyring (or,
//! for the last one, none at all), so they are ignored by default; `scripts/test.sh` runs them
//! inside `dbus-run-session` with gnome-keyring, and without a bus.

use acr_tray_engine::Secret;
use acr_tray_engine::{KeyringStore, SecretStore};
use acr_tray_tests::{World, assert_contains};
use fake_azure::Role;

#[test]
#[ignore = "needs a Secret Service on the session bus (scripts/test.sh runs it)"]
fn secret_service_stores_reads_rotates_and_deletes() {
    let key = format!("test/{}", std::process::id());
    let writer = KeyringStore::new();
    writer.set(&key, &Secret::new("first")).unwrap();
    // A separate store (a new process would do the same) sees it: it is in the keyring.
    let reader = KeyringStore::new();
    assert_eq!(reader.get(&key).unwrap().unwrap().expose(), "first");
    writer.set(&key, &Secret::new("rotated")).unwrap();
    assert_eq!(
        KeyringStore::new().get(&key).unwrap().unwrap().expose(),
        "rotated"
    );
    writer.delete(&key).unwrap();
    assert!(KeyringStore::new().get(&key).unwrap().is_none());
}

#[test]
#[ignore = "needs a Secret Service on the session bus (scripts/test.sh runs it)"]
fn secret_service_entries_are_shared_with_the_keyring_crate() {
    // Entries written by earlier versions (through the `keyring` crate) are read, and the
    // crate reads ours: the same items, whichever wrote them.
    let key = format!("test/compat/{}", std::process::id());
    let theirs = keyring::Entry::new(acr_tray_engine::KEYRING_SERVICE, &key).unwrap();
    theirs.set_password("written by keyring").unwrap();
    let ours = KeyringStore::new();
    assert_eq!(
        ours.get(&key).unwrap().unwrap().expose(),
        "written by keyring"
    );
    ours.set(&key, &Secret::new("rotated by acr-tray")).unwrap();
    // (The crate refuses to read a key two items match: one item, not a second beside it.)
    assert_eq!(theirs.get_password().unwrap(), "rotated by acr-tray");
    ours.delete(&key).unwrap();
    assert!(matches!(
        theirs.get_password(),
        Err(keyring::Error::NoEntry)
    ));
    // A new entry of ours is one the crate finds.
    ours.set(&key, &Secret::new("created by acr-tray")).unwrap();
    assert_eq!(theirs.get_password().unwrap(), "created by acr-tray");
    theirs.delete_credential().unwrap();
    assert!(ours.get(&key).unwrap().is_none());
}

#[test]
#[ignore = "needs a Secret Service on the session bus (scripts/test.sh runs it)"]
fn login_and_refresh_through_the_secret_service() {
    let mut w = World::new();
    w.real_keyring();
    let (sp, _) = w.signed_in_registry("victor11", Role::AcrPull);
    // Every command builds a new keyring handle: the secret must come from the keyring.
    w.cli(&["refresh"]).expect_code(0);
    let key =
        acr_tray_engine::client_secret_key(&w.fake.authority_url(), &sp.tenant, &sp.client_id);
    assert_eq!(
        KeyringStore::new().get(&key).unwrap().unwrap().expose(),
        sp.secret
    );
    w.cli(&["logout"]).expect_code(0);
    assert!(
        KeyringStore::new().get(&key).unwrap().is_none(),
        "logout forgets the secret"
    );
}

#[test]
#[ignore = "needs a machine without a session bus (scripts/test.sh runs it)"]
fn no_secret_service_is_reported_with_alternatives() {
    let mut w = World::new();
    w.real_keyring();
    let sp = w.service_principal();
    let started = std::time::Instant::now();
    let out = w.login(&sp).expect_code(3);
    // Fails fast: well under the 25 s a D-Bus call waits for an answer that never comes, with
    // room for a loaded machine.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "fails fast, no hang"
    );
    assert_contains(&out.stderr, "keyring is not available");
    assert_contains(&out.stderr, "--secret-file");
}

#[test]
#[ignore = "needs a Secret Service on the session bus (scripts/test.sh runs it)"]
fn user_refresh_token_is_stored_read_and_rotated_in_the_secret_service() {
    let mut w = World::new();
    w.real_keyring();
    let user = w.device_code_user("keyring-user@contoso.localhost", 0);
    let reg = w.registry_for("keyringuser", &user.object_id, Role::AcrPull);
    w.cli(&["login", "--device-code"]).expect_code(0);
    let key = acr_tray_engine::refresh_token_key(
        &w.fake.authority_url(),
        "keyring-user@contoso.localhost",
    );
    let first = KeyringStore::new()
        .get(&key)
        .unwrap()
        .expect("stored")
        .expose()
        .to_owned();
    w.cli(&["registry", "add", &reg.name]).expect_code(0);
    w.cli(&["refresh"]).expect_code(0);
    let rotated = KeyringStore::new()
        .get(&key)
        .unwrap()
        .expect("stored")
        .expose()
        .to_owned();
    assert_ne!(
        first, rotated,
        "the rotated refresh token replaced the first one"
    );
    w.cli(&["logout"]).expect_code(0);
    assert!(KeyringStore::new().get(&key).unwrap().is_none());
}
