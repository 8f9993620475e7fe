//! The listeners: TLS for Entra/ARM/ACR, plain HTTP for IMDS. Connections are served by hand
//! (tokio-rustls + hyper http1) so that a fault can drop a connection with a TCP reset instead
//! of answering.
//!
//! Each request: host -> service, body buffered (for `grant_type`), faults, latency, then the
//! service's axum router; every request is logged. `/v2/...` of a registry with an upstream
//! skips the buffering and is streamed to the upstream instead (`upstream.rs`).

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use crate::Service;
use crate::app::{AcrCtx, Route, Shared};
use crate::faults::{self, FaultAction, RequestFacts};
use crate::lock;
use crate::log::{LoggedRequest, RequestFields};
use crate::upstream;

/// Longest a `Hang` fault holds a connection.
const HANG_LIMIT: Duration = Duration::from_secs(3600);
/// Longest a client may take to complete the TLS handshake: it only bounds connections that
/// never speak TLS, so a busy machine's slow client still gets through.
const HANDSHAKE_LIMIT: Duration = Duration::from_secs(60);
/// Largest request body read.
const BODY_LIMIT: usize = 1 << 20;

/// The per-service routers.
#[derive(Clone)]
pub(crate) struct Routers {
    pub(crate) entra: Router,
    pub(crate) acr: Router,
    pub(crate) arm: Router,
    pub(crate) imds: Router,
}

/// How a listener serves: TLS with host routing, or plain HTTP to one fixed route (IMDS).
#[derive(Clone)]
pub(crate) enum Mode {
    Tls(TlsAcceptor),
    Plain(Route),
}

/// Accepts connections until `shutdown` flips (or its sender is dropped).
pub(crate) async fn serve(
    listener: TcpListener,
    mode: Mode,
    shared: Arc<Shared>,
    routers: Routers,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let conn = serve_connection(
                    stream,
                    mode.clone(),
                    shared.clone(),
                    routers.clone(),
                    shutdown.clone(),
                );
                tokio::spawn(conn);
            }
            _ = shutdown.changed() => break,
        }
    }
}

