use super::*;

fn write_creds(p: &Path, creds: &[(String, DockerCredential)]) -> Result<()> {
    let results = write_credentials(p, creds, &Env::default())?;
    results.into_iter().collect::<Result<Vec<_>>>().map(|_| ())
}

fn cred(token: &str, form: EntryForm) -> DockerCredential {
    DockerCredential {
        username: ZERO_GUID.to_owned(),
        secret: Secret::new(token),
        form,
    }
}

fn write(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("config.json");
    std::fs::write(&p, body).expect("write");
    p
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).expect("read")).expect("json")
}

#[test]
fn location_follows_docker_config_then_home() {
    let env = Env::from_pairs([("DOCKER_CONFIG", "/d"), ("HOME", "/h")]);
    assert_eq!(
        config_path(&env).expect("path"),
        PathBuf::from("/d/config.json")
    );
    let env = Env::from_pairs([("HOME", "/h")]);
    assert_eq!(
        config_path(&env).expect("path"),
        PathBuf::from("/h/.docker/config.json")
    );
}

#[test]
fn password_form_keeps_every_other_key_and_entry() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = write(
        dir.path(),
        r#"{"auths":{"other.io":{"auth":"eDp5","email":"a@b"},"myreg.azurecr.io":{"identitytoken":"old","x-custom":1}},
            "psFormat":"table","somethingNew":{"nested":[1,2]},"HttpHeaders":{"X-Meta":"v"}}"#,
    );
    write_creds(
        &p,
        &[("myreg.azurecr.io".into(), cred("tok", EntryForm::Password))],
    )
    .expect("write");
    let v = read_json(&p);
    assert_eq!(
        v["auths"]["other.io"],
        serde_json::json!({"auth":"eDp5","email":"a@b"})
    );
    assert_eq!(v["somethingNew"]["nested"], serde_json::json!([1, 2]));
    assert_eq!(v["psFormat"], "table");
    assert_eq!(v["HttpHeaders"]["X-Meta"], "v");
    let entry = v["auths"]["myreg.azurecr.io"].clone();
    assert_eq!(entry["x-custom"], 1, "unknown fields in our entry survive");
    assert!(
        entry.get("identitytoken").is_none(),
        "stale identitytoken removed"
    );
    let decoded = B64
        .decode(entry["auth"].as_str().expect("auth"))
        .expect("b64");
    assert_eq!(decoded, format!("{ZERO_GUID}:tok").as_bytes());
    let cfg = DockerConfig::load(&p).expect("load");
    let stored = cfg.entry("myreg.azurecr.io").expect("entry");
    assert_eq!(stored.acr_token().map(Secret::expose), Some("tok"));
}

#[test]
fn identity_token_form_matches_az_acr_login() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("config.json");
    write_creds(
        &p,
        &[("r.azurecr.io".into(), cred("rt", EntryForm::IdentityToken))],
    )
    .expect("write");
    let v = read_json(&p);
    assert_eq!(
        v["auths"]["r.azurecr.io"],
        serde_json::json!({"auth":"MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwOg==","identitytoken":"rt"})
    );
    let stored = DockerConfig::load(&p)
        .expect("load")
        .entry("r.azurecr.io")
        .expect("entry");
    assert_eq!(stored.acr_token().map(Secret::expose), Some("rt"));
}

#[test]
fn output_is_tab_indented_like_docker() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("config.json");
    write_creds(
        &p,
        &[("r.azurecr.io".into(), cred("t", EntryForm::Password))],
    )
    .expect("w");
    let text = std::fs::read_to_string(&p).expect("read");
    assert!(
        text.starts_with("{\n\t\"auths\": {\n\t\t\"r.azurecr.io\""),
        "{text}"
    );
}

#[test]
fn malformed_files_are_never_touched() {
    let dir = tempfile::tempdir().expect("tmp");
    for body in [
        "{\"auths\": {\"a\": ",
        "[1,2]",
        "{\"auths\": []}",
        "{\"credsStore\": 5}",
    ] {
        let p = write(dir.path(), body);
        let err = write_creds(
            &p,
            &[("r.azurecr.io".into(), cred("t", EntryForm::Password))],
        )
        .expect_err(body);
        assert!(matches!(err, Error::DockerConfigMalformed { .. }), "{err}");
        assert!(err.to_string().contains("left it untouched"), "{err}");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), body);
    }
}

