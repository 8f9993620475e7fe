//! Tokens longer than a Windows Credential Manager entry holds: a person's sign-in and ACR
//! refreshes through a keyring with Windows' 2,560-byte limit, on every platform.

use std::sync::Arc;

use acr_tray_engine::{MemoryStore, SecretStore, SplitStore, WINDOWS_UNITS, refresh_token_key};
use acr_tray_tests::World;

const UPN: &str = "long@contoso.localhost";

#[test]
fn long_tokens_sign_in_and_refresh_under_windows_limits() {
    let mut w = World::new();
    w.fake.set_long_tokens(true);
    // What the OS keyring is on Windows: the splitting layer over entries of 2,560 bytes.
    let store = Arc::new(SplitStore::new(
        MemoryStore::with_windows_limits(),
        Some(WINDOWS_UNITS),
    ));
    w.store = Some(store.clone());
    let (_, reg) = w.device_code_signed_in(UPN, "longtokens");
    // Docker asks our helper, which answers from the keyring: the cache must hold the token.
    w.cli(&["docker", "use-helper"]).expect_code(0);

    let entra_rt = |store: &SplitStore<MemoryStore>| {
        store
            .get(&refresh_token_key(&w.fake.authority_url(), UPN))
            .unwrap()
            .expect("the refresh token")
            .expose()
            .to_owned()
    };
    let mut previous = entra_rt(&store);
    assert!(
        previous.encode_utf16().count() > WINDOWS_UNITS,
        "the fake's refresh token is longer than one entry ({} characters)",
        previous.len()
    );
    for pass in 0..3 {
        // Each run redeems the refresh token, which rotates, and caches a new ACR token.
        w.cli(&["refresh"]).expect_code(0);
        let rotated = entra_rt(&store);
        assert_ne!(rotated, previous, "pass {pass}: rotated and stored");
        previous = rotated;

        let json = w.cli(&["token", &reg.name, "--json"]).expect_code(0).json();
        let token = json["accessToken"].as_str().unwrap().to_owned();
        assert!(
            token.len() > 2400,
            "an ACR token of {} characters",
            token.len()
        );
        assert_eq!(
            w.password_form_status(&reg.login_server, &token, "repository:a:pull"),
            200
        );
        // Two split secrets, each a header and the parts of one generation: nothing stale.
        let keys = store.inner().keys();
        for prefix in ["refresh-token/", "acr-token/"] {
            let parts: Vec<&String> = keys
                .iter()
                .filter(|k| k.starts_with(prefix) && k.contains("#part-"))
                .collect();
            assert!(parts.len() >= 2, "{keys:?}");
            let one_slot = parts.iter().all(|k| k.contains("#part-0-"))
                || parts.iter().all(|k| k.contains("#part-1-"));
            assert!(one_slot, "{keys:?}");
        }
        assert_eq!(
            keys.len(),
            2 + keys.iter().filter(|k| k.contains("#part-")).count()
        );
        assert!(!w.home.path().join("state/acr-tokens.json").exists());
    }
}
