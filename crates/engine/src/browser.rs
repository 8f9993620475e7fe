//! Opening the system browser, the loopback listener that receives the sign-in redirect, and
//! the choice between browser and device-code sign-in.

use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::env::Env;
use crate::error::{Error, Result};

/// Opens a URL in the user's browser.
pub trait BrowserOpener: Send + Sync {
    /// Opens the URL (returns once the browser was started, not when the page was used).
    fn open(&self, url: &str) -> std::io::Result<()>;
}

/// The platform opener: `$BROWSER` when set (a `:`-separated list of commands, `%s` standing
/// for the URL, as on Linux), else the desktop's default browser.
pub struct SystemBrowser {
    browser: Option<String>,
    env: Env,
}

impl SystemBrowser {
    /// Reads `$BROWSER` from the injected environment (the browser command runs with it).
    pub fn from_env(env: &Env) -> Self {
        Self {
            browser: env.var("BROWSER").map(str::to_owned),
            env: env.clone(),
        }
    }
}

impl BrowserOpener for SystemBrowser {
    fn open(&self, url: &str) -> std::io::Result<()> {
        let Some(browsers) = &self.browser else {
            // On Linux and the BSDs, the desktop's opener is started here, with the child
            // environment; elsewhere the platform's API (LaunchServices, ShellExecute) opens it.
            #[cfg(all(unix, not(target_vendor = "apple")))]
            if let Some(xdg_open) = which(&self.env, "xdg-open") {
                return launch(&xdg_open, &[url.to_owned()], &self.env);
            }
            return webbrowser::open(url);
        };
        let mut last = std::io::Error::other("$BROWSER is empty");
        for command in browsers.split(':').filter(|c| !c.trim().is_empty()) {
            let mut words = command.split_whitespace().map(str::to_owned);
            let Some(program) = words.next() else {
                continue;
            };
            let mut args: Vec<String> = words.collect();
            if args.iter().any(|a| a.contains("%s")) {
                args = args.into_iter().map(|a| a.replace("%s", url)).collect();
            } else {
                args.push(url.to_owned());
            }
            match launch(std::path::Path::new(&program), &args, &self.env) {
                Ok(()) => return Ok(()),
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

/// Starts a browser (or the desktop's opener) with the child environment
/// ([`Env::child_vars`]: no `AZURE_CLIENT_SECRET` or other secret-like variable), and reaps it
/// whenever it exits.
fn launch(program: &std::path::Path, args: &[String], env: &Env) -> std::io::Result<()> {
    let mut child = std::process::Command::new(program)
        .args(args)
        .env_clear()
        .envs(env.child_vars())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    std::thread::spawn(move || child.wait());
    Ok(())
}

/// How a person signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginMethod {
    /// The system browser with a loopback redirect.
    Browser,
    /// A code typed on another device.
    DeviceCode,
}

/// Browser where a desktop session exists; device code over SSH, without a display, or on WSL
/// without a way to open the Windows browser.
pub fn default_login_method(env: &Env, os: &str) -> LoginMethod {
    if os == "macos" || os == "windows" {
        return LoginMethod::Browser;
    }
    if ["SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"]
        .iter()
        .any(|v| env.var(v).is_some())
    {
        return LoginMethod::DeviceCode;
    }
    let has_browser_command = env.var("BROWSER").is_some();
    if env.var("WSL_DISTRO_NAME").is_some() || env.var("WSL_INTEROP").is_some() {
        return if has_browser_command || which(env, "wslview").is_some() {
            LoginMethod::Browser
        } else {
            LoginMethod::DeviceCode
        };
    }
    if env.var("DISPLAY").is_some() || env.var("WAYLAND_DISPLAY").is_some() || has_browser_command {
        LoginMethod::Browser
    } else {
        LoginMethod::DeviceCode
    }
}

/// Finds a program on the injected `PATH` (with Windows' executable extensions there).
pub fn which(env: &Env, program: &str) -> Option<PathBuf> {
    let path = env.var("PATH")?;
    let extensions: &[&str] = if cfg!(windows) {
        &["", ".exe", ".cmd", ".bat"]
    } else {
        &[""]
    };
    std::env::split_paths(path).find_map(|dir| {
        extensions.iter().find_map(|ext| {
            let candidate = dir.join(format!("{program}{ext}"));
            is_executable(&candidate).then_some(candidate)
        })
    })
}

#[cfg(unix)]
fn is_executable(p: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &std::path::Path) -> bool {
    p.is_file()
}

/// The loopback listener that receives the browser's redirect.
pub struct Loopback {
    listener: TcpListener,
}

const PAGE_OK: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>ACR Tray</title></head><body style=\"font-family:sans-serif;margin:3em\"><h1>You are signed in</h1><p>ACR Tray has your sign-in. You can close this tab.</p></body></html>";

fn page_error(message: &str) -> String {
    let escaped = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>ACR Tray</title></head><body style=\"font-family:sans-serif;margin:3em\"><h1>Sign-in failed</h1><p>{escaped}</p><p>Close this tab and try again.</p></body></html>"
    )
}

impl Loopback {
    /// Listens on an ephemeral port of 127.0.0.1.
    pub async fn bind() -> Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.map_err(|e| {
            Error::invalid_input(
                format!("cannot listen on 127.0.0.1 for the sign-in redirect: {e}"),
                "use --device-code",
            )
        })?;
        Ok(Self { listener })
    }

    /// The port the redirect comes to.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Waits for the redirect carrying the code (other requests, such as a favicon, get a 404)
    /// and answers the browser with a small page. Fails on a `state` mismatch, an error
    /// answer, or when `timeout` passes.
    pub async fn wait_for_code(&self, state: &str, timeout: Duration) -> Result<String> {
        let wait = async {
            loop {
                let (stream, _) = self.listener.accept().await.map_err(|e| {
                    Error::invalid_input(
                        format!("the sign-in listener failed: {e}"),
                        "use --device-code",
                    )
                })?;
                if let Some(result) = handle(stream, state).await {
                    return result;
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .unwrap_or_else(|_| {
                Err(sign_in_failed(
                    format!(
                        "no sign-in arrived from the browser within {} s",
                        timeout.as_secs()
                    ),
                    "run `acr-tray-cli login` again, or use --device-code",
                ))
            })
    }
}

fn sign_in_failed(message: String, hint: &str) -> Error {
    Error::SignIn {
        message,
        hint: hint.to_owned(),
    }
}

/// One request to the listener; `None` when it was not the redirect (keep waiting).
async fn handle(mut stream: TcpStream, state: &str) -> Option<Result<String>> {
    let mut buf = vec![0u8; 8192];
    let mut len = 0;
    while len < buf.len() {
        let n = match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf[len..]))
            .await
        {
            Ok(Ok(n)) => n,
            _ => return None,
        };
        if n == 0 {
            break;
        }
        len += n;
        if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let head = String::from_utf8_lossy(&buf[..len]);
    let target = head.lines().next()?.split_whitespace().nth(1)?.to_owned();
    let url = url::Url::parse(&format!("http://localhost{target}")).ok()?;
    if url.path() != "/" {
        respond(&mut stream, "404 Not Found", "").await;
        return None;
    }
    let get = |k: &str| {
        url.query_pairs()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.into_owned())
    };
    if get("state").as_deref() != Some(state) {
        respond(
            &mut stream,
            "400 Bad Request",
            &page_error("The answer does not belong to this sign-in (state mismatch)."),
        )
        .await;
        return Some(Err(sign_in_failed(
            "the browser's answer does not belong to this sign-in (state mismatch); it was ignored"
                .to_owned(),
            "run `acr-tray-cli login` again",
        )));
    }
    if let Some(error) = get("error") {
        let description = get("error_description").unwrap_or_default();
        let first = description.lines().next().unwrap_or_default().to_owned();
        respond(
            &mut stream,
            "200 OK",
            &page_error(&format!("{error}: {first}")),
        )
        .await;
        let declined = error == "access_denied";
        let detail = if first.is_empty() {
            error.clone()
        } else {
            format!("{error}: {first}")
        };
        return Some(Err(sign_in_failed(
            if declined {
                format!("the sign-in was declined in the browser ({detail})")
            } else {
                format!("Entra ID answered the browser with an error ({detail})")
            },
            "run `acr-tray-cli login` again (or with --device-code)",
        )));
    }
    let code = get("code")?;
    respond(&mut stream, "200 OK", PAGE_OK).await;
    Some(Ok(code))
}

async fn respond(stream: &mut TcpStream, status: &str, body: &str) {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_method_follows_the_session() {
        let m = |pairs: &[(&str, &str)], os: &str| {
            default_login_method(&Env::from_pairs(pairs.iter().copied()), os)
        };
        assert_eq!(m(&[], "macos"), LoginMethod::Browser);
        assert_eq!(m(&[], "windows"), LoginMethod::Browser);
        assert_eq!(m(&[("DISPLAY", ":0")], "linux"), LoginMethod::Browser);
        assert_eq!(
            m(&[("WAYLAND_DISPLAY", "wayland-0")], "linux"),
            LoginMethod::Browser
        );
        assert_eq!(m(&[], "linux"), LoginMethod::DeviceCode);
        assert_eq!(
            m(&[("DISPLAY", ":0"), ("SSH_CONNECTION", "1 2 3 4")], "linux"),
            LoginMethod::DeviceCode
        );
        assert_eq!(
            m(
                &[("WSL_DISTRO_NAME", "Ubuntu"), ("PATH", "/nonexistent")],
                "linux"
            ),
            LoginMethod::DeviceCode
        );
        assert_eq!(
            m(
                &[("WSL_DISTRO_NAME", "Ubuntu"), ("BROWSER", "wslview")],
                "linux"
            ),
            LoginMethod::Browser
        );
        assert_eq!(m(&[("BROWSER", "firefox")], "linux"), LoginMethod::Browser);
    }

    /// How long a test waits for the other side; only a hang reaches it.
    const PATIENCE: Duration = Duration::from_secs(60);

    async fn get(port: u16, target: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        s.write_all(format!("GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
            .await
            .expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).await.expect("read");
        out
    }

    #[tokio::test]
    async fn loopback_takes_the_code_and_checks_state() {
        let lb = Loopback::bind().await.expect("bind");
        let port = lb.port();
        let browser = tokio::spawn(async move {
            let favicon = get(port, "/favicon.ico").await;
            let ok = get(port, "/?code=abc&state=s1").await;
            (favicon, ok)
        });
        let code = lb.wait_for_code("s1", PATIENCE).await.expect("code");
        assert_eq!(code, "abc");
        let (favicon, ok) = browser.await.expect("join");
        assert!(favicon.starts_with("HTTP/1.1 404"));
        assert!(ok.contains("You are signed in"));

        let lb = Loopback::bind().await.expect("bind");
        let port = lb.port();
        tokio::spawn(async move { get(port, "/?code=abc&state=forged").await });
        let err = lb
            .wait_for_code("s1", PATIENCE)
            .await
            .expect_err("mismatch");
        assert!(err.to_string().contains("state mismatch"), "{err}");

        let lb = Loopback::bind().await.expect("bind");
        let err = lb
            .wait_for_code("s1", Duration::from_millis(50))
            .await
            .expect_err("timeout");
        assert!(err.to_string().contains("no sign-in arrived"), "{err}");
    }

    #[test]
    fn browser_variable_runs_the_command_with_the_url() {
        let dir = tempfile::tempdir().expect("tmp");
        let out = dir.path().join("opened");
        let script = dir.path().join("fake-browser");
        // Written whole, then renamed: the file appears with all of its contents.
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho \"$1\" > {0}.part && mv {0}.part {0}\n",
                out.display()
            ),
        )
        .expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
            let b = SystemBrowser::from_env(&Env::from_pairs([(
                "BROWSER",
                format!("/nonexistent:{}", script.display()),
            )]));
            b.open("https://example.com/x?y=1").expect("open");
            let deadline = std::time::Instant::now() + PATIENCE;
            while !out.exists() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert_eq!(
                std::fs::read_to_string(&out).expect("read").trim(),
                "https://example.com/x?y=1"
            );
        }
    }
}
