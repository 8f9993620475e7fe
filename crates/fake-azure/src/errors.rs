//! Error bodies in the exact shapes of Entra, ACR (distribution `errors[]`) and ARM.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

/// Entra's timestamp format in error bodies: `2026-01-01 00:00:00Z`.
pub(crate) fn entra_timestamp(now: DateTime<Utc>) -> String {
    now.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// An Entra error: `error`, `error_description` (`AADSTS<n>: ...` + trace/correlation/timestamp
/// lines), `error_codes`, `timestamp`, `trace_id`, `correlation_id`, `error_uri`.
pub(crate) fn entra(
    status: StatusCode,
    error: &str,
    code: u32,
    message: &str,
    now: DateTime<Utc>,
) -> Response {
    entra_with(status, error, code, message, now, &[])
}

/// As [`entra`], with extra top-level fields (e.g. `suberror`).
pub(crate) fn entra_with(
    status: StatusCode,
    error: &str,
    code: u32,
    message: &str,
    now: DateTime<Utc>,
    extra: &[(&str, Value)],
) -> Response {
    let trace_id = Uuid::new_v4().to_string();
    let correlation_id = Uuid::new_v4().to_string();
    let timestamp = entra_timestamp(now);
    let body = json!({
        "error": error,
        "error_description": format!(
            "AADSTS{code}: {message}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}"
        ),
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    });
    let mut body = body;
    for (key, value) in extra {
        body[*key] = value.clone();
    }
    with_json_type(status, body, |r| {
        r.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store, no-cache"),
        );
    })
}

/// A distribution-style ACR error: `{"errors":[{"code","message","detail"}]}`.
pub(crate) fn acr(status: StatusCode, code: &str, message: &str) -> Response {
    acr_with_detail(status, code, message, Value::Null)
}

/// As [`acr`], with a `detail` value.
pub(crate) fn acr_with_detail(
    status: StatusCode,
    code: &str,
    message: &str,
    detail: Value,
) -> Response {
    let body = json!({"errors": [{"code": code, "message": message, "detail": detail}]});
    with_json_type(status, body, |_| {})
}

/// An ARM error: `{"error":{"code","message"}}` (request-id headers are added by the ARM layer).
pub(crate) fn arm(status: StatusCode, code: &str, message: &str) -> Response {
    with_json_type(
        status,
        json!({"error": {"code": code, "message": message}}),
        |_| {},
    )
}

/// JSON with `application/json; charset=utf-8`.
pub(crate) fn json_ok(body: Value) -> Response {
    with_json_type(StatusCode::OK, body, |_| {})
}

/// JSON with `application/json; charset=utf-8` and any status.
pub(crate) fn json_status(status: StatusCode, body: Value) -> Response {
    with_json_type(status, body, |_| {})
}

/// An HTML page (Entra's sign-in error pages, the device-code page).
pub(crate) fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// Minimal HTML escaping for text placed in pages.
pub(crate) fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn with_json_type(status: StatusCode, body: Value, extra: impl FnOnce(&mut Response)) -> Response {
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    extra(&mut response);
    response
}
