//! The HTTPS client every request goes through: TLS always verified (platform roots plus the
//! cloud's `ca_file` and `SSL_CERT_FILE`), proxies from the usual environment variables, no
//! redirects (a token must never follow a redirect to another host), time-outs, and RFC 6761
//! `localhost` names resolved to loopback.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use rustls_pki_types::CertificateDer;

use crate::env::Env;
use crate::error::{Error, Result};
use crate::limits;

#[cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]
mod trust;

/// Time allowed to connect (including TLS).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for a whole request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Time allowed to connect to IMDS (a link-local address: it answers at once or not at all).
pub const IMDS_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Options for [`build_client`].
#[derive(Debug, Clone, Default)]
pub struct HttpOptions {
    /// Extra CA certificates (PEM file) to trust, from the cloud settings.
    pub ca_file: Option<std::path::PathBuf>,
    /// Override of the whole-request time-out (tests of hanging servers use a short one).
    pub request_timeout: Option<Duration>,
    /// Override of the connect time-out (simulations on a paused clock, where tokio may move
    /// time on while a loopback connect is in flight, use a long one).
    pub connect_timeout: Option<Duration>,
}

/// Builds the client from the settings and the environment.
pub fn build_client(env: &Env, options: &HttpOptions) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("acr-tray/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(options.connect_timeout.unwrap_or(CONNECT_TIMEOUT))
        .timeout(options.request_timeout.unwrap_or(REQUEST_TIMEOUT))
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(LocalhostAwareResolver)
        .no_proxy();
    let mut extra_roots = Vec::new();
    for file in [
        options.ca_file.as_deref(),
        env.var("SSL_CERT_FILE").map(Path::new),
    ]
    .into_iter()
    .flatten()
    {
        extra_roots.extend(read_pem_certs(file)?);
    }
    builder = with_roots(builder, extra_roots)?;
    for proxy in proxies_from_env(env)? {
        builder = builder.proxy(proxy);
    }
    builder.build().map_err(|e| {
        Error::invalid_input(
            format!("cannot set up HTTPS: {}", error_chain(&e)),
            "check the CA file settings",
        )
    })
}

/// Trust: on Linux (and the other Unix systems without a certificate API) the CA bundle first
/// and the certificate folders only when needed ([`trust`]); elsewhere the platform's own
/// verifier. Both with the extra roots.
#[cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]
fn with_roots(
    builder: reqwest::ClientBuilder,
    extra_roots: Vec<CertificateDer<'static>>,
) -> Result<reqwest::ClientBuilder> {
    let config = trust::client_config(extra_roots).map_err(|e| {
        Error::invalid_input(
            format!("cannot set up HTTPS: {e}"),
            "check the CA file settings",
        )
    })?;
    Ok(builder.tls_backend_preconfigured(config))
}

#[cfg(not(all(unix, not(target_vendor = "apple"), not(target_os = "android"))))]
fn with_roots(
    mut builder: reqwest::ClientBuilder,
    extra_roots: Vec<CertificateDer<'static>>,
) -> Result<reqwest::ClientBuilder> {
    for cert in extra_roots {
        let cert = reqwest::Certificate::from_der(&cert).map_err(|e| {
            Error::invalid_input(
                format!("a CA certificate cannot be used: {e}"),
                "check the CA file settings",
            )
        })?;
        builder = builder.add_root_certificate(cert);
    }
    Ok(builder)
}

/// The client for IMDS: plain HTTP to a link-local address, never through a proxy. It trusts
/// no certificate authority at all (IMDS is never HTTPS), so building it reads none.
pub fn build_imds_client(options: &HttpOptions) -> Result<reqwest::Client> {
    let cannot = |e: String| Error::invalid_input(format!("cannot set up HTTP: {e}"), "");
    let no_tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| cannot(e.to_string()))?
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(options.connect_timeout.unwrap_or(IMDS_CONNECT_TIMEOUT))
        .timeout(options.request_timeout.unwrap_or(REQUEST_TIMEOUT))
        .redirect(reqwest::redirect::Policy::none())
        .tls_backend_preconfigured(no_tls)
        .build()
        .map_err(|e| cannot(e.to_string()))
}

