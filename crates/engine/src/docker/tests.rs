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
    assert!(err.hint().expect("hint").contains("doctor --fix"));
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
        assert!(err.hint().expect("hint").contains("credsStore"), "{err:?}");
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
        err.hint().is_some_and(|h| h.contains("delete it")),
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
