//! Opening the system browser, the loopback listener that receives the sign-in redirect, and
//! the choice between browser and device-code sign-in.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use crate::env::Env;
use crate::error::{Error, Result};
use crate::hint::{Action, Hint};
use crate::text;

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

/// The loopback listener that receives the browser's redirect (RFC 8252 §7.3): the same port on
/// `127.0.0.1` and `[::1]`, since a browser may resolve `localhost` to either.
pub struct Loopback {
    v4: TcpListener,
    v6: Option<TcpListener>,
    head_deadline: Duration,
}

/// How long a connection to the listener has to send its request head. A browser sends it at
/// once; a connection that sends nothing is closed after this without holding up the others.
pub const HEAD_DEADLINE: Duration = Duration::from_secs(10);

/// The largest request head read (a redirect with a code is about 2 KiB).
const MAX_HEAD: usize = 16 * 1024;

/// Connections served at once; more wait in the kernel's backlog until one is done.
const MAX_CONNECTIONS: usize = 64;

/// How many ports are tried for one that is free on both `127.0.0.1` and `[::1]`.
const PORT_ATTEMPTS: usize = 8;

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
    /// Listens on an ephemeral port of `127.0.0.1` and on the same port of `[::1]`. Without an
    /// IPv6 loopback (or when no port is free on both) it listens on `127.0.0.1` alone.
    pub async fn bind() -> Result<Self> {
        Self::bind_beside(Ipv6Addr::LOCALHOST).await
    }

    /// [`Loopback::bind`] with `v6` as the IPv6 address (tests give one the machine lacks).
    async fn bind_beside(v6: Ipv6Addr) -> Result<Self> {
        let cannot = |e: std::io::Error| {
            Error::invalid_input(
                format!("cannot listen on 127.0.0.1 for the sign-in redirect: {e}"),
                "use --device-code",
            )
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let v4 = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .await
                .map_err(cannot)?;
            let port = v4.local_addr().map_err(cannot)?.port();
            match TcpListener::bind((v6, port)).await {
                Ok(v6) => {
                    return Ok(Self {
                        v4,
                        v6: Some(v6),
                        head_deadline: HEAD_DEADLINE,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && attempt < PORT_ATTEMPTS => {
                    tracing::debug!(port, %v6, "this port is taken on IPv6; trying another port");
                }
                Err(e) => {
                    tracing::info!(error = %e, port, %v6, "the sign-in listener cannot listen on IPv6; listening on 127.0.0.1 only");
                    return Ok(Self {
                        v4,
                        v6: None,
                        head_deadline: HEAD_DEADLINE,
                    });
                }
            }
        }
    }

    /// Changes how long each connection has to send its request head ([`HEAD_DEADLINE`]).
    #[cfg(test)]
    pub fn with_head_deadline(mut self, deadline: Duration) -> Self {
        self.head_deadline = deadline;
        self
    }

    /// The port the redirect comes to (the same on both addresses).
    pub fn port(&self) -> u16 {
        self.v4.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Whether the listener also listens on `[::1]`.
    #[cfg(test)]
    pub fn listens_on_ipv6(&self) -> bool {
        self.v6.is_some()
    }

    /// Waits for the redirect carrying the code and answers the browser with a small page. Each
    /// connection is served on its own task, so one that never sends its request does not hold
    /// up the browser's (it is closed after its head deadline, whether or not the sign-in has
    /// ended). Requests that are not this sign-in's redirect get an error page and the wait
    /// goes on: another path (a favicon) 404, a wrong or missing `state` 400. Fails on an
    /// error answer carrying the right `state`, or when `timeout` passes.
    pub async fn wait_for_code(&self, state: &str, timeout: Duration) -> Result<String> {
        let state: Arc<str> = Arc::from(state);
        let wait = async {
            let (tx, mut rx) = mpsc::unbounded_channel();
            let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
            loop {
                let accepted = tokio::select! {
                    Some(result) = rx.recv() => return result,
                    a = self.accept(slots.clone()) => a,
                };
                let (stream, slot) = accepted?;
                let (tx, state, deadline) = (tx.clone(), state.clone(), self.head_deadline);
                tokio::spawn(async move {
                    if let Some(result) = handle(stream, &state, deadline, &tx).await {
                        let _ = tx.send(result);
                    }
                    drop(slot);
                });
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
                    Hint::text("")
                        .run(Action::sign_in_again())
                        .then(" again")
                        .cli_note(", or use --device-code"),
                ))
            })
    }

    /// The next connection on either address, once fewer than [`MAX_CONNECTIONS`] are served.
    async fn accept(&self, slots: Arc<Semaphore>) -> Result<(TcpStream, OwnedSemaphorePermit)> {
        let failed = |e: String| {
            Error::invalid_input(
                format!("the sign-in listener failed: {e}"),
                "use --device-code",
            )
        };
        let slot = slots
            .acquire_owned()
            .await
            .map_err(|e| failed(e.to_string()))?;
        let v6 = async {
            match &self.v6 {
                Some(l) => l.accept().await,
                None => std::future::pending().await,
            }
        };
        let (stream, _) = tokio::select! {
            a = self.v4.accept() => a,
            a = v6 => a,
        }
        .map_err(|e| failed(e.to_string()))?;
        Ok((stream, slot))
    }
}

fn sign_in_failed(message: String, hint: Hint) -> Error {
    Error::SignIn { message, hint }
}

/// Reads a request head: up to the blank line, [`MAX_HEAD`] bytes or the end of the stream.
/// `None` when the deadline passes first.
async fn read_head(stream: &mut TcpStream, deadline: Duration) -> Option<Vec<u8>> {
    let read = async {
        let mut buf = vec![0u8; MAX_HEAD];
        let mut len = 0;
        while len < buf.len() {
            let n = stream.read(&mut buf[len..]).await.ok()?;
            if n == 0 {
                break;
            }
            len += n;
            if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        buf.truncate(len);
        Some(buf)
    };
    tokio::time::timeout(deadline, read).await.ok().flatten()
}

/// One connection to the listener; `None` when it was not this sign-in's redirect (keep
/// waiting).
async fn handle(
    mut stream: TcpStream,
    state: &str,
    head_deadline: Duration,
    sign_in: &mpsc::UnboundedSender<Result<String>>,
) -> Option<Result<String>> {
    let head = read_head(&mut stream, head_deadline).await?;
    if sign_in.is_closed() {
        // The sign-in ended while this request came in: nothing to answer for.
        return None;
    }
    let head = String::from_utf8_lossy(&head);
    let target = head.lines().next()?.split_whitespace().nth(1)?.to_owned();
    let Ok(url) = url::Url::parse(&format!("http://localhost{target}")) else {
        respond(&mut stream, "400 Bad Request", "").await;
        return None;
    };
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
        // Not this sign-in's answer: another tab, a stale redirect or a forgery. It is refused
        // and the real one is still awaited.
        tracing::warn!("the sign-in listener refused a request whose state does not match");
        respond(
            &mut stream,
            "400 Bad Request",
            &page_error("This answer does not belong to the sign-in in progress (state mismatch); it was ignored."),
        )
        .await;
        return None;
    }
    if let Some(error) = get("error") {
        let error = text::server_text(&error);
        let description = get("error_description").unwrap_or_default();
        let first = text::server_text(description.lines().next().unwrap_or_default());
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
            Hint::text("")
                .run(Action::sign_in_again())
                .then(" again")
                .cli_note(" (or with --device-code)"),
        )));
    }
    let Some(code) = get("code") else {
        respond(
            &mut stream,
            "400 Bad Request",
            &page_error("This answer carries no authorization code."),
        )
        .await;
        return None;
    };
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
    use std::net::SocketAddr;

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

    /// A browser's request to the listener on `addr`; the whole answer.
    async fn get_at(addr: SocketAddr, target: &str) -> String {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(format!("GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
            .await
            .expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).await.expect("read");
        out
    }

    async fn get(port: u16, target: &str) -> String {
        get_at(SocketAddr::from((Ipv4Addr::LOCALHOST, port)), target).await
    }

    #[tokio::test]
    async fn loopback_takes_the_code_and_ignores_other_paths() {
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
        let err = lb
            .wait_for_code("s1", Duration::from_millis(50))
            .await
            .expect_err("timeout");
        assert!(err.to_string().contains("no sign-in arrived"), "{err}");
    }

    #[tokio::test]
    async fn a_wrong_state_gets_400_and_the_sign_in_goes_on() {
        let lb = Loopback::bind().await.expect("bind");
        let port = lb.port();
        let browser = tokio::spawn(async move {
            let forged = get(port, "/?code=forged&state=forged").await;
            let forged_error = get(port, "/?error=access_denied&state=forged").await;
            let no_state = get(port, "/?code=forged").await;
            let no_code = get(port, "/?state=s1").await;
            let ok = get(port, "/?code=abc&state=s1").await;
            (forged, forged_error, no_state, no_code, ok)
        });
        let code = lb.wait_for_code("s1", PATIENCE).await.expect("code");
        assert_eq!(code, "abc", "the forged code was not taken");
        let (forged, forged_error, no_state, no_code, ok) = browser.await.expect("join");
        for refused in [&forged, &forged_error, &no_state] {
            assert!(refused.starts_with("HTTP/1.1 400"), "{refused}");
            assert!(refused.contains("state mismatch"), "{refused}");
        }
        assert!(no_code.starts_with("HTTP/1.1 400"), "{no_code}");
        assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    }

    #[tokio::test]
    async fn a_silent_connection_does_not_hold_up_the_browser() {
        // A deadline the test never reaches: the silent connection stays open throughout.
        let lb = Loopback::bind()
            .await
            .expect("bind")
            .with_head_deadline(PATIENCE * 2);
        let port = lb.port();
        let mut silent = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        silent.write_all(b"GET /?code=slow").await.expect("write");
        let browser = tokio::spawn(async move { get(port, "/?code=abc&state=s1").await });
        let code = lb.wait_for_code("s1", PATIENCE).await.expect("code");
        assert_eq!(code, "abc");
        assert!(browser.await.expect("join").contains("You are signed in"));
        // The silent connection was neither answered nor closed while the browser was served.
        let mut buf = [0u8; 16];
        let still_open = silent.try_read(&mut buf);
        assert!(
            still_open
                .as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock),
            "{still_open:?}"
        );
    }

    #[tokio::test]
    async fn a_connection_past_its_head_deadline_is_closed() {
        let lb = Loopback::bind()
            .await
            .expect("bind")
            .with_head_deadline(Duration::ZERO);
        let port = lb.port();
        let silent = async {
            let mut silent = TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("connect");
            let mut out = Vec::new();
            silent.read_to_end(&mut out).await.expect("read");
            out
        };
        tokio::select! {
            r = lb.wait_for_code("s1", PATIENCE) => panic!("the sign-in ended: {r:?}"),
            out = silent => assert!(out.is_empty(), "closed without an answer: {out:?}"),
        }
    }

    #[tokio::test]
    async fn the_redirect_may_come_to_ipv6_loopback() {
        if std::net::TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_err() {
            eprintln!("SKIPPED: this machine has no IPv6 loopback ([::1])");
            return;
        }
        let lb = Loopback::bind().await.expect("bind");
        assert!(lb.listens_on_ipv6());
        let port = lb.port();
        let browser = tokio::spawn(async move {
            get_at(
                SocketAddr::from((Ipv6Addr::LOCALHOST, port)),
                "/?code=v6&state=s1",
            )
            .await
        });
        assert_eq!(lb.wait_for_code("s1", PATIENCE).await.expect("code"), "v6");
        assert!(browser.await.expect("join").contains("You are signed in"));
    }

    #[tokio::test]
    async fn without_ipv6_the_ipv4_listener_alone_works() {
        // An address of the documentation range: no machine has it, so it cannot be bound,
        // as [::1] cannot on a machine without IPv6.
        let lb = Loopback::bind_beside(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))
            .await
            .expect("bind");
        assert!(!lb.listens_on_ipv6());
        let port = lb.port();
        let browser = tokio::spawn(async move { get(port, "/?code=v4&state=s1").await });
        assert_eq!(lb.wait_for_code("s1", PATIENCE).await.expect("code"), "v4");
        assert!(browser.await.expect("join").contains("You are signed in"));
    }

    #[tokio::test]
    async fn an_error_answer_ends_the_sign_in_without_control_characters() {
        let lb = Loopback::bind().await.expect("bind");
        let port = lb.port();
        tokio::spawn(async move {
            get(
                port,
                "/?error=access_denied&error_description=AADSTS65004%3A%20declined%1B%5B2J%0D%0Aforged&state=s1",
            )
            .await
        });
        let err = lb
            .wait_for_code("s1", PATIENCE)
            .await
            .expect_err("declined");
        let text = err.to_string();
        assert!(text.contains("declined in the browser"), "{text}");
        assert!(text.contains("AADSTS65004: declined[2J"), "{text}");
        assert!(!text.chars().any(char::is_control), "{text:?}");
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
