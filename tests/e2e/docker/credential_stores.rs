//! Docker's credential stores: credential helpers chosen as Docker chooses them, ACR Tray's own
//! `docker-credential-acr-tray`, `docker use-helper`, `token`, the doctor, podman's auth.json.

use std::path::{Path, PathBuf};

use acr_tray_tests::{World, ZERO_GUID, assert_contains, element_where};
use fake_azure::Role;

/// A recording credential helper: argv to `calls.log`, each `store` input to `store.json`.
pub(super) fn recording_helper(dir: &Path, name: &str) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join(format!("docker-credential-{name}"));
    acr_tray_tests::write_program(
        &helper,
        &format!(
            "#!/bin/sh\necho \"$@\" >> {dir}/calls.log\ncase \"$1\" in\n  store) cat > {dir}/store.json;;\n  get) cat > /dev/null; if [ -f {dir}/store.json ]; then cat {dir}/store.json; else echo 'credentials not found in native keychain'; exit 1; fi;;\n  *) cat > /dev/null;;\nesac\n",
            dir = dir.display()
        ),
    );
    bin
}

/// A world whose `PATH` starts with a [`recording_helper`] called `name`, recording under
/// the returned folder; the helper's folder is returned second.
fn world_with_recording_helper(name: &str) -> (World, PathBuf, PathBuf) {
    let mut w = World::new();
    let dir = w.home.path().join("helper");
    let bin = recording_helper(&dir, name);
    with_path(&mut w, &bin);
    (w, dir, bin)
}

/// The doctor's finding with this `code` in its `--json` report.
fn finding(report: &serde_json::Value, code: &str) -> serde_json::Value {
    element_where(&report["findings"], "code", code)
}

pub(super) fn with_path(w: &mut World, bin: &Path) {
    w.extra_env.retain(|(k, _)| k != "PATH");
    w.extra_env
        .push(("PATH".into(), format!("{}:/usr/bin:/bin", bin.display())));
}

fn signed_in(w: &World, name: &str) -> fake_azure::Registry {
    w.signed_in_registry(name, Role::AcrPush).1
}

#[test]
fn check_reads_the_credential_a_helper_keeps() {
    let (w, dir, _) = world_with_recording_helper("checker");
    let r = w.signed_in_registry("helperchk", Role::AcrPull).1;
    std::fs::write(w.docker_config_path(), r#"{"credsStore":"checker"}"#).unwrap();
    w.cli(&["refresh"]).expect_code(0);
    let out = w
        .cli(&["check", "helperchk", "--repository", "app"])
        .expect_code(0);
    assert_message!(w, "check_helper_stdout", out.stdout);
    let json = w
        .cli(&["check", "helperchk", "--json"])
        .expect_code(0)
        .json();
    assert_eq!(
        json["source"],
        serde_json::json!({"kind": "helper", "helper": "checker", "key": "credsStore"})
    );
    assert_eq!(json["authenticated"], true);
    let argv = std::fs::read_to_string(dir.join("calls.log")).unwrap();
    assert_eq!(
        argv.split_whitespace().collect::<Vec<_>>(),
        ["store", "get", "get"]
    );
    // The helper erased: Docker holds nothing, and says so.
    std::fs::remove_file(dir.join("store.json")).unwrap();
    let out = w.cli(&["check", "helperchk"]).expect_code(3);
    assert_message!(w, "check_helper_empty_stderr", out.stderr);
    let _ = r;
}

#[test]
fn creds_store_helper_gets_the_token_on_stdin_never_argv() {
    let (w, dir, _) = world_with_recording_helper("recorder");
    let r = signed_in(&w, "helpered1");
    std::fs::write(
        w.docker_config_path(),
        r#"{"credsStore":"recorder","auths":{"ghcr.io":{}}}"#,
    )
    .unwrap();
    w.cli(&["refresh"]).expect_code(0);
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("store.json")).unwrap()).unwrap();
    assert_eq!(stored["ServerURL"], r.login_server);
    assert_eq!(stored["Username"], ZERO_GUID);
    let token = stored["Secret"].as_str().unwrap();
    assert_eq!(
        w.password_form_status(&r.login_server, token, "repository:a:pull"),
        200
    );
    let argv = std::fs::read_to_string(dir.join("calls.log")).unwrap();
    assert!(
        !argv.contains(token),
        "the token never travels on argv: {argv}"
    );
    assert_eq!(argv.trim(), "store");
    let cfg = w.docker_config();
    assert_eq!(
        cfg["auths"][&r.login_server],
        serde_json::json!({}),
        "an empty entry next to the helper, as Docker writes"
    );
    assert_eq!(cfg["credsStore"], "recorder");
}

