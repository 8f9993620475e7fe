//! The real tray app end to end on a desktop: `acr-tray` (the Tauri shell with the engine, and
//! its WebKit window in a process of its own) under Xvfb in a private D-Bus session with a notification daemon
//! (dunst) and an unlocked Secret Service (gnome-keyring), driven through WebDriver
//! (WebKitGTK's `WebKitWebDriver`) and through its tray menu over D-Bus, against the fake
//! Azure over TLS. `scripts/desktop-tests.sh` sets the desktop up and runs these; the normal
//! `cargo test` skips them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod driver;
mod dunst;
mod tray;
mod ui;

use std::path::{Path, PathBuf};

use acr_tray_engine::{KeyringStore, SecretStore, client_secret_key, refresh_token_key};
use acr_tray_tests::{World, ZERO_GUID};
use base64::Engine as _;
use fake_azure::{Role, Service};

use driver::Driver;
use tray::Tray;
use ui::{Ui, eventually};

/// Where screenshots go, if any are wanted: `ACR_TRAY_SCREENSHOT_DIR` (scripts/desktop-tests.sh
/// --screenshots points it at docs/screenshots). None are taken otherwise: nothing is checked on
/// them, and with the app's `GDK_GL=disable` WebKit answers a WebDriver screenshot only at its
/// next presentation of the window, which under Xvfb took from under a second to 45 s.
fn screenshot_dir() -> Option<PathBuf> {
    std::env::var_os("ACR_TRAY_SCREENSHOT_DIR").map(PathBuf::from)
}

fn require_desktop() {
    for var in ["DISPLAY", "DBUS_SESSION_BUS_ADDRESS"] {
        assert!(
            std::env::var_os(var).is_some(),
            "{var} is not set: run scripts/desktop-tests.sh (Xvfb, a D-Bus session, dunst, gnome-keyring)"
        );
    }
    dunst::wait_ready();
}

/// The RGBA pixels of a PNG.
fn pixels(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    assert_eq!(info.color_type, png::ColorType::Rgba, "{info:?}");
    (info.width, info.height, buf)
}

/// The state icon the tray shows now is `icons/tray/<name>.png` (compared pixel by pixel: the
/// tray writes the image it was given to a file of its own and names it in `IconName`).
fn tray_icon_is(tray: &Tray, name: &str) -> Result<(), String> {
    let path = tray.string_property("IconName")?;
    let shown = std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?;
    let design = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../icons/tray/{name}.png"));
    if pixels(&shown) == pixels(&std::fs::read(design).unwrap()) {
        Ok(())
    } else {
        Err(format!("the tray shows {path}, not the {name} icon"))
    }
}

/// The (user, password) of a registry's entry in Docker's config.json.
fn docker_entry(w: &World, login_server: &str) -> (String, String) {
    let cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(w.docker_config_path()).unwrap()).unwrap();
    let auth = cfg["auths"][login_server]["auth"]
        .as_str()
        .unwrap_or_else(|| panic!("no auth for {login_server} in {cfg:#}"));
    let raw = base64::engine::general_purpose::STANDARD
        .decode(auth)
        .unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (user, password) = raw.split_once(':').unwrap();
    (user.to_owned(), password.to_owned())
}

/// Docker's way in: the registry's token endpoint with the zero GUID and the refresh token.
async fn registry_accepts(w: &World, login_server: &str, refresh_token: &str) -> u16 {
    w.client()
        .get(format!("https://{login_server}/oauth2/token"))
        .query(&[("service", login_server), ("scope", "repository:app:pull")])
        .basic_auth(ZERO_GUID, Some(refresh_token))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Refresh-token grants of a person's session that Entra answered.
fn user_refresh_grants(w: &World) -> usize {
    w.fake
        .requests()
        .iter()
        .filter(|r| r.service == Service::Entra && r.grant_type.as_deref() == Some("refresh_token"))
        .count()
}

/// Notifications dunst got since `after` (its id).
fn notifications_after(after: i64) -> Vec<dunst::Received> {
    dunst::all().into_iter().filter(|n| n.id > after).collect()
}

/// Waits until dunst got a notification since `after`; then every one it got since.
async fn notified_after(after: i64, what: &str) -> Vec<dunst::Received> {
    eventually(what, || async {
        let got = notifications_after(after);
        if got.is_empty() {
            Err("no notification yet".to_owned())
        } else {
            Ok(got)
        }
    })
    .await
}

/// How many times a settings page finished loading, as the app's log says (the window's
/// process logs it; the tray writes the window's log lines into its own).
fn pages_loaded(w: &World) -> usize {
    let Ok(dir) = std::fs::read_dir(w.home.path().join("logs")) else {
        return 0;
    };
    dir.flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("acr-tray."))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .map(|text| text.matches("the settings page loaded").count())
        .sum()
}

