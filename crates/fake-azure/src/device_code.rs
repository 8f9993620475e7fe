//! Device code flow (RFC 8628, docs/protocol.md#entra-device-code): `POST
//! /{tenant}/oauth2/v2.0/devicecode`, the polling grant, and a small `/device` page where the
//! "browser user" can enter a code.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::TimeDelta;
use serde_json::json;

use crate::app::Shared;
use crate::entra::{TenantPath, TokenReq, missing_parameter, resolve_tenant, tenant_not_found};
use crate::entra_client::authenticate_user_client;
use crate::entra_refresh::issue_user_tokens;
use crate::entra_tokens::{self, parse_scopes};
use crate::form::Form;
use crate::state::User;
use crate::state_auth::{DeviceCodeInfo, DeviceCodeRec, DeviceState};
use crate::{errors, lock};

pub(crate) const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";
const USER_CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

fn user_code() -> String {
    (0..9)
        .map(|_| {
            let i = usize::from(rand::random::<u8>()) % USER_CODE_ALPHABET.len();
            char::from(USER_CODE_ALPHABET[i])
        })
        .collect()
}

/// `POST /{tenant}/oauth2/v2.0/devicecode` (form `client_id`, `scope`).
pub(crate) async fn devicecode(
    State(s): State<Arc<Shared>>,
    Path(segment): Path<String>,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    let tenant = match resolve_tenant(&s, &segment) {
        TenantPath::Unknown(t) => return tenant_not_found(&s, &t, "invalid_request"),
        other => other,
    };
    let Some(client_id) = form.get("client_id") else {
        return missing_parameter(&s, "client_id");
    };
    let known = {
        let dir = lock(&s.dir);
        dir.auth.is_public_client(client_id) || dir.principal(client_id).is_some()
    };
    let label = match &tenant {
        TenantPath::Id(t) => t.clone(),
        _ => segment.clone(),
    };
    if !known {
        return entra_tokens::unknown_client(&s, client_id, &label);
    }
    let scope = form.get("scope").unwrap_or_default();
    if let Err(response) = parse_scopes(&s, Some(scope), &label, false) {
        return response;
    }
    let now = s.now();
    let verification_uri = format!("{}/device", s.authority());
    let mut dir = lock(&s.dir);
    let (expires_in, interval) = dir.auth.device_timing;
    let mut code = user_code();
    while dir
        .auth
        .device_codes
        .iter()
        .any(|d| d.info.user_code == code)
    {
        code = user_code();
    }
    let device_code = format!("DAQABIQEAAAB{}", crate::app::random_token(90));
    let lifetime = TimeDelta::seconds(i64::try_from(expires_in).unwrap_or(i64::MAX / 2));
    dir.auth.device_codes.push(DeviceCodeRec {
        device_code: device_code.clone(),
        info: DeviceCodeInfo {
            user_code: code.clone(),
            client_id: client_id.to_owned(),
            scope: scope.to_owned(),
            tenant: segment,
            expires_at: now + lifetime,
            interval,
        },
        tenant,
        state: DeviceState::Pending,
        polls: 0,
    });
    drop(dir);
    errors::json_ok(json!({
        "user_code": code,
        "device_code": device_code,
        "verification_uri": verification_uri,
        "expires_in": expires_in,
        "interval": interval,
        "message": format!(
            "To sign in, use a web browser to open the page {verification_uri} and enter the \
             code {code} to authenticate."
        ),
    }))
}

fn poll_error(req: &TokenReq<'_>, error: &str, code: u32, message: &str) -> Response {
    errors::entra(StatusCode::BAD_REQUEST, error, code, message, req.s.now())
}

/// What a poll found, decided under the lock.
enum Poll {
    Unknown,
    Redeemed,
    Expired,
    SlowDown,
    Declined,
    Pending,
    Approved(User, TenantPath, String),
}