#[test]
fn an_empty_config_uses_dockers_default_store() {
    let (w, dir, _) = world_with_recording_helper("secretservice");
    signed_in(&w, "defaultst");
    w.cli(&["refresh"]).expect_code(0);
    assert!(
        dir.join("store.json").exists(),
        "stored through docker-credential-secretservice"
    );
    assert_eq!(
        w.docker_config()["credsStore"],
        "secretservice",
        "persisted as Docker does"
    );
}

fn helper_cli(w: &World, action: &str, stdin: &str) -> (i32, String) {
    let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    struct W(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for W {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let ctx = acr_tray_cli::Context {
        env: w.env(),
        stdin: Box::new(std::io::Cursor::new(stdin.as_bytes().to_vec())),
        stdout: Box::new(W(out.clone())),
        stderr: Box::new(std::io::sink()),
        secrets: w.secrets.clone(),
        http: Default::default(),
        retry_base: std::time::Duration::from_millis(10),
        clock: acr_tray_engine::system_clock(),
        terminal: false,
    };
    let code = acr_tray_cli::credential_helper::run(
        vec!["docker-credential-acr-tray".into(), action.into()],
        ctx,
    );
    let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
    (code, text)
}

#[test]
fn our_helper_answers_from_the_cache_without_network() {
    let w = World::new();
    let r = signed_in(&w, "ownhelper");
    let (code, text) = helper_cli(&w, "get", "ghcr.io");
    assert_eq!(
        (code, text.trim()),
        (1, "credentials not found in native keychain")
    );
    w.fake.clear_requests();
    let (code, text) = helper_cli(&w, "get", &format!("https://{}/", r.login_server));
    assert_eq!(code, 0, "{text}");
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["Username"], ZERO_GUID);
    let token = answer["Secret"].as_str().unwrap().to_owned();
    assert_eq!(
        w.password_form_status(&r.login_server, &token, "repository:a:push"),
        200
    );
    assert!(!w.fake.requests().is_empty(), "the first get refreshed");
    w.fake.clear_requests();
    let (code, again) = helper_cli(&w, "get", &r.login_server);
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&again).unwrap()["Secret"],
        token.as_str()
    );
    assert!(
        w.fake.requests().is_empty(),
        "a fresh cache costs no request: {:?}",
        w.fake.requests()
    );
    let (_, list) = helper_cli(&w, "list", "");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&list).unwrap()[&r.login_server],
        ZERO_GUID
    );
    let (code, text) = helper_cli(
        &w,
        "store",
        &format!(
            "{{\"ServerURL\":\"{}\",\"Username\":\"x\",\"Secret\":\"y\"}}",
            r.login_server
        ),
    );
    assert_eq!(code, 1);
    assert!(
        text.contains("keeps") && !text.contains('y') || text.contains("itself"),
        "{text}"
    );
    let (code, _) = helper_cli(&w, "erase", &r.login_server);
    assert_eq!(code, 0);
    let (_, list) = helper_cli(&w, "list", "");
    assert_eq!(list.trim(), "{}");
    // After an erase, get refreshes again.
    w.fake.clear_requests();
    assert_eq!(helper_cli(&w, "get", &r.login_server).0, 0);
    assert!(!w.fake.requests().is_empty());
}

