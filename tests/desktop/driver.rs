//! WebKitGTK's own WebDriver server (`WebKitWebDriver`), started by the test with the
//! environment the app must see, and a WebDriver session that starts the real `acr-tray`.
//!
//! `tauri-driver` would only sit in front of it, turning a `tauri:options` capability into
//! WebKitGTK's `webkitgtk:browserOptions` (the app's binary and arguments) and setting
//! `TAURI_WEBVIEW_AUTOMATION=true`, which lets the app's webview be automated; the test does
//! both itself.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;

/// The `acr-tray` binary next to this test's own `target/<profile>` folder (or `ACR_TRAY_APP`).
pub fn app_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("ACR_TRAY_APP") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().unwrap();
    // target/debug/deps/desktop-HASH -> target/debug/acr-tray
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let app = profile_dir.join("acr-tray");
    assert!(
        app.is_file(),
        "{} is missing: build the app first (`cargo build -p acr-tray`, as scripts/desktop-tests.sh does)",
        app.display()
    );
    app
}

/// A running `WebKitWebDriver`; dropping it ends the session's app and the driver.
pub struct Driver {
    child: Child,
    port: u16,
    /// The value of `ACR_TRAY_HOME` the app runs with: how its processes are recognised.
    marker: (String, String),
    /// The driver's (and the app's) stdout and stderr.
    pub log: PathBuf,
}

/// A port that was free a moment ago on 127.0.0.1.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether a WebDriver server answers `GET /status` on the port.
fn answers(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request =
        format!("GET /status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply.starts_with("HTTP/1.1 200")
}

impl Driver {
    /// Starts `WebKitWebDriver` (`WEBKIT_WEBDRIVER`, else Debian's `/usr/bin/WebKitWebDriver`)
    /// with `env` added to this process's environment (the app it starts inherits it) and
    /// waits until it answers. `marker` is one of `env`: processes carrying it are ours to
    /// clean up. A port taken between choosing it and the driver binding it makes the driver
    /// exit: another is chosen.
    pub fn start(env: &[(String, String)], marker: &str, log: PathBuf) -> Self {
        let program = std::env::var("WEBKIT_WEBDRIVER")
            .unwrap_or_else(|_| "/usr/bin/WebKitWebDriver".to_owned());
        let marker = env
            .iter()
            .find(|(k, _)| k == marker)
            .cloned()
            .unwrap_or_else(|| panic!("{marker} is not in the environment given"));
        let started = Instant::now();
        loop {
            let port = free_port();
            let out = std::fs::File::create(&log).unwrap();
            let mut child = Command::new(&program)
                .args([format!("--port={port}"), "--host=127.0.0.1".to_owned()])
                .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .env("TAURI_WEBVIEW_AUTOMATION", "true")
                .stdin(Stdio::null())
                .stdout(out.try_clone().unwrap())
                .stderr(out)
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("cannot start {program} ({e}): install Debian's webkit2gtk-driver (scripts/install-deps.sh --test)")
                });
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    assert!(
                        started.elapsed() < crate::ui::PATIENCE,
                        "{program} keeps exiting ({status}):\n{}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    );
                    break;
                }
                if answers(port) {
                    return Self {
                        child,
                        port,
                        marker,
                        log,
                    };
                }
                if started.elapsed() > crate::ui::PATIENCE {
                    let _ = child.kill();
                    panic!(
                        "{program} did not answer on port {port} within {:?}:\n{}",
                        crate::ui::PATIENCE,
                        std::fs::read_to_string(&log).unwrap_or_default()
                    );
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// Opens a WebDriver session: the driver starts `app` with `args` and attaches to its
    /// window. Retried while the app starts (until it has a window to attach to).
    pub async fn session(&self, app: &Path, args: &[&str]) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "webkitgtk:browserOptions".to_owned(),
            serde_json::json!({ "binary": app, "args": args }),
        );
        let url = format!("http://127.0.0.1:{}", self.port);
        let started = Instant::now();
        loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => return client,
                Err(e) if started.elapsed() < crate::ui::PATIENCE => {
                    tracing_like(&format!("no session yet: {e}"));
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => panic!(
                    "no WebDriver session after {:?}: {e}\n{}",
                    crate::ui::PATIENCE,
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                ),
            }
        }
    }

    /// The process ids of the app (and its WebKit helpers): every process whose environment
    /// holds our `ACR_TRAY_HOME`, but not the driver itself.
    pub fn app_processes(&self) -> Vec<u32> {
        let needle = format!("{}={}", self.marker.0, self.marker.1);
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return out;
        };
        for e in entries.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if pid == self.child.id() || pid == std::process::id() {
                continue;
            }
            let Ok(environ) = std::fs::read(e.path().join("environ")) else {
                continue;
            };
            if environ
                .split(|b| *b == 0)
                .any(|var| var == needle.as_bytes())
            {
                out.push(pid);
            }
        }
        out.sort_unstable();
        out
    }

    /// The `acr-tray` process the session started (the tray's; not the window's).
    pub fn app_pid(&self, app: &Path) -> Option<u32> {
        self.app_processes()
            .into_iter()
            .find(|pid| runs(*pid, app) && !is_window_process(*pid))
    }

    /// The settings window's own process (`acr-tray --window`), if one runs.
    pub fn window_pid(&self, app: &Path) -> Option<u32> {
        self.app_processes()
            .into_iter()
            .find(|pid| runs(*pid, app) && is_window_process(*pid) && alive(*pid))
    }
}

/// Whether process `pid` runs `app`.
fn runs(pid: u32, app: &Path) -> bool {
    std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == app)
}

/// Whether process `pid` was started with `--window`.
fn is_window_process(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|cmdline| cmdline.split(|b| *b == 0).any(|arg| arg == b"--window"))
}

/// Ends process `pid` at once (SIGKILL), as a crash would.
pub fn kill(pid: u32) {
    signal(pid, "-KILL");
}

fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .args([sig, &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        // A zombie ("Z") has exited; its parent reaps it.
        .is_ok_and(|stat| {
            !stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The driver first (it ends WebKitWebDriver and the app it started), then whatever of
        // ours is left, by pid: TERM, then KILL after 5 s.
        signal(self.child.id(), "-TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let left = self.app_processes();
        for pid in &left {
            signal(*pid, "-TERM");
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && left.iter().any(|p| alive(*p)) {
            std::thread::sleep(Duration::from_millis(100));
        }
        for pid in left.iter().filter(|p| alive(**p)) {
            signal(*pid, "-KILL");
        }
        if std::thread::panicking() {
            eprintln!(
                "---- WebKitWebDriver and app output ({}):\n{}",
                self.log.display(),
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}

fn tracing_like(message: &str) {
    if std::env::var_os("ACR_TRAY_TEST_VERBOSE").is_some() {
        eprintln!("desktop: {message}");
    }
}