/// A TCP stream that resets (SO_LINGER 0) instead of closing when asked to.
struct ResetOnDrop {
    inner: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for ResetOnDrop {
    fn drop(&mut self) {
        if self.reset.load(Ordering::SeqCst) {
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for ResetOnDrop {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResetOnDrop {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Per-connection: lets a request ask for the connection to be reset.
struct ConnCtx {
    shared: Arc<Shared>,
    routers: Routers,
    /// Every request goes here (plain listeners), else routing by `Host`.
    fixed_route: Option<Route>,
    reset_flag: Arc<AtomicBool>,
    reset: Notify,
}

async fn serve_connection(
    stream: TcpStream,
    mode: Mode,
    shared: Arc<Shared>,
    routers: Routers,
    shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let reset_flag = Arc::new(AtomicBool::new(false));
    let io = ResetOnDrop {
        inner: stream,
        reset: reset_flag.clone(),
    };
    let mut ctx = ConnCtx {
        shared,
        routers,
        fixed_route: None,
        reset_flag,
        reset: Notify::new(),
    };
    match mode {
        Mode::Tls(acceptor) => {
            let accept = tokio::time::timeout(HANDSHAKE_LIMIT, acceptor.accept(io));
            if let Ok(Ok(tls)) = accept.await {
                serve_http(tls, Arc::new(ctx), shutdown).await;
            }
        }
        Mode::Plain(route) => {
            ctx.fixed_route = Some(route);
            serve_http(io, Arc::new(ctx), shutdown).await;
        }
    }
}

async fn serve_http<I>(io: I, ctx: Arc<ConnCtx>, mut shutdown: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service_ctx = ctx.clone();
    let service = hyper::service::service_fn(move |req| handle(service_ctx.clone(), req));
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(io), service);
    tokio::select! {
        _ = conn => {}
        _ = ctx.reset.notified() => {}
        _ = shutdown.changed() => {}
    }
}

/// `Host` (or the URI authority) in lower case, without the port.
fn request_host(req: &Request<Incoming>) -> String {
    let raw = req
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or_default();
    let host = match raw.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => raw,
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

async fn handle(ctx: Arc<ConnCtx>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let s = &ctx.shared;
    let at = s.now();
    let host = request_host(&req);
    let route = match &ctx.fixed_route {
        Some(route) => route.clone(),
        None => s.route(&host),
    };
    let service = route.service();
    if let Some(upstream) = upstream_of(s, &route, req.uri().path()) {
        return Ok(proxied(&ctx, at, host, upstream, req).await);
    }
    let (parts, body) = req.into_parts();
    let (body, too_large) = match axum::body::to_bytes(Body::new(body), BODY_LIMIT).await {
        Ok(bytes) => (bytes, false),
        Err(_) => (axum::body::Bytes::new(), true),
    };
    let fields = RequestFields::extract(service, &parts.headers, parts.uri.query(), &body);
    let mut entry = LoggedRequest {
        at,
        service,
        host,
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        grant_type: fields.grant_type,
        client_id: fields.client_id,
        scope: fields.scope,
        credentials: fields.credentials,
        status: 0,
    };
    if too_large {
        entry.status = StatusCode::PAYLOAD_TOO_LARGE.as_u16();
        lock(&s.log).push(entry);
        return Ok(plain(StatusCode::PAYLOAD_TOO_LARGE));
    }
    let request = Request::from_parts(parts, Body::from(body));
    let response = with_faults(&ctx, &entry, route_request(&ctx, &route, request)).await;
    entry.status = response.status().as_u16();
    lock(&s.log).push(entry);
    Ok(response)
}

/// The upstream of a registry that fronts a real one, for its `/v2/...` paths.
fn upstream_of(s: &Shared, route: &Route, path: &str) -> Option<String> {
    let Route::Acr(registry) = route else {
        return None;
    };
    if !upstream::is_proxied_path(path) {
        return None;
    }
    lock(&s.dir).registry(registry)?.spec.upstream.clone()
}

/// A `/v2/...` request of a registry with an upstream: streamed both ways, never buffered.
async fn proxied(
    ctx: &ConnCtx,
    at: chrono::DateTime<chrono::Utc>,
    host: String,
    upstream: String,
    req: Request<Incoming>,
) -> Response<Body> {
    let mut entry = LoggedRequest {
        at,
        service: Service::Acr,
        host,
        method: req.method().to_string(),
        path: req.uri().path().to_owned(),
        grant_type: None,
        client_id: None,
        scope: None,
        credentials: if req
            .headers()
            .contains_key(axum::http::header::AUTHORIZATION)
        {
            vec!["authorization"]
        } else {
            Vec::new()
        },
        status: 0,
    };
    let response = with_faults(ctx, &entry, upstream::forward(&upstream, req)).await;
    entry.status = response.status().as_u16();
    lock(&ctx.shared.log).push(entry);
    response
}

/// Applies the first matching fault and the latency; `normal` produces the regular answer.
async fn with_faults(
    ctx: &ConnCtx,
    entry: &LoggedRequest,
    normal: impl Future<Output = Response<Body>>,
) -> Response<Body> {
    let s = &ctx.shared;
    let service = entry.service;
    let fault = lock(&s.faults).take(&RequestFacts {
        service,
        host: &entry.host,
        path: &entry.path,
        grant_type: entry.grant_type.as_deref(),
    });
    let latency = *lock(&s.latency);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Some(FaultAction::Hang) => {
            lock(&s.log).push(entry.clone());
            tokio::time::sleep(HANG_LIMIT).await;
            reset_connection(ctx).await
        }
        Some(FaultAction::ResetConnection) => {
            lock(&s.log).push(entry.clone());
            reset_connection(ctx).await
        }
        Some(FaultAction::Status {
            status,
            body,
            retry_after,
        }) => faults::status_response(service, status, body, retry_after, s.now()),
        Some(FaultAction::MalformedBody) => faults::malformed_body(),
        Some(FaultAction::WrongContentType) => faults::wrong_content_type(),
        Some(FaultAction::OversizedBody { bytes, chunked }) => {
            faults::oversized_body(bytes, chunked)
        }
        Some(FaultAction::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            normal.await
        }
        None => normal.await,
    }
}

/// Asks the connection task to drop the connection with a reset; never returns a response.
async fn reset_connection(ctx: &ConnCtx) -> Response<Body> {
    ctx.reset_flag.store(true, Ordering::SeqCst);
    ctx.reset.notify_one();
    std::future::pending::<Response<Body>>().await
}

async fn route_request(ctx: &ConnCtx, route: &Route, mut req: Request<Body>) -> Response<Body> {
    let router = match route {
        Route::Entra => ctx.routers.entra.clone(),
        Route::Arm => ctx.routers.arm.clone(),
        Route::Imds => ctx.routers.imds.clone(),
        Route::Acr(registry) => {
            let login_server = lock(&ctx.shared.dir)
                .registry(registry)
                .map(|r| r.public.login_server.to_ascii_lowercase());
            let Some(login_server) = login_server else {
                return plain(StatusCode::NOT_FOUND);
            };
            req.extensions_mut().insert(AcrCtx {
                registry: registry.clone(),
                login_server,
            });
            ctx.routers.acr.clone()
        }
        Route::UnknownRegistry | Route::Unknown => return plain(StatusCode::NOT_FOUND),
    };
    match router.oneshot(req).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

fn plain(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::from(
        status.canonical_reason().unwrap_or_default().to_owned(),
    ));
    *response.status_mut() = status;
    response
}
