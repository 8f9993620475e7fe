//! Scripted faults: which requests they hit, what they do, how many times.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};

use crate::errors;

/// The three faked services (plus requests to hosts the fake does not know).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// Entra ID on `login.<base>`.
    Entra,
    /// A registry host.
    Acr,
    /// ARM on `management.<base>`.
    Arm,
    /// The managed-identity endpoint (IMDS) on its own plain-HTTP port.
    Imds,
    /// A host the fake does not serve (answered 404).
    Unknown,
}

/// Which requests a fault applies to; every `Some` field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultTarget {
    /// The service.
    pub service: Option<Service>,
    /// Host name without port (case-insensitive).
    pub host: Option<String>,
    /// Path prefix (query excluded).
    pub path_prefix: Option<String>,
    /// The form field `grant_type`.
    pub grant_type: Option<String>,
}

impl FaultTarget {
    /// Matches every request.
    pub fn any() -> Self {
        Self::default()
    }
    /// Matches requests to one service.
    pub fn service(service: Service) -> Self {
        Self {
            service: Some(service),
            ..Self::default()
        }
    }
    /// Also requires this host (no port).
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }
    /// Also requires this path prefix.
    pub fn path_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.path_prefix = Some(prefix.into());
        self
    }
    /// Also requires this `grant_type`.
    pub fn grant_type(mut self, grant_type: impl Into<String>) -> Self {
        self.grant_type = Some(grant_type.into());
        self
    }

    fn matches(&self, req: &RequestFacts<'_>) -> bool {
        self.service.is_none_or(|s| s == req.service)
            && self
                .host
                .as_deref()
                .is_none_or(|h| h.eq_ignore_ascii_case(req.host))
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|p| req.path.starts_with(p))
            && self
                .grant_type
                .as_deref()
                .is_none_or(|g| req.grant_type == Some(g))
    }
}

/// What a fault does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultAction {
    /// Answer with this status; `body` defaults to the service's error shape.
    Status {
        /// HTTP status.
        status: u16,
        /// Response body (JSON); `None` = a generic error in the service's shape.
        body: Option<String>,
        /// `Retry-After` seconds.
        retry_after: Option<u64>,
    },
    /// Wait, then handle the request normally.
    Delay(Duration),
    /// Never answer (until the client gives up or the fake stops).
    Hang,
    /// Close the TCP connection with a reset, without a response.
    ResetConnection,
    /// 200 with `application/json` and a truncated JSON body.
    MalformedBody,
    /// 200 with `text/html` (e.g. a captive portal).
    WrongContentType,
    /// 200 with `application/json` and a body of this many bytes (whitespace after a `{`):
    /// with a `Content-Length`, or chunked without one.
    OversizedBody {
        /// The body's size.
        bytes: usize,
        /// Sent chunked, its size not announced.
        chunked: bool,
    },
}

/// A scripted fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Which requests.
    pub target: FaultTarget,
    /// What happens.
    pub action: FaultAction,
    /// How many requests it hits; `None` = until cleared.
    pub times: Option<u32>,
}

impl Fault {
    /// A fault hitting every matching request until cleared.
    pub fn new(target: FaultTarget, action: FaultAction) -> Self {
        Self {
            target,
            action,
            times: None,
        }
    }
    /// Limits the fault to `n` requests.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }
}

/// What fault matching looks at.
pub(crate) struct RequestFacts<'a> {
    pub(crate) service: Service,
    pub(crate) host: &'a str,
    pub(crate) path: &'a str,
    pub(crate) grant_type: Option<&'a str>,
}

/// Active faults in insertion order; the first match wins.
#[derive(Debug, Default)]
pub(crate) struct FaultSet {
    faults: Vec<Fault>,
}

impl FaultSet {
    pub(crate) fn add(&mut self, fault: Fault) {
        self.faults.push(fault);
    }

    pub(crate) fn clear(&mut self) {
        self.faults.clear();
    }

    /// The faults still active, in insertion order.
    pub(crate) fn active(&self) -> Vec<Fault> {
        self.faults.clone()
    }

    /// The action of the first matching fault, counting one use of it.
    pub(crate) fn take(&mut self, req: &RequestFacts<'_>) -> Option<FaultAction> {
        let index = self
            .faults
            .iter()
            .position(|f| f.times != Some(0) && f.target.matches(req))?;
        let fault = &mut self.faults[index];
        let action = fault.action.clone();
        if let Some(n) = fault.times.as_mut() {
            *n -= 1;
            if *n == 0 {
                self.faults.remove(index);
            }
        }
        Some(action)
    }
}

/// The response of a `Status` fault.
pub(crate) fn status_response(
    service: Service,
    status: u16,
    body: Option<String>,
    retry_after: Option<u64>,
    now: DateTime<Utc>,
) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = match body {
        Some(body) => json_response(status, body),
        None => default_error(service, status, now),
    };
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

fn default_error(service: Service, status: StatusCode, now: DateTime<Utc>) -> Response {
    let throttled = status == StatusCode::TOO_MANY_REQUESTS;
    match service {
        Service::Entra => {
            let (error, code, message) = if status.is_server_error() || throttled {
                (
                    "temporarily_unavailable",
                    90033,
                    "A transient error has occurred. Please try again.",
                )
            } else {
                ("invalid_request", 90014, "The request is not valid.")
            };
            errors::entra(status, error, code, message, now)
        }
        Service::Arm => {
            let (code, message) = if throttled {
                (
                    "SubscriptionRequestsThrottled",
                    "Number of 'read' requests for subscription exceeded. Please try again later.",
                )
            } else if status.is_server_error() {
                (
                    "InternalServerError",
                    "Encountered internal server error. Please try again.",
                )
            } else {
                ("BadRequest", "The request is not valid.")
            };
            errors::arm(status, code, message)
        }
        Service::Imds => crate::imds::fault_error(status),
        Service::Acr | Service::Unknown => {
            let (code, message) = if throttled {
                ("TOOMANYREQUESTS", "too many requests")
            } else if status.is_server_error() {
                ("UNAVAILABLE", "service unavailable")
            } else {
                ("DENIED", "requested access to the resource is denied")
            };
            errors::acr(status, code, message)
        }
    }
}

/// 200 + `application/json` + a body cut in the middle of a string.
pub(crate) fn malformed_body() -> Response {
    json_response(
        StatusCode::OK,
        r#"{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ0eXAiOiJKV1QiLCJhbGci"#
            .to_owned(),
    )
}

/// 200 + `text/html`.
pub(crate) fn wrong_content_type() -> Response {
    let mut response = Response::new(Body::from(
        "<!DOCTYPE html><html><head><title>Sign in to the network</title></head>\
         <body><p>Please accept the terms of use.</p></body></html>",
    ));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// 200 + `application/json` + `bytes` bytes, with a `Content-Length` or chunked.
pub(crate) fn oversized_body(bytes: usize, chunked: bool) -> Response {
    const CHUNK: usize = 64 * 1024;
    let mut response = if chunked {
        let chunks = (0..bytes.div_ceil(CHUNK)).map(move |i| {
            let len = CHUNK.min(bytes - i * CHUNK);
            let mut chunk = vec![b' '; len];
            if i == 0
                && let Some(first) = chunk.first_mut()
            {
                *first = b'{';
            }
            Ok::<_, std::io::Error>(axum::body::Bytes::from(chunk))
        });
        Response::new(Body::from_stream(futures::stream::iter(chunks)))
    } else {
        let mut body = vec![b' '; bytes];
        if let Some(first) = body.first_mut() {
            *first = b'{';
        }
        Response::new(Body::from(body))
    };
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}