#[test]
#[ignore = "needs a desktop session: scripts/desktop-tests.sh runs it"]
fn sign_in_add_registries_and_see_a_session_end() {
    require_desktop();
    let w = World::new();
    let sp = w.service_principal();
    let user = w.user("dev@contoso.example");
    // Device-code polls every second, so the test does not wait Entra's usual five.
    w.fake.set_device_code_timing(600, 1);
    let builds = w.fake.login_server("contosobuilds");
    let apps = w.fake.login_server("contosoapps");
    w.registry("contosobuilds", &sp, Role::AcrPush);
    w.registry_for("contosoapps", &user.object_id, Role::AcrPull);

    // The app gets its own home, settings, state, Docker config and caches; the session bus,
    // keyring and display are the desktop's.
    let scratch = tempfile::tempdir().unwrap();
    let env: Vec<(String, String)> = [
        ("ACR_TRAY_HOME", w.home.path().to_path_buf()),
        ("DOCKER_CONFIG", w.home.docker_dir().to_path_buf()),
        ("HOME", scratch.path().join("home")),
        ("XDG_CONFIG_HOME", scratch.path().join("config")),
        ("XDG_CACHE_HOME", scratch.path().join("cache")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.display().to_string()))
    .chain([("ACR_TRAY_LOG".to_owned(), "info".to_owned())])
    .collect();
    let app = driver::app_binary();
    let driver = Driver::start(&env, "ACR_TRAY_HOME", scratch.path().join("driver.log"));

    w.rt.block_on(async {
        let started = std::time::Instant::now();
        let ui = Ui::new(driver.session(&app, &["--settings"]).await, screenshot_dir());
        ui.wait_text("#summary", "shows the empty overview", |t| {
            t.starts_with("No registries yet")
        })
        .await;
        eprintln!("desktop: app up in {:?}", started.elapsed());
        // Nothing signed in, nothing added: the window opens the first-run guide, which the
        // sidebar leaves (this test signs in from Accounts and adds from Registries).
        ui.find("#first-run").await;
        let pid = driver.app_pid(&app).expect("the acr-tray process");
        let tray = eventually("the tray item is on the bus", || async {
            Tray::of_process(pid)
        })
        .await;
        let menu = tray.menu().unwrap();
        assert!(menu[0].label.starts_with("No registries yet"), "{menu:#?}");
        assert!(
            menu.iter().any(|e| e.label == "Fresh tokens now" && !e.enabled),
            "nothing to refresh yet: {menu:#?}"
        );
        let before = dunst::all().iter().map(|n| n.id).max().unwrap_or(0);

        // ---- A service principal, its secret typed into the window, kept in the keyring.
        ui.nav("accounts").await;
        ui.click("#sign-in").await;
        ui.find("#sign-in-dialog").await;
        ui.pick_sign_in_method("servicePrincipal").await;
        ui.type_into("#si-tenant", &sp.tenant).await;
        ui.type_into("#si-client", &sp.client_id).await;
        ui.type_into("#si-secret", &sp.secret).await;
        ui.click("#sign-in-submit").await;
        ui.gone("#sign-in-dialog").await;
        let sp_label = format!("Service principal {}", sp.client_id);
        ui.wait_text("li[data-account] h2", "shows the principal", |t| t == sp_label)
            .await;
        let sp_id = ui.attr("li[data-account]", "data-account").await.unwrap();
        let sp_card = format!("li[data-account='{sp_id}']");
        ui.wait_text(&format!("{sp_card} .badge"), "signs the principal in", |t| {
            t == "Signed in"
        })
        .await;
        let kept = KeyringStore::new()
            .get(&client_secret_key(&w.fake.authority_url(), &sp.tenant, &sp.client_id))
            .unwrap()
            .expect("the secret in the Secret Service");
        assert_eq!(kept.expose(), sp.secret);
        let settings = std::fs::read_to_string(w.home.path().join("config.toml")).unwrap();
        assert!(!settings.contains(&sp.secret), "{settings}");

        // ---- A registry by name, signed in with the principal (the only account: the default).
        ui.nav("registries").await;
        ui.click("#add-registry").await;
        ui.type_into("#reg-name", "contosobuilds").await;
        assert_eq!(
            ui.find("#reg-signin").await.prop("value").await.unwrap(),
            Some(format!("identity:{sp_id}"))
        );
        ui.submit_registry("contosobuilds").await;
        let (user_name, token) = docker_entry(&w, &builds);
        assert_eq!(user_name, ZERO_GUID);
        assert_eq!(registry_accepts(&w, &builds, &token).await, 200);

        // ---- A person, signed in with a device code shown in the window.
        ui.nav("accounts").await;
        ui.click("#sign-in").await;
        ui.pick_sign_in_method("deviceCode").await;
        ui.click("#sign-in-submit").await;
        let code = ui
            .wait_text("#device-code", "shows a device code", |t| !t.is_empty())
            .await;
        assert_eq!(code, w.fake.last_device_code().unwrap().user_code);
        ui.screenshot("device-code").await;
        assert!(w.fake.approve_device_code(&code, &user), "code {code} pending");
        ui.gone("#sign-in-dialog").await;
        let user_id = ui
            .find_xpath("//li[@data-account][.//h2[.='dev@contoso.example']]")
            .await
            .attr("data-account")
            .await
            .unwrap()
            .unwrap();
        let user_card = format!("li[data-account='{user_id}']");
        ui.wait_text(&format!("{user_card} .badge"), "signs the person in", |t| {
            t == "Signed in"
        })
        .await;
        assert!(
            KeyringStore::new()
                .get(&refresh_token_key(&w.fake.authority_url(), &user_id))
                .unwrap()
                .is_some(),
            "the person's refresh token in the Secret Service"
        );

        // ---- A second registry, signed in with the person.
        ui.nav("registries").await;
        ui.click("#add-registry").await;
        ui.type_into("#reg-name", "contosoapps").await;
        ui.find_xpath(
            "//select[@id='reg-signin']/optgroup[@label='Accounts']/option[.='dev@contoso.example']",
        )
        .await
        .click()
        .await
        .unwrap();
        assert_eq!(
            ui.find("#reg-signin").await.prop("value").await.unwrap(),
            Some(format!("identity:{user_id}"))
        );
        ui.submit_registry("contosoapps").await;
        ui.wait_text("#summary", "sums up two logged-in registries", |t| {
            t.starts_with("2 registries logged in")
        })
        .await;
        let (user_name, apps_token) = docker_entry(&w, &apps);
        assert_eq!(user_name, ZERO_GUID);
        assert_eq!(registry_accepts(&w, &apps, &apps_token).await, 200);
        ui.screenshot("registries").await;
        ui.nav("accounts").await;
        ui.screenshot("accounts").await;
        ui.nav("general").await;
        ui.find("#cloud").await;
        ui.screenshot("general").await;
        ui.nav("registries").await;

        // The tray agrees.
        let menu = eventually("the tray shows both registries logged in", || async {
            let menu = tray.menu()?;
            let ok = menu[0].label.starts_with("2 registries logged in")
                && menu.iter().any(|e| e.label.starts_with("✓ contosobuilds — expires"))
                && menu.iter().any(|e| e.label.starts_with("✓ contosoapps — expires"));
            if ok { Ok(menu) } else { Err(format!("{menu:#?}")) }
        })
        .await;
        assert!(!menu[0].enabled, "the summary is a label: {menu:#?}");
        assert!(
            !menu.iter().any(|e| e.label.starts_with("Sign in again")),
            "{menu:#?}"
        );
        eventually("the tray shows the ok icon", || async {
            tray_icon_is(&tray, "ok")
        })
        .await;
        // (Anything said later than this shows in the count once the session has ended, which
        // must be exactly one.)
        let quiet = notifications_after(before);
        assert!(quiet.is_empty(), "nothing to say yet: {quiet:#?}");

        // ---- Entra ends the person's session; "Fresh tokens now" in the tray finds out at once.
        w.fake.revoke_refresh_tokens(&user.object_id);
        let grants = user_refresh_grants(&w);
        tray.click("Fresh tokens now").unwrap();
        ui.wait_text(
            "li[data-registry='contosoapps'] .badge",
            "shows contosoapps needs a sign-in",
            |t| t == "Sign-in required",
        )
        .await;
        let summary = ui
            .wait_text("#summary", "sums up the sign-in required", |t| {
                t.starts_with("Sign-in required: dev@contoso.example")
            })
            .await;
        assert_eq!(
            ui.text_now("li[data-registry='contosobuilds'] .badge")
                .await
                .unwrap(),
            "Logged in",
            "the principal's registry is not affected"
        );
        ui.find("button[aria-label='Sign in again for contosoapps']")
            .await;
        ui.screenshot("sign-in-required").await;
        ui.nav("accounts").await;
        ui.wait_text(&format!("{user_card} .badge"), "shows the ended session", |t| {
            t == "Sign-in required"
        })
        .await;
        ui.wait_text(
            &format!("{user_card} .session-end"),
            "says the session ended",
            |t| t == "Ended: sign in again",
        )
        .await;
        assert_eq!(
            ui.text_now(&format!("{sp_card} .badge")).await.unwrap(),
            "Signed in"
        );
        ui.screenshot("accounts-sign-in-required").await;

        // The tray says so: summary line, the registry's line, "Sign in again as ...", icon.
        let menu = eventually("the tray asks for a sign-in", || async {
            let menu = tray.menu()?;
            let ok = menu[0].label.starts_with("Sign-in required: dev@contoso.example")
                && menu
                    .iter()
                    .any(|e| e.label.starts_with("! contosoapps — sign-in required"))
                && menu
                    .iter()
                    .any(|e| e.label == "Sign in again as dev@contoso.example…");
            if ok { Ok(menu) } else { Err(format!("{menu:#?}")) }
        })
        .await;
        assert_eq!(menu[0].label, summary, "the tray and the window agree");
        assert!(
            menu.iter().any(|e| e.label.starts_with("✓ contosobuilds — expires")),
            "{menu:#?}"
        );
        eventually("the tray shows the sign-in icon", || async {
            tray_icon_is(&tray, "sign-in")
        })
        .await;

        // Exactly one notification, on screen until dismissed, naming the person and saying to
        // sign in. It comes at the end of the pass that found the session ended, which may be
        // after the window shows it.
        let (shown, waiting) = eventually("a notification is on screen", || async {
            match dunst::counts() {
                (0, waiting, _) => Err(format!("none on screen yet, {waiting} waiting")),
                (shown, waiting, _) => Ok((shown, waiting)),
            }
        })
        .await;
        assert_eq!((shown, waiting), (1, 0), "one notification on screen");
        let notes = notifications_after(before);
        assert_eq!(notes.len(), 1, "one notification: {notes:#?}");
        let note = &notes[0];
        eprintln!("desktop: notified {:?}: {:?}", note.summary, note.body);
        assert_eq!(note.app, "ACR Tray", "{note:#?}");
        let text = format!("{}\n{}", note.summary, note.body);
        assert!(text.contains("dev@contoso.example"), "{note:#?}");
        assert!(text.to_lowercase().contains("sign in"), "{note:#?}");
        assert_eq!(
            user_refresh_grants(&w),
            grants + 1,
            "one refresh-token grant found the session ended"
        );
        // Docker keeps the credential it has (it still works until it expires).
        assert_eq!(docker_entry(&w, &apps).1, apps_token);

        // Asking again sends nothing for the ended session and says nothing new. The pass is
        // over once it has written the principal's new credential (it writes Docker's config
        // once, after every registry's requests); what it would say comes right after, and any
        // such note would also show in the count after the next sign-in, which must be one.
        let last = notes[0].id;
        let (_, builds_token) = docker_entry(&w, &builds);
        tray.click("Fresh tokens now").unwrap();
        eventually("the second Fresh tokens now wrote the principal's new credential", || async {
            if docker_entry(&w, &builds).1 == builds_token {
                Err("still the credential from before".to_owned())
            } else {
                Ok(())
            }
        })
        .await;
        assert_eq!(user_refresh_grants(&w), grants + 1, "no request for an ended session");
        let again = notifications_after(last);
        assert!(again.is_empty(), "said once: {again:#?}");

        // ---- "Sign in again as ..." in the tray opens the sign-in for that person.
        ui.nav("registries").await;
        tray.click("Sign in again as dev@contoso.example").unwrap();
        ui.find("#sign-in-dialog").await;
        assert_eq!(
            ui.attr("#nav-accounts", "aria-current").await.as_deref(),
            Some("page")
        );
        ui.pick_sign_in_method("deviceCode").await;
        ui.click("#sign-in-submit").await;
        let code = ui
            .wait_text("#device-code", "shows a new device code", |t| {
                !t.is_empty() && t != code
            })
            .await;
        assert!(w.fake.approve_device_code(&code, &user), "code {code} pending");
        ui.gone("#sign-in-dialog").await;
        ui.wait_text(&format!("{user_card} .badge"), "signs the person in again", |t| {
            t == "Signed in"
        })
        .await;
        ui.wait_text("#summary", "is back to two logged-in registries", |t| {
            t.starts_with("2 registries logged in")
        })
        .await;
        eventually("the tray is back to ok", || async {
            let menu = tray.menu()?;
            if menu[0].label.starts_with("2 registries logged in")
                && !menu.iter().any(|e| e.label.starts_with("Sign in again"))
            {
                tray_icon_is(&tray, "ok")
            } else {
                Err(format!("{menu:#?}"))
            }
        })
        .await;
        let (_, renewed) = docker_entry(&w, &apps);
        assert_ne!(renewed, apps_token, "a new credential after the sign-in");
        assert_eq!(registry_accepts(&w, &apps, &renewed).await, 200);
        // ...and one short note that the incident shown is over (and nothing else since the
        // one that said it began).
        let back = notified_after(last, "says the person is signed in again").await;
        assert_eq!(back.len(), 1, "one 'signed in again': {back:#?}");
        assert!(
            back[0].summary.contains("dev@contoso.example") && back[0].summary.contains("again"),
            "{back:#?}"
        );
        eprintln!("desktop: notified {:?}: {:?}", back[0].summary, back[0].body);

        // ---- The window runs in a process of its own. Killed, it takes none of the tray with
        // it: the tray says so once, and its menu opens a new window, which shows its page.
        let window = driver.window_pid(&app).expect("the window's own process");
        assert_ne!(window, pid, "the window is not the tray's process");
        let last = dunst::all().iter().map(|n| n.id).max().unwrap_or(0);
        // The first window's page load is in the log (it is written by a background thread):
        // from here on, the count grows only with a new page.
        let loaded = eventually("the first page load is logged", || async {
            match pages_loaded(&w) {
                0 => Err("not logged yet".to_owned()),
                n => Ok(n),
            }
        })
        .await;
        driver::kill(window);
        eventually("the window's process is gone", || async {
            match driver.window_pid(&app) {
                Some(p) if p == window => Err(format!("{p} still runs")),
                _ => Ok(()),
            }
        })
        .await;
        let said = notified_after(last, "says the window closed unexpectedly").await;
        assert_eq!(said.len(), 1, "{said:#?}");
        assert!(said[0].summary.contains("closed unexpectedly"), "{said:#?}");
        assert!(tray.menu().unwrap()[0].label.starts_with("2 registries logged in"));
        tray.click("Settings…").unwrap();
        let reopened = eventually("a new window process", || async {
            driver
                .window_pid(&app)
                .filter(|p| *p != window)
                .ok_or_else(|| "no window process yet".to_owned())
        })
        .await;
        eventually("the new window shows its page", || async {
            let now = pages_loaded(&w);
            if now > loaded { Ok(()) } else { Err(format!("{now} pages loaded")) }
        })
        .await;
        assert!(notifications_after(said[0].id).is_empty(), "said once");
        eprintln!("desktop: the window came back as process {reopened}");

        // ---- Quit ends the tray and its window.
        tray.click("Quit ACR Tray").unwrap();
        eventually("the app and its window are gone", || async {
            let left: Vec<u32> = [driver.app_pid(&app), driver.window_pid(&app)]
                .into_iter()
                .flatten()
                .collect();
            if left.is_empty() { Ok(()) } else { Err(format!("{left:?} still run")) }
        })
        .await;
        let _ = ui.client.close().await;
        eprintln!("desktop: flow done in {:?}", started.elapsed());
    });
    drop(driver);
    // Everything the app made is the user's alone: its settings, state and logs, and the
    // Docker config it wrote tokens into.
    #[cfg(unix)]
    {
        acr_tray_tests::assert_private_tree(
            w.home.path(),
            &["config.toml", "state.json", "acr-tray."],
        );
        acr_tray_tests::assert_private_tree(w.home.docker_dir(), &["config.json"]);
    }
}