#[test]
fn our_helper_never_waits_for_the_docker_config_lock() {
    // Another ACR Tray process holds the lock on Docker's config (a refresh writing it, or one
    // stuck calling a slow credential helper): Docker's `get` and `list` still answer, a `get`
    // that must refresh first included.
    let w = World::new();
    let r = signed_in(&w, "lockfree");
    std::fs::write(
        w.docker_config_path(),
        format!(r#"{{"credHelpers":{{"{}":"acr-tray"}}}}"#, r.login_server),
    )
    .unwrap();
    let before = std::fs::read(w.docker_config_path()).unwrap();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(w.home.docker_dir().join(".acr-tray.lock"))
        .unwrap();
    lock.lock().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let get = helper_cli(&w, "get", &r.login_server);
            let list = helper_cli(&w, "list", "");
            let _ = tx.send((get, list));
        });
        // Only a hang waits this long: the answers take milliseconds.
        let ((code, text), (_, list)) = rx
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("the helper waited for the lock another process holds");
        assert_eq!(code, 0, "{text}");
        let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
        let token = answer["Secret"].as_str().unwrap();
        assert_eq!(
            w.password_form_status(&r.login_server, token, "repository:a:pull"),
            200
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&list).unwrap()[&r.login_server],
            ZERO_GUID
        );
    });
    lock.unlock().unwrap();
    assert_eq!(
        std::fs::read(w.docker_config_path()).unwrap(),
        before,
        "Docker's config is only read"
    );
    let status = w.cli(&["status", "--json"]).expect_code(0).json();
    assert!(
        status["registries"][0]["expiresAt"].is_string(),
        "the status shows the token Docker gets from the helper: {status}"
    );
}

#[test]
fn a_token_for_a_registry_docker_keeps_in_its_config_leaves_its_status_alone() {
    // `token` (like the helper) refreshes ACR Tray's own copy only: the status keeps saying
    // when the token in Docker's config runs out, which is what the refresh cycle plans by.
    let w = World::new();
    let r = signed_in(&w, "ownstatus");
    w.cli(&["refresh"]).expect_code(0);
    let expiry = |w: &World| {
        w.cli(&["status", "--json"]).expect_code(0).json()["registries"][0]["expiresAt"].clone()
    };
    let docker_before = std::fs::read(w.docker_config_path()).unwrap();
    let before = expiry(&w);
    assert!(before.is_string(), "{before}");
    // The cache is gone (as after `erase`): `token` must fetch a new one.
    assert_eq!(helper_cli(&w, "erase", &r.login_server).0, 0);
    // Ten minutes on, so the new token runs out later than the one in Docker's config.
    w.fake.advance_clock(std::time::Duration::from_secs(600));
    w.fake.clear_requests();
    w.cli(&["token", &r.name]).expect_code(0);
    assert!(!w.fake.requests().is_empty(), "a new token was fetched");
    assert_eq!(expiry(&w), before);
    assert_eq!(
        std::fs::read(w.docker_config_path()).unwrap(),
        docker_before
    );
}

#[test]
fn use_helper_moves_tokens_to_our_helper_and_stop_helper_back_keeping_three_private_backups() {
    let w = World::new();
    let r = signed_in(&w, "switchreg");
    w.cli(&["refresh"]).expect_code(0);
    let out = w.cli(&["docker", "use-helper"]).expect_code(0);
    assert_message!(w, "use_helper_stdout", out.stdout);
    let backups = || {
        std::fs::read_dir(w.home.docker_dir())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("acr-tray-backup"))
            .map(|e| e.path())
            .collect::<Vec<_>>()
    };
    assert_eq!(backups().len(), 1);
    let cfg = w.docker_config();
    assert_eq!(cfg["credHelpers"][&r.login_server], "acr-tray");
    assert_eq!(
        cfg["auths"][&r.login_server],
        serde_json::json!({}),
        "no token left in config.json"
    );
    let (code, text) = helper_cli(&w, "get", &r.login_server);
    assert_eq!(code, 0, "{text}");
    // refresh keeps writing to the cache, not config.json.
    w.cli(&["refresh"]).expect_code(0);
    assert_eq!(
        w.docker_config()["auths"][&r.login_server],
        serde_json::json!({})
    );
    w.cli(&["docker", "stop-helper"]).expect_code(0);
    let cfg = w.docker_config();
    assert!(cfg.get("credHelpers").is_none(), "{cfg:#}");
    assert!(cfg["auths"][&r.login_server]["auth"].is_string());

    // Backups hold credentials: private, and no more than three of them pile up.
    w.cli(&["docker", "use-helper"]).expect_code(0);
    w.cli(&["docker", "stop-helper"]).expect_code(0);
    let kept = backups();
    assert_eq!(kept.len(), 3, "{kept:?}");
    #[cfg(unix)]
    for backup in kept {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backup).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", backup.display());
    }
}

