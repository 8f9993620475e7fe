//! The reverse proxy in front of a real registry (`RegistrySpec::upstream`): every `/v2/...`
//! request of such a registry goes to the upstream unchanged (method, path, query, headers
//! including `Authorization`, streamed body), and the upstream's answer comes back unchanged
//! (status, headers including its own `WWW-Authenticate` challenge and `Location`, streamed
//! body). Only hop-by-hop headers are dropped. `/oauth2/*` never get here.
//!
//! One upstream connection per request (HTTP/1.1, plain TCP): simple, and loopback is cheap.

use std::str::FromStr;

use anyhow::{Context, Result, bail};
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode, Uri, Version};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::errors;

/// Headers that describe one hop, never forwarded (RFC 9110 §7.6.1, plus `Expect`: this
/// proxy's own server already answers `100 Continue`).
const HOP_BY_HOP: [&str; 10] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
];

/// Whether a request path belongs to the upstream (`/v2` and everything below `/v2/`).
pub(crate) fn is_proxied_path(path: &str) -> bool {
    path == "/v2" || path.starts_with("/v2/")
}

/// Forwards one request; connection failures answer 502 in ACR's error shape.
pub(crate) async fn forward(upstream: &str, req: Request<Incoming>) -> Response<Body> {
    match try_forward(upstream, req).await {
        Ok(response) => response,
        Err(e) => errors::acr(
            StatusCode::BAD_GATEWAY,
            "UNAVAILABLE",
            &format!("upstream registry {upstream}: {e:#}"),
        ),
    }
}

async fn try_forward(upstream: &str, req: Request<Incoming>) -> Result<Response<Body>> {
    let url = url::Url::parse(upstream).with_context(|| format!("bad upstream URL {upstream}"))?;
    if url.scheme() != "http" {
        bail!("only http:// upstreams are supported");
    }
    let host = url.host_str().context("the upstream URL has no host")?;
    let port = url.port_or_known_default().unwrap_or(80);
    let stream = TcpStream::connect((host, port))
        .await
        .with_context(|| format!("connecting to {host}:{port}"))?;
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .context("HTTP handshake")?;
    // Drives the connection until the response body has been read (the sender is gone by then).
    tokio::spawn(async move {
        let _ = connection.await;
    });

    let (mut parts, body) = req.into_parts();
    let base = url.path().trim_end_matches('/');
    let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    parts.uri = Uri::from_str(&format!("{base}{path_and_query}")).context("request URI")?;
    parts.version = Version::HTTP_11;
    let original_host = parts.headers.get(axum::http::header::HOST).cloned();
    strip_hop_by_hop(&mut parts.headers);
    match original_host {
        Some(host) => {
            parts.headers.insert("x-forwarded-host", host);
        }
        None => {
            let authority = HeaderValue::from_str(&format!("{host}:{port}"))?;
            parts.headers.insert(axum::http::header::HOST, authority);
        }
    }
    parts
        .headers
        .insert("x-forwarded-proto", HeaderValue::from_static("https"));

    let response = sender
        .send_request(Request::from_parts(parts, body))
        .await
        .context("forwarding the request")?;
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    Ok(Response::from_parts(parts, Body::new(body)))
}

/// Removes the hop-by-hop headers and every header named in `Connection`.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(axum::http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_str(name.trim()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hop_by_hop_headers_go_and_end_to_end_headers_stay() {
        let mut headers = HeaderMap::new();
        for (k, v) in [
            ("connection", "keep-alive, x-hop"),
            ("x-hop", "1"),
            ("transfer-encoding", "chunked"),
            ("authorization", "Bearer t"),
            ("content-length", "5"),
            ("docker-content-digest", "sha256:00"),
            ("location", "/v2/a/blobs/uploads/u"),
            ("range", "0-4"),
        ] {
            headers.insert(
                HeaderName::from_str(k).unwrap(),
                HeaderValue::from_static(v),
            );
        }
        strip_hop_by_hop(&mut headers);
        let mut left: Vec<_> = headers.keys().map(|k| k.as_str().to_owned()).collect();
        left.sort();
        assert_eq!(
            left,
            [
                "authorization",
                "content-length",
                "docker-content-digest",
                "location",
                "range"
            ]
        );
    }

    #[test]
    fn only_v2_paths_are_proxied() {
        assert!(is_proxied_path("/v2"));
        assert!(is_proxied_path("/v2/"));
        assert!(is_proxied_path("/v2/a/b/blobs/uploads/"));
        assert!(!is_proxied_path("/v2x"));
        assert!(!is_proxied_path("/oauth2/token"));
        assert!(!is_proxied_path("/oauth2/exchange"));
    }
}