/// `grant_type=urn:ietf:params:oauth:grant-type:device_code` (form `client_id`, `device_code`).
pub(crate) fn device_code_grant(req: &TokenReq<'_>) -> Response {
    let s = req.s;
    let Some(device_code) = req.form.get("device_code") else {
        return missing_parameter(s, "device_code");
    };
    let client_id = match authenticate_user_client(req) {
        Ok(id) => id,
        Err(response) => return response,
    };
    let now = s.now();
    let poll = {
        let mut dir = lock(&s.dir);
        let auth = &mut dir.auth;
        let slow_down = auth.device_slow_down > 0;
        let auto = auth.device_auto_approve.clone();
        match auth
            .device_codes
            .iter_mut()
            .find(|d| d.device_code == device_code)
        {
            None => Poll::Unknown,
            Some(d) if !d.info.client_id.eq_ignore_ascii_case(&client_id) => Poll::Unknown,
            Some(d) if matches!(d.state, DeviceState::Redeemed) => Poll::Redeemed,
            Some(d) if now >= d.info.expires_at => Poll::Expired,
            Some(d) => {
                d.polls += 1;
                if let (DeviceState::Pending, Some((user, after))) = (&d.state, auto)
                    && d.polls > after
                {
                    d.state = DeviceState::Approved(user);
                }
                if slow_down {
                    auth.device_slow_down -= 1;
                    Poll::SlowDown
                } else {
                    match std::mem::replace(&mut d.state, DeviceState::Redeemed) {
                        DeviceState::Approved(user) => {
                            Poll::Approved(user, d.tenant.clone(), d.info.scope.clone())
                        }
                        other => {
                            let poll = match other {
                                DeviceState::Declined => Poll::Declined,
                                _ => Poll::Pending,
                            };
                            d.state = other;
                            poll
                        }
                    }
                }
            }
        }
    };
    match poll {
        Poll::Unknown => poll_error(
            req,
            "bad_verification_code",
            70018,
            "The provided value for the input parameter 'device_code' is not valid.",
        ),
        Poll::Redeemed => poll_error(
            req,
            "invalid_grant",
            70000,
            "Provided grant is invalid or malformed.",
        ),
        Poll::Expired => poll_error(
            req,
            "expired_token",
            70020,
            "The provided value for the input parameter 'device_code' is not valid. This device \
             code has expired.",
        ),
        Poll::SlowDown => poll_error(
            req,
            "slow_down",
            70016,
            "OAuth 2.0 device flow error. Polling too frequently; add 5 seconds to the polling \
             interval.",
        ),
        Poll::Declined => poll_error(
            req,
            "authorization_declined",
            65004,
            "User declined to consent to access the app.",
        ),
        Poll::Pending => poll_error(
            req,
            "authorization_pending",
            70016,
            "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
        ),
        Poll::Approved(user, tenant, scope) => {
            issue_user_tokens(req, &user, &tenant, &client_id, &scope, None)
        }
    }
}

/// Approves (`Some(user)`) or declines (`None`) a pending code; false when no such pending code.
pub(crate) fn decide(s: &Shared, user_code: &str, user: Option<User>) -> bool {
    let mut dir = lock(&s.dir);
    let home = user.and_then(|u| dir.home_user(&u.object_id).cloned().or(Some(u)));
    let code = user_code.trim().replace('-', "").to_ascii_uppercase();
    let Some(d) = dir
        .auth
        .device_codes
        .iter_mut()
        .find(|d| d.info.user_code == code)
    else {
        return false;
    };
    if !matches!(d.state, DeviceState::Pending) {
        return false;
    }
    d.state = match home {
        Some(user) => DeviceState::Approved(user),
        None => DeviceState::Declined,
    };
    true
}

const PAGE: &str = "<!DOCTYPE html><html><head><title>Enter code</title></head><body>\
    <h1>Enter code</h1><p>Enter the code displayed on your app or device.</p>\
    <form method=\"post\" action=\"/device\"><input name=\"otc\" autocomplete=\"off\">\
    <button type=\"submit\">Next</button></form>{MESSAGE}</body></html>";

/// `GET /device`: the code entry page.
pub(crate) async fn device_page() -> Response {
    errors::html(StatusCode::OK, PAGE.replace("{MESSAGE}", ""))
}

/// `POST /device` (form `otc`): signs in as the browser user (declines when there is none or
/// `set_browser_decline(true)`).
pub(crate) async fn device_submit(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let code = form.get("otc").or_else(|| form.get("user_code"));
    let user = {
        let dir = lock(&s.dir);
        (!dir.auth.browser_decline)
            .then(|| dir.auth.browser_user.clone())
            .flatten()
    };
    let approved = user.is_some();
    let found = code.is_some_and(|c| decide(&s, c, user));
    let message = match (found, approved) {
        (false, _) => "<p>That code didn't work. Check the code and try again.</p>",
        (true, true) => "<p>You have signed in. You may now close this window.</p>",
        (true, false) => "<p>Sign-in was declined.</p>",
    };
    let status = if found {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    errors::html(status, PAGE.replace("{MESSAGE}", message))
}