#[test]
fn stores_are_chosen_as_docker_chooses() {
    let dir = tempfile::tempdir().expect("tmp");
    let none = Env::default();
    let load = |body: &str| DockerConfig::load(&write(dir.path(), body)).expect("load");
    let cfg = load(r#"{"credHelpers":{"r.azurecr.io":"acr-env"},"credsStore":"desktop"}"#);
    assert_eq!(
        cfg.store_for("r.azurecr.io", &none),
        CredentialStore::Helper {
            helper: "acr-env".into(),
            key: "credHelpers"
        }
    );
    assert_eq!(
        cfg.store_for("x.azurecr.io", &none),
        CredentialStore::Helper {
            helper: "desktop".into(),
            key: "credsStore"
        }
    );
    assert_eq!(
        load(r#"{"credsStore":""}"#).store_for("x", &none),
        CredentialStore::File
    );
    assert_eq!(
        load(r#"{"credHelpers":{"x":"acr-tray"}}"#).store_for("x", &none),
        CredentialStore::AcrTray { key: "credHelpers" }
    );
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::PermissionsExt;
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        let helper = bin.join("docker-credential-secretservice");
        std::fs::write(&helper, "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let env = Env::from_pairs([("PATH", bin.display().to_string())]);
        // No auth information at all: Docker's platform default, when installed.
        assert_eq!(
            load("{}").store_for("x", &env),
            CredentialStore::Helper {
                helper: "secretservice".into(),
                key: "default"
            }
        );
        assert_eq!(
            load(r#"{"auths":{"y":{}}}"#).store_for("x", &env),
            CredentialStore::File
        );
    }
}

#[test]
fn missing_helpers_are_reported_and_the_file_untouched() {
    let dir = tempfile::tempdir().expect("tmp");
    let body = r#"{"credsStore":"desktop","auths":{"ghcr.io":{}}}"#;
    let p = write(dir.path(), body);
    let err = write_creds(
        &p,
        &[("r.azurecr.io".into(), cred("t", EntryForm::Password))],
    )
    .expect_err("missing");
    assert!(
        err.to_string()
            .contains("docker-credential-desktop is not installed"),
        "{err}"
    );
    assert!(err.hint().expect("hint").plain().contains("DoctorFix"));
    assert_eq!(std::fs::read_to_string(&p).expect("read"), body);
}

#[cfg(unix)]
#[test]
fn helper_stores_get_the_secret_on_stdin_and_auths_an_empty_entry() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tmp");
    let stored = dir.path().join("stored.json");
    let helper = dir.path().join("docker-credential-rec");
    std::fs::write(&helper, format!("#!/bin/sh\ncat > {}\n", stored.display())).expect("write");
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let env = Env::from_pairs([("PATH", format!("{}:/usr/bin:/bin", dir.path().display()))]);
    let p = write(
        dir.path(),
        r#"{"credsStore":"rec","auths":{"r.azurecr.io":{"auth":"c3RhbGU6c3RhbGU=","x":1}}}"#,
    );
    let results = write_credentials(
        &p,
        &[("r.azurecr.io".into(), cred("tok", EntryForm::IdentityToken))],
        &env,
    )
    .expect("write");
    assert!(
        matches!(results.as_slice(), [Ok(CredentialStore::Helper { .. })]),
        "{results:?}"
    );
    let sent: Value = serde_json::from_slice(&std::fs::read(&stored).expect("read")).expect("json");
    assert_eq!(
        sent,
        serde_json::json!({"ServerURL":"r.azurecr.io","Username":"<token>","Secret":"tok"})
    );
    let v = read_json(&p);
    assert_eq!(
        v["auths"]["r.azurecr.io"],
        serde_json::json!({"x": 1}),
        "stale secret removed, other fields kept"
    );
}

#[test]
fn a_concurrent_writer_is_merged_not_lost() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = write(dir.path(), r#"{"auths":{}}"#);
    let mut attempts = 0;
    update(&p, |cfg| {
        attempts += 1;
        if attempts == 1 {
            // Another program (docker login) writes between our read and our rename.
            std::fs::write(&p, r#"{"auths":{"other.io":{"auth":"eDp5"}}}"#).expect("write");
        }
        cfg.set_credential("r.azurecr.io", &cred("t", EntryForm::Password))
    })
    .expect("update");
    assert_eq!(attempts, 2);
    let v = read_json(&p);
    assert_eq!(v["auths"]["other.io"]["auth"], "eDp5");
    assert!(v["auths"]["r.azurecr.io"]["auth"].is_string());
}

/// Docker saving in the instant between our last check and our rename: its save is handed back
/// by the exchange and merged, not lost.
#[cfg(any(target_os = "linux", target_os = "macos"))]
#[test]
fn a_save_landing_during_the_rename_is_merged_not_lost() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = write(dir.path(), r#"{"auths":{}}"#);
    let other = p.clone();
    crate::fsutil::BEFORE_SWAP.with(|hook| {
        *hook.borrow_mut() = Some(Box::new(move || {
            std::fs::write(&other, r#"{"auths":{"other.io":{"auth":"eDp5"}}}"#).expect("write");
        }));
    });
    let mut attempts = 0;
    update(&p, |cfg| {
        attempts += 1;
        cfg.set_credential("r.azurecr.io", &cred("t", EntryForm::Password))
    })
    .expect("update");
    assert_eq!(attempts, 2, "merged again onto what docker saved");
    let v = read_json(&p);
    assert_eq!(v["auths"]["other.io"]["auth"], "eDp5");
    assert!(v["auths"]["r.azurecr.io"]["auth"].is_string());
}

/// When what our write displaced is not valid JSON, it is put back as it was, not judged.
#[cfg(any(target_os = "linux", target_os = "macos"))]
#[test]
fn a_displaced_save_we_cannot_read_is_put_back() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = write(dir.path(), r#"{"auths":{}}"#);
    let other = p.clone();
    crate::fsutil::BEFORE_SWAP.with(|hook| {
        *hook.borrow_mut() = Some(Box::new(move || {
            std::fs::write(&other, "{half a file").expect("write");
        }));
    });
    let err = update(&p, |cfg| {
        cfg.set_credential("r.azurecr.io", &cred("t", EntryForm::Password))
    })
    .expect_err("unreadable");
    assert!(err.to_string().contains("config.json"), "{err}");
    assert_eq!(std::fs::read_to_string(&p).expect("read"), "{half a file");
}

#[test]
fn unchanged_entries_are_not_rewritten() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("config.json");
    let creds = [("r.azurecr.io".to_owned(), cred("t", EntryForm::Password))];
    write_creds(&p, &creds).expect("w");
    // A time no write can give the file: any rewrite would change it, however soon it came.
    let before = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    std::fs::File::options()
        .write(true)
        .open(&p)
        .expect("open")
        .set_modified(before)
        .expect("set mtime");
    write_creds(&p, &creds).expect("w");
    assert_eq!(
        std::fs::metadata(&p)
            .expect("meta")
            .modified()
            .expect("mtime"),
        before
    );
}

#[test]
fn helper_names_are_checked_before_anything_is_run() {
    for ok in [
        "desktop",
        "osxkeychain",
        "ecr-login",
        "acr_env",
        "desktop.exe",
        "a.b-c_d",
    ] {
        assert!(helper::is_valid_name(ok), "{ok}");
    }
    for bad in [
        "",
        ".",
        "..",
        "../evil",
        "x/../../evil",
        "/usr/bin/evil",
        "x\\..\\evil",
        "evil;rm",
        "evil name",
        "évil",
        "a\0b",
    ] {
        assert!(!helper::is_valid_name(bad), "{bad:?}");
    }
}

#[cfg(unix)]
#[test]
fn a_helper_name_that_is_a_path_runs_nothing_and_leaves_config_json_untouched() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tmp");
    // `docker-credential-x/../../evil` on PATH would be dir/evil.
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(bin.join("docker-credential-x")).expect("mkdir");
    let ran = dir.path().join("ran");
    let evil = dir.path().join("evil");
    std::fs::write(
        &evil,
        format!("#!/bin/sh\ntouch {}\ncat > /dev/null\n", ran.display()),
    )
    .expect("write");
    std::fs::set_permissions(&evil, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let env = Env::from_pairs([("PATH", bin.display().to_string())]);
    for body in [
        r#"{"credsStore":"x/../../evil","auths":{"ghcr.io":{}}}"#,
        r#"{"credHelpers":{"r.azurecr.io":"x/../../evil"},"auths":{"ghcr.io":{}}}"#,
    ] {
        let p = write(dir.path(), body);
        let results = write_credentials(
            &p,
            &[("r.azurecr.io".into(), cred("t", EntryForm::Password))],
            &env,
        );
        let err = match results {
            Err(e) => e,
            Ok(per_registry) => per_registry
                .into_iter()
                .find_map(|r| r.err())
                .expect("refused"),
        };
        assert!(
            err.to_string().contains("is not a helper name")
                && err.to_string().contains("config.json"),
            "{err}"
        );
        assert!(
            err.hint().expect("hint").plain().contains("credsStore"),
            "{err:?}"
        );
        assert!(!ran.exists(), "the program was run for {body}");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), body);
    }
}

/// Another process holding ACR Tray's lock on config.json (another user can hold a lock file
/// they can open) makes the write fail with the lock file and its holder named once the wait
/// is over, never hang; config.json is left as it was.
#[test]
fn a_held_lock_is_waited_for_within_a_bound_and_named() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = write(dir.path(), r#"{"auths":{"other.io":{"auth":"eDp5"}}}"#);
    let held = lock_within(&p, std::time::Duration::ZERO).expect("first");
    TEST_LOCK_WAIT.with(|w| w.set(Some(std::time::Duration::ZERO)));
    let err = write_creds(
        &p,
        &[("myreg.azurecr.io".into(), cred("tok", EntryForm::Password))],
    )
    .expect_err("held");
    TEST_LOCK_WAIT.with(|w| w.set(None));
    let Error::LockHeld { path, holder, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(path, &dir.path().join(".acr-tray.lock"));
    // (Windows' locks also keep others from reading what the file says.)
    #[cfg(unix)]
    assert!(
        holder.starts_with(&format!("process {} (", std::process::id())),
        "{holder}"
    );
    let text = err.to_string();
    assert!(
        text.contains(".acr-tray.lock") && text.contains(holder),
        "{text}"
    );
    assert!(
        err.hint().is_some_and(|h| h.plain().contains("delete it")),
        "{err:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&p).expect("read"),
        r#"{"auths":{"other.io":{"auth":"eDp5"}}}"#
    );
    drop(held);
    write_creds(
        &p,
        &[("myreg.azurecr.io".into(), cred("tok", EntryForm::Password))],
    )
    .expect("free again");
    assert!(std::fs::read_to_string(&p).expect("read").contains("myreg"));
}

/// A lock file an older version left readable by others is tightened; a new one is private.
#[cfg(unix)]
#[test]
fn the_lock_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("config.json");
    let lock_path = dir.path().join(".acr-tray.lock");
    let mode = || {
        std::fs::metadata(&lock_path)
            .expect("meta")
            .permissions()
            .mode()
            & 0o777
    };
    drop(lock_within(&p, std::time::Duration::ZERO).expect("lock"));
    assert_eq!(mode(), 0o600);
    std::fs::set_permissions(&lock_path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    drop(lock_within(&p, std::time::Duration::ZERO).expect("lock"));
    assert_eq!(mode(), 0o600);
}

/// A token is never left in a config.json others can read: writing one into `auths` makes the
/// file 0600, as Docker creates it. A write that puts no token there leaves the mode alone.
#[cfg(unix)]
#[test]
fn a_token_goes_only_into_a_private_config_json() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tmp");
    let p = write(dir.path(), r#"{"auths":{"other.io":{"auth":"eDp5"}}}"#);
    let mode = || std::fs::metadata(&p).expect("meta").permissions().mode() & 0o777;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    write_creds(
        &p,
        &[("myreg.azurecr.io".into(), cred("tok", EntryForm::Password))],
    )
    .expect("write");
    assert_eq!(mode(), 0o600);
    assert_eq!(read_json(&p)["auths"]["other.io"]["auth"], "eDp5");

    // Through our own helper config.json holds no token: its mode is the user's business.
    let p = write(
        dir.path(),
        r#"{"auths":{},"credHelpers":{"myreg.azurecr.io":"acr-tray"}}"#,
    );
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    write_creds(
        &p,
        &[("myreg.azurecr.io".into(), cred("tok", EntryForm::Password))],
    )
    .expect("write");
    assert_eq!(mode(), 0o644);
}

/// Backups hold credentials: each is private and only the newest three are kept, whatever else
/// lies in the folder.
#[test]
fn backups_are_private_and_only_the_newest_three_kept() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = write(dir.path(), r#"{"auths":{"r.io":{"auth":"c2VjcmV0"}}}"#);
    let old = [
        "config.json.acr-tray-backup-20200101T000000.000Z",
        "config.json.acr-tray-backup-20200102T000000.000Z",
        "config.json.acr-tray-backup-20200103T000000.000Z",
    ];
    for name in old {
        std::fs::write(dir.path().join(name), "old").expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                dir.path().join(name),
                std::fs::Permissions::from_mode(0o644),
            )
            .expect("chmod");
        }
    }
    std::fs::write(dir.path().join("config.json.bak"), "theirs").expect("write");
    let made = backup(&p).expect("backup").expect("made");
    assert_eq!(
        std::fs::read(&made).expect("read"),
        std::fs::read(&p).expect("read")
    );
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("backup"))
        .collect();
    names.sort();
    let newest = made
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert_eq!(names, [old[1], old[2], newest.as_str()]);
    assert!(
        dir.path().join("config.json.bak").exists(),
        "not ours: kept"
    );
    #[cfg(unix)]
    for name in &names {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(name))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    const OURS: &str = "ours.azurecr.io";

    /// Any JSON value Docker or another tool could leave (numbers are integers: serde_json
    /// reads floats to the nearest value only within a last digit, and config.json holds none).
    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            ".{0,20}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec((".{0,8}", inner), 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// A config.json of other tools' entries (and maybe an entry of ours with fields of theirs).
    fn foreign_config() -> impl Strategy<Value = Value> {
        let not_docker = |k: &String| !matches!(k.as_str(), "auths" | "credHelpers" | "credsStore");
        let not_ours = |k: &String| k != OURS;
        (
            proptest::collection::vec(
                (
                    ".{0,12}".prop_filter("not Docker's", not_docker),
                    json_value(),
                ),
                0..4,
            ),
            proptest::collection::vec(
                (
                    "[a-z0-9.:/-]{1,24}".prop_filter("not ours", not_ours),
                    json_value(),
                ),
                0..4,
            ),
            proptest::collection::vec(
                (
                    "[a-z0-9.:-]{1,24}".prop_filter("not ours", not_ours),
                    "[a-z-]{1,12}",
                ),
                0..3,
            ),
            proptest::option::of(proptest::collection::vec(
                ("[a-zA-Z]{1,10}", json_value()),
                0..3,
            )),
        )
            .prop_map(|(top, auths, helpers, ours)| {
                let mut root: Map<String, Value> = top.into_iter().collect();
                let mut auths: Map<String, Value> = auths.into_iter().collect();
                if let Some(fields) = ours {
                    auths.insert(OURS.to_owned(), Value::Object(fields.into_iter().collect()));
                }
                root.insert("auths".to_owned(), Value::Object(auths));
                let helpers: Map<String, Value> = helpers
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect();
                if !helpers.is_empty() {
                    root.insert("credHelpers".to_owned(), Value::Object(helpers));
                }
                Value::Object(root)
            })
    }

    proptest! {
        #![proptest_config(crate::proptest_config(128))]

        #[test]
        fn any_bytes_are_read_or_refused_and_reprinted_faithfully(
            bytes in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            if let Ok(config) = DockerConfig::parse(Path::new("config.json"), &bytes) {
                let again = DockerConfig::parse(Path::new("config.json"), &config.to_bytes());
                prop_assert!(again.is_ok());
                prop_assert_eq!(again.map(|c| c.root).unwrap_or_default(), config.root);
            }
        }

        #[test]
        fn any_json_is_read_or_refused_and_reprinted_faithfully(value in json_value()) {
            let bytes = value.to_string().into_bytes();
            if let Ok(config) = DockerConfig::parse(Path::new("config.json"), &bytes) {
                prop_assert_eq!(Value::Object(config.root.clone()), value);
                let _ = (config.creds_store(), config.cred_helpers(), config.entry(OURS), config.has_secrets(OURS));
                let again = DockerConfig::parse(Path::new("config.json"), &config.to_bytes());
                prop_assert_eq!(again.map(|c| c.root).unwrap_or_default(), config.root);
            }
        }

        /// Writing our entry never drops, alters or reorders anything of another tool's.
        #[test]
        fn merge_never_drops_a_foreign_entry(
            before in foreign_config(),
            token in "[A-Za-z0-9._-]{1,64}",
            identity_form in any::<bool>(),
            pretty in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().expect("tmp");
            let text = if pretty {
                serde_json::to_string_pretty(&before).unwrap_or_default()
            } else {
                before.to_string()
            };
            let path = write(dir.path(), &text);
            let form = if identity_form { EntryForm::IdentityToken } else { EntryForm::Password };
            write_creds(&path, &[(OURS.to_owned(), cred(&token, form))]).expect("written");
            let after = read_json(&path);

            let keys = |v: &Value| -> Vec<String> {
                v.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
            };
            for (key, value) in before.as_object().into_iter().flatten() {
                if key != "auths" {
                    prop_assert_eq!(&after[key], value, "top-level {}", key);
                }
            }
            let theirs = |v: &Value| -> Vec<String> {
                keys(&v["auths"]).into_iter().filter(|k| k != OURS).collect()
            };
            prop_assert_eq!(theirs(&after), theirs(&before));
            for (registry, entry) in before["auths"].as_object().into_iter().flatten() {
                if registry == OURS {
                    // Fields of other tools in our entry stay; the credential fields are ours.
                    for (field, value) in entry.as_object().into_iter().flatten() {
                        if !SECRET_FIELDS.contains(&field.as_str()) {
                            prop_assert_eq!(&after["auths"][OURS][field], value, "{}", field);
                        }
                    }
                } else {
                    prop_assert_eq!(&after["auths"][registry], entry, "{}", registry);
                }
            }
            let top = |v: &Value| -> Vec<String> { keys(v).into_iter().filter(|k| k != "auths").collect() };
            prop_assert_eq!(top(&after), top(&before));

            let config = DockerConfig::load(&path).expect("load");
            let entry = config.entry(OURS).expect("our entry");
            prop_assert_eq!(entry.username.as_str(), ZERO_GUID);
            prop_assert_eq!(entry.acr_token().map(|s| s.expose().to_owned()), Some(token));
        }
    }
}

#[cfg(unix)]
#[test]
fn extra_configs_name_a_folder_or_a_json_file_and_must_be_absolute() {
    let env = Env::from_pairs([("HOME", "/h")]);
    let file = |p: &str| extra_config_file(Path::new(p), &env);
    assert_eq!(
        file("/ci/docker").ok(),
        Some("/ci/docker/config.json".into())
    );
    assert_eq!(file("/ci/auth.JSON").ok(), Some("/ci/auth.JSON".into()));
    assert_eq!(file("~/dev").ok(), Some("/h/dev/config.json".into()));
    assert_eq!(file("~").ok(), Some("/h/config.json".into()));
    let relative = file("ci/docker").err().map(|e| e.to_string());
    assert!(
        relative
            .as_deref()
            .is_some_and(|e| e.contains("\"ci/docker\"") && e.contains("not an absolute path")),
        "{relative:?}"
    );
    let homeless = extra_config_file(Path::new("~/x"), &Env::default());
    assert!(homeless.is_err());
}
