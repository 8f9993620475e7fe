use super::*;

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
    write_credentials(
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
    write_credentials(
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
    write_credentials(
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
        let err = write_credentials(
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
fn helpers_that_shadow_auths_are_reported_not_written() {
    let dir = tempfile::tempdir().expect("tmp");
    let body = r#"{"credHelpers":{"r.azurecr.io":"acr-env"},"auths":{}}"#;
    let p = write(dir.path(), body);
    let err = write_credentials(
        &p,
        &[("r.azurecr.io".into(), cred("t", EntryForm::Password))],
    )
    .expect_err("helper");
    assert!(
        err.to_string().contains("docker-credential-acr-env"),
        "{err}"
    );
    assert!(err.hint().expect("hint").contains("credHelpers"));
    assert_eq!(std::fs::read_to_string(&p).expect("read"), body);

    let cfg = DockerConfig::load(&write(dir.path(), r#"{"credsStore":"desktop"}"#)).expect("load");
    assert_eq!(
        cfg.store_for("x.azurecr.io"),
        CredentialStore::Helper {
            helper: "desktop".into(),
            key: "credsStore"
        }
    );
    let cfg = DockerConfig::load(&write(dir.path(), r#"{"credsStore":""}"#)).expect("load");
    assert_eq!(cfg.store_for("x.azurecr.io"), CredentialStore::File);
}

#[test]
fn unchanged_entries_are_not_rewritten() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("config.json");
    let creds = [("r.azurecr.io".to_owned(), cred("t", EntryForm::Password))];
    write_credentials(&p, &creds).expect("w");
    let before = std::fs::metadata(&p)
        .expect("meta")
        .modified()
        .expect("mtime");
    std::thread::sleep(std::time::Duration::from_millis(20));
    write_credentials(&p, &creds).expect("w");
    assert_eq!(
        std::fs::metadata(&p)
            .expect("meta")
            .modified()
            .expect("mtime"),
        before
    );
}
