//! `tauri-driver` (in front of WebKitGTK's `WebKitWebDriver`), started by the test with the
//! environment the app must see, and a WebDriver session that starts the real `acr-tray`.

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

/// A running `tauri-driver`; dropping it ends the session's app and the driver.
pub struct Driver {
    child: Child,
    port: u16,
    /// The value of `ACR_TRAY_HOME` the app runs with: how its processes are recognised.
    marker: (String, String),
    /// The driver's (and the app's) stdout and stderr.
    pub log: PathBuf,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Driver {
    /// Starts `tauri-driver` with `env` added to this process's environment (the app it starts
    /// inherits it). `marker` is one of `env`: processes carrying it are ours to clean up.
    pub fn start(env: &[(String, String)], marker: &str, log: PathBuf) -> Self {
        let program = std::env::var("TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".to_owned());
        let (port, native) = (free_port(), free_port());
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(&program)
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .args(["--native-driver", "/usr/bin/WebKitWebDriver"])
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {program} ({e}): install it with `cargo install tauri-driver --locked`")
            });
        let marker = env
            .iter()
            .find(|(k, _)| k == marker)
            .cloned()
            .unwrap_or_else(|| panic!("{marker} is not in the environment given"));
        Self {
            child,
            port,
            marker,
            log,
        }
    }

    /// Opens a WebDriver session: `tauri-driver` starts `app` with `args` and attaches to its
    /// window. Retries while the driver is still starting.
    pub async fn session(&self, app: &Path, args: &[&str]) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".to_owned(),
            serde_json::json!({ "application": app, "args": args }),
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
                Err(e) if started.elapsed() < Duration::from_secs(30) => {
                    tracing_like(&format!("no session yet: {e}"));
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => panic!(
                    "no WebDriver session after 30 s: {e}\n{}",
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

    /// The `acr-tray` process the session started.
    pub fn app_pid(&self, app: &Path) -> Option<u32> {
        self.app_processes()
            .into_iter()
            .find(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == app))
    }
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
                "---- tauri-driver and app output ({}):\n{}",
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