fn read_pem_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    use rustls_pki_types::pem::PemObject;
    let pem = std::fs::read(path).map_err(|e| Error::io("read the CA file", path, &e))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| {
            Error::invalid_input(
                format!("{} holds no usable PEM certificates: {e}", path.display()),
                "give a PEM file with one or more CERTIFICATE blocks",
            )
        })?;
    if certs.is_empty() {
        return Err(Error::invalid_input(
            format!("{} holds no PEM certificates", path.display()),
            "give a PEM file with one or more CERTIFICATE blocks",
        ));
    }
    Ok(certs)
}

/// `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` (either case) with `NO_PROXY`, read through the
/// injected environment. Loopback and `localhost` names never go through a proxy.
fn proxies_from_env(env: &Env) -> Result<Vec<reqwest::Proxy>> {
    let mut no_proxy = env
        .first_var(&["NO_PROXY", "no_proxy"])
        .unwrap_or_default()
        .to_owned();
    no_proxy.push_str(",localhost,.localhost,127.0.0.1,::1");
    let no_proxy = reqwest::NoProxy::from_string(&no_proxy);
    let mut out = Vec::new();
    type MakeProxy = fn(&str) -> reqwest::Result<reqwest::Proxy>;
    let pairs: [(&[&str], MakeProxy); 3] = [
        (&["HTTPS_PROXY", "https_proxy"], |u| {
            reqwest::Proxy::https(u)
        }),
        (&["HTTP_PROXY", "http_proxy"], |u| reqwest::Proxy::http(u)),
        (&["ALL_PROXY", "all_proxy"], |u| reqwest::Proxy::all(u)),
    ];
    for (names, make) in pairs {
        if let Some(url) = env.first_var(names) {
            let proxy = make(url).map_err(|e| {
                Error::invalid_input(
                    format!("{} is not a valid proxy URL: {e}", names[0]),
                    "set it to a URL like http://proxy.example.com:3128",
                )
            })?;
            out.push(proxy.no_proxy(no_proxy.clone()));
        }
    }
    Ok(out)
}

/// Resolves `localhost` and `*.localhost` to loopback itself, as RFC 6761 §6.3 asks of name
/// resolution libraries (curl and browsers do the same); every other name goes to the system
/// resolver.
struct LocalhostAwareResolver;

impl Resolve for LocalhostAwareResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        Box::pin(async move {
            if host == "localhost" || host.ends_with(".localhost") {
                let addrs: Vec<SocketAddr> = vec![
                    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
                    SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 0),
                ];
                return Ok(Box::new(addrs.into_iter()) as Addrs);
            }
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// A transport error and its causes on one line ("... : connection refused"), without the URL
/// (callers name the URL themselves, redacted).
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// Describes a reqwest error for users: what failed and why, without the URL (which may carry
/// a query string); callers name the (redacted) URL themselves.
pub fn describe(err: reqwest::Error) -> String {
    let timeout = err.is_timeout();
    let bare = err.without_url();
    let chain = error_chain(&bare);
    if timeout && !chain.contains("timed out") {
        format!("timed out ({chain})")
    } else {
        chain
    }
}

/// The `Retry-After` header in seconds, at most [`limits::RETRY_AFTER_MAX_SECS`]
/// ([`limits::retry_after_secs`]).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    limits::retry_after_secs(headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?)
}

/// Why a response body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The body is larger than the limit (by its `Content-Length` or as it arrived).
    #[error(
        "the answer from {host} is larger than {} KiB, more than any real answer; ACR Tray stopped reading it",
        .limit / 1024
    )]
    TooLarge {
        /// The host that sent it.
        host: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// The connection failed while the body arrived.
    #[error("reading the answer: {0}")]
    Transport(String),
}

/// Reads a response body, at most [`limits::MAX_BODY`] bytes: every body the engine reads
/// comes through here.
pub async fn read_body(resp: reqwest::Response) -> std::result::Result<Vec<u8>, BodyError> {
    read_body_limited(resp, limits::MAX_BODY).await
}