#[test]
fn token_prints_the_current_refresh_token() {
    let w = World::new();
    let r = signed_in(&w, "tokenreg1");
    let out = w.cli(&["token", &r.name]).expect_code(0);
    let token = out.stdout.trim().to_owned();
    assert_eq!(
        w.password_form_status(&r.login_server, &token, "repository:a:pull"),
        200
    );
    assert_message!(w, "token_stderr", out.stderr);
    let json = w.cli(&["token", &r.name, "--json"]).expect_code(0).json();
    assert_eq!(json["loginServer"], r.login_server);
    assert_eq!(json["username"], ZERO_GUID);
    assert_eq!(
        json["accessToken"],
        token.as_str(),
        "fresh enough: the cached token again"
    );
    assert!(json["expiresOn"].is_string());
    w.cli(&["token", "nosuchreg"]).expect_code(2);
}

#[test]
fn doctor_finds_each_planted_problem_and_fix_repairs_it() {
    let (w, _, _) = world_with_recording_helper("recorder");
    let a = signed_in(&w, "doctora1");
    let b = w
        .fake
        .add_registry(fake_azure::RegistrySpec::new("doctorb2"));
    let sp_b = w.service_principal();
    w.fake.assign_role(&b.name, &sp_b.object_id, Role::AcrPull);
    w.login(&sp_b).expect_code(0);
    w.cli(&["registry", "add", &b.name, "--identity", &sp_b.client_id])
        .expect_code(0);
    // a: sent to a helper that is not installed, with a stale plaintext entry beside it.
    // b: an expired token in config.json. And the file is readable by others.
    let expired = format!("x.{}.y", base64_url(r#"{"exp":1000}"#));
    let stale = base64_std(&format!("{ZERO_GUID}:{expired}"));
    let body = format!(
        r#"{{"credHelpers":{{"{a}":"gone"}},"auths":{{"{a}":{{"auth":"{stale}"}},"{b}":{{"auth":"{stale}"}},"ghcr.io":{{"auth":"eDp5"}}}}}}"#,
        a = a.login_server,
        b = b.login_server
    );
    std::fs::write(w.docker_config_path(), &body).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            w.docker_config_path(),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
    }
    let out = w.cli(&["doctor", "--json"]).expect_code(1);
    let report = out.json();
    let codes: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect();
    for expected in [
        "config-mode",
        "missing-helper",
        "hidden-stale-entry",
        "expired",
    ] {
        assert!(
            codes.iter().any(|c| c == expected),
            "{expected} not found in {codes:?}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(w.docker_config_path()).unwrap(),
        body,
        "doctor alone changes nothing"
    );
    let human = w.cli(&["doctor"]).expect_code(1).stdout;
    assert_message!(w, "doctor_stdout", human);

    let out = w.cli(&["doctor", "--fix"]).expect_code(0);
    assert_message!(w, "doctor_fix_stdout", out.stdout);
    let cfg = w.docker_config();
    assert_eq!(
        cfg["auths"]["ghcr.io"]["auth"], "eDp5",
        "other entries untouched"
    );
    assert!(cfg.get("credHelpers").is_none(), "{cfg:#}");
    let (_, token) = w.docker_auth(&b.login_server);
    assert_ne!(token, expired);
    #[cfg(unix)]
    assert_eq!(acr_tray_tests::file_mode(&w.docker_config_path()), 0o600);
}

#[test]
fn podman_auth_file_is_kept_in_sync() {
    let mut w = World::new();
    let run = w.home.path().join("run");
    std::fs::create_dir_all(&run).unwrap();
    w.extra_env
        .push(("XDG_RUNTIME_DIR".into(), run.display().to_string()));
    let r = signed_in(&w, "podmanreg");
    w.edit_settings(|text| text.replace("podman = false", "podman = true"));
    let auth = run.join("containers/auth.json");
    std::fs::create_dir_all(auth.parent().unwrap()).unwrap();
    std::fs::write(&auth, r#"{"auths":{"quay.io":{"auth":"eDp5"}}}"#).unwrap();
    w.cli(&["refresh"]).expect_code(0);
    let podman: serde_json::Value = serde_json::from_slice(&std::fs::read(&auth).unwrap()).unwrap();
    assert_eq!(podman["auths"]["quay.io"]["auth"], "eDp5");
    assert_eq!(
        podman["auths"][&r.login_server],
        w.docker_config()["auths"][&r.login_server]
    );
}

fn base64_url(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

fn base64_std(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn tokens_too_large_for_wincred_are_flagged_and_moved_to_our_helper() {
    let (w, dir, bin) = world_with_recording_helper("wincred");
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_acr-tray-credential-helper"),
        bin.join("docker-credential-acr-tray"),
    )
    .unwrap();
    let r = signed_in(&w, "wincredreg");
    std::fs::write(w.docker_config_path(), r#"{"credsStore":"wincred"}"#).unwrap();
    // What the Credential Manager would be asked to keep: a token over its 2,560-byte limit.
    let big = format!(
        "x.{}.y",
        base64_url(&format!(
            r#"{{"exp":4000000000,"pad":"{}"}}"#,
            "a".repeat(3000)
        ))
    );
    std::fs::write(
        dir.join("store.json"),
        serde_json::json!({"ServerURL": r.login_server, "Username": ZERO_GUID, "Secret": big})
            .to_string(),
    )
    .unwrap();
    let report = w.cli(&["doctor", "--json"]).expect_code(1).json();
    let finding = finding(&report, "wincred-size");
    assert!(
        finding["message"].as_str().unwrap().contains("2560"),
        "{finding}"
    );
    w.cli(&["doctor", "--fix"]).expect_code(0);
    assert_eq!(
        w.docker_config()["credHelpers"][&r.login_server],
        "acr-tray"
    );
}

#[test]
fn the_helper_program_answers_from_the_cache_and_hands_a_refresh_to_the_cli() {
    // As Docker runs it: a process of its own, with no keyring (the secret in a file, the
    // cache in the state folder).
    let w = World::new();
    let sp = w.service_principal();
    let r = w.registry("ownprocess", &sp, Role::AcrPush);
    w.login_secret_in_home(&sp).expect_code(0);
    w.cli(&["registry", "add", &r.name]).expect_code(0);
    let helper = |action: &str, input: &str| {
        let out = acr_tray_tests::run_process(
            std::process::Command::new(env!("CARGO_BIN_EXE_acr-tray-credential-helper"))
                .arg(action)
                .env_clear()
                .envs(w.env().vars())
                .env("PATH", "/usr/bin:/bin")
                .env("DBUS_SESSION_BUS_ADDRESS", "disabled:"),
            input,
        );
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };

    w.fake.clear_requests();
    let (code, text, _) = helper("get", "https://index.docker.io/v1/");
    assert_eq!(
        (code, text.trim()),
        (Some(1), "credentials not found in native keychain")
    );
    assert!(w.fake.requests().is_empty());

    // Nothing cached yet: the refresh runs in the CLI, whose answer is Docker's.
    let (code, text, err) = helper("get", &r.login_server);
    assert_eq!(code, Some(0), "{text}\n{err}");
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["ServerURL"], r.login_server);
    assert_eq!(answer["Username"], ZERO_GUID);
    let token = answer["Secret"].as_str().unwrap().to_owned();
    assert_eq!(
        w.password_form_status(&r.login_server, &token, "repository:a:push"),
        200
    );
    assert_eq!(w.exchange_count(), 1);
    assert!(w.home.path().join("state/acr-tokens.json").exists());
    // Kept in a file for want of a keyring: the doctor says so.
    let report = w.cli(&["doctor", "--json"]).json();
    let finding = finding(&report, "token-file");
    assert_eq!(finding["severity"], "warning", "{finding}");
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("acr-tokens.json"),
        "{finding}"
    );

    // Then from the cache, in the helper alone.
    w.fake.clear_requests();
    let (code, again, _) = helper("get", &r.login_server);
    assert_eq!(code, Some(0));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&again).unwrap()["Secret"],
        token.as_str()
    );
    assert!(w.fake.requests().is_empty(), "{:#?}", w.fake.requests());
    let (code, list, _) = helper("list", "");
    assert_eq!(code, Some(0));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&list).unwrap()[&r.login_server],
        ZERO_GUID
    );

    // A refresh that fails says why, on stdout (where Docker reads it), with the CLI's code.
    assert_eq!(helper("erase", &r.login_server).0, Some(0));
    std::fs::remove_file(w.home.path().join("sp-secret")).unwrap();
    let (code, text, _) = helper("get", &r.login_server);
    assert_eq!(code, Some(1), "{text}");
    assert_contains(&text, "sp-secret");
}