/// [`read_body`] with another limit.
async fn read_body_limited(
    mut resp: reqwest::Response,
    limit: usize,
) -> std::result::Result<Vec<u8>, BodyError> {
    let too_large = |resp: &reqwest::Response| BodyError::TooLarge {
        host: resp.url().host_str().unwrap_or("the server").to_owned(),
        limit,
    };
    let announced = resp.content_length().unwrap_or(0);
    if usize::try_from(announced).map_or(true, |n| n > limit) {
        return Err(too_large(&resp));
    }
    let mut body = Vec::with_capacity(usize::try_from(announced).unwrap_or(0));
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| BodyError::Transport(describe(e)))?
    {
        if chunk.len() > limit.saturating_sub(body.len()) {
            return Err(too_large(&resp));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxies_come_from_the_injected_env() {
        let env = Env::from_pairs([("https_proxy", "http://proxy.example:3128")]);
        assert_eq!(proxies_from_env(&env).expect("proxy").len(), 1);
        let env = Env::from_pairs([("HTTPS_PROXY", "::not a url::")]);
        let err = proxies_from_env(&env).expect_err("bad");
        assert!(err.to_string().contains("HTTPS_PROXY"), "{err}");
        assert!(proxies_from_env(&Env::default()).expect("none").is_empty());
    }

    #[test]
    fn ca_files_must_hold_certificates() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("ca.pem");
        std::fs::write(&p, "not a pem").expect("write");
        let err = build_client(
            &Env::default(),
            &HttpOptions {
                ca_file: Some(p),
                ..Default::default()
            },
        )
        .expect_err("bad CA");
        assert!(err.to_string().contains("ca.pem"), "{err}");
        let err = build_client(
            &Env::from_pairs([("SSL_CERT_FILE", "/nonexistent/ca.pem")]),
            &HttpOptions::default(),
        )
        .expect_err("missing");
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }

    #[tokio::test]
    async fn localhost_names_resolve_to_loopback() {
        let name: Name = "myreg.azurecr.localhost".parse().expect("name");
        let addrs: Vec<SocketAddr> = LocalhostAwareResolver
            .resolve(name)
            .await
            .expect("resolve")
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
        assert!(!addrs.is_empty());
    }

    #[test]
    fn retry_after_reads_seconds() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, "7".parse().expect("value"));
        assert_eq!(retry_after(&h), Some(7));
        h.insert(
            reqwest::header::RETRY_AFTER,
            "99999999999".parse().expect("value"),
        );
        assert_eq!(retry_after(&h), Some(limits::RETRY_AFTER_MAX_SECS));
    }

    /// A plain-HTTP server on loopback answering every connection with `head` and then
    /// `body_chunks` chunks of 64 KiB (chunked when `head` says so), until the client goes away.
    async fn serve(head: &'static str, body_chunks: usize) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind");
        let url = format!("http://{}/", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = s.read(&mut buf).await;
                    s.write_all(head.as_bytes()).await?;
                    let chunk = vec![b'a'; 64 * 1024];
                    let chunked = head.contains("chunked");
                    for _ in 0..body_chunks {
                        if chunked {
                            s.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                                .await?;
                        }
                        s.write_all(&chunk).await?;
                        if chunked {
                            s.write_all(b"\r\n").await?;
                        }
                    }
                    if chunked {
                        s.write_all(b"0\r\n\r\n").await?;
                    }
                    s.shutdown().await
                });
            }
        });
        url
    }

    async fn fetch(url: &str) -> std::result::Result<Vec<u8>, BodyError> {
        let client = build_imds_client(&HttpOptions::default()).expect("client");
        let resp = client.get(url).send().await.expect("send");
        read_body(resp).await
    }

    #[tokio::test]
    async fn bodies_are_read_up_to_the_limit() {
        // 17 chunks of 64 KiB: just over 1 MiB, without a Content-Length (chunked).
        let url = serve(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            17,
        )
        .await;
        let err = fetch(&url).await.expect_err("too large");
        assert!(
            matches!(&err, BodyError::TooLarge { host, limit } if host == "127.0.0.1" && *limit == limits::MAX_BODY),
            "{err:?}"
        );
        assert!(err.to_string().contains("larger than 1024 KiB"), "{err}");
        // A chunked stream that never ends is cut at the limit too.
        let url = serve(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            usize::MAX,
        )
        .await;
        assert!(matches!(fetch(&url).await, Err(BodyError::TooLarge { .. })));
        // A Content-Length over the limit is refused before the body is read.
        let url = serve(
            "HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\nConnection: close\r\n\r\n",
            0,
        )
        .await;
        assert!(matches!(fetch(&url).await, Err(BodyError::TooLarge { .. })));
        // Exactly 1 MiB is fine.
        let url = serve(
            "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\nConnection: close\r\n\r\n",
            16,
        )
        .await;
        assert_eq!(fetch(&url).await.expect("1 MiB").len(), limits::MAX_BODY);
    }
}
