//! Authorization code + PKCE with a loopback redirect (docs/protocol.md#entra-auth-code): the
//! browser-facing `GET /{tenant}/oauth2/v2.0/authorize` (signed in as the "browser user") and the
//! `authorization_code` grant.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::TimeDelta;
use sha2::Digest as _;
use url::Url;
use uuid::Uuid;

use crate::app::{Shared, random_token};
use crate::entra::{TenantPath, TokenReq, missing_parameter, resolve_tenant};
use crate::entra_client::authenticate_user_client;
use crate::entra_refresh::{invalid_grant, issue_user_tokens};
use crate::entra_tokens::parse_scopes;
use crate::form::Form;
use crate::state_auth::AuthCodeRec;
use crate::{errors, lock};

/// Authorization codes live 10 minutes (E-AC).
const CODE_MINUTES: i64 = 10;

/// Entra's error page (no redirect: the redirect URI or client cannot be trusted).
fn error_page(s: &Shared, code: u32, message: &str) -> Response {
    let now = errors::entra_timestamp(s.now());
    let body = format!(
        "<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body>\
         <h1>Sorry, but we're having trouble signing you in.</h1>\
         <p id=\"error\">AADSTS{code}: {}</p>\
         <p>Request Id: {}<br>Correlation Id: {}<br>Timestamp: {now}</p></body></html>",
        errors::html_escape(message),
        Uuid::new_v4(),
        Uuid::new_v4(),
    );
    errors::html(StatusCode::BAD_REQUEST, body)
}

/// Whether a redirect URI is a loopback `http://localhost[:port][/path]` / `127.0.0.1` / `[::1]`.
fn loopback_redirect(raw: &str) -> Option<Url> {
    let url = Url::parse(raw).ok()?;
    let host = url.host_str()?;
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
    (url.scheme() == "http" && loopback && url.fragment().is_none()).then_some(url)
}

fn redirect(mut url: Url, params: &[(&str, &str)]) -> Response {
    url.query_pairs_mut().extend_pairs(params);
    let mut response = errors::html(
        StatusCode::FOUND,
        "<html><body>Redirecting...</body></html>".to_owned(),
    );
    if let Ok(value) = HeaderValue::from_str(url.as_str()) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// A redirect carrying an OAuth error (and the `state`).
fn redirect_error(
    s: &Shared,
    url: Url,
    state: Option<&str>,
    error: &str,
    code: u32,
    message: &str,
) -> Response {
    let now = s.now();
    let description = format!(
        "AADSTS{code}: {message}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {}",
        Uuid::new_v4(),
        Uuid::new_v4(),
        errors::entra_timestamp(now)
    );
    let error_uri = format!("https://login.microsoftonline.com/error?code={code}");
    let mut params = vec![
        ("error", error),
        ("error_description", description.as_str()),
        ("error_uri", error_uri.as_str()),
    ];
    if let Some(state) = state {
        params.push(("state", state));
    }
    redirect(url, &params)
}

/// `GET /{tenant}/oauth2/v2.0/authorize`.
pub(crate) async fn authorize(
    State(s): State<Arc<Shared>>,
    Path(segment): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let q = Form::parse(query.unwrap_or_default().as_bytes());
    let tenant = resolve_tenant(&s, &segment);
    if let TenantPath::Unknown(t) = &tenant {
        return error_page(
            &s,
            90002,
            &format!("Tenant '{t}' not found. Check to make sure you have the correct tenant ID."),
        );
    }
    let Some(client_id) = q.get("client_id") else {
        return error_page(
            &s,
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        );
    };
    let (known, browser_user, decline) = {
        let dir = lock(&s.dir);
        let known = dir.auth.is_public_client(client_id) || dir.principal(client_id).is_some();
        let user = dir.auth.browser_user.as_ref().map(|u| {
            dir.home_user(&u.object_id)
                .cloned()
                .unwrap_or_else(|| u.clone())
        });
        (known, user, dir.auth.browser_decline)
    };
    if !known {
        return error_page(
            &s,
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory \
                 '{segment}'."
            ),
        );
    }
    let raw_redirect = q.get("redirect_uri").unwrap_or_default();
    let Some(redirect_url) = loopback_redirect(raw_redirect) else {
        return error_page(
            &s,
            50011,
            &format!(
                "The redirect URI '{raw_redirect}' specified in the request does not match the \
                 redirect URIs configured for the application '{client_id}'. Make sure the \
                 redirect URI sent in the request matches one added to your application in the \
                 Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more \
                 about how to fix this."
            ),
        );
    };
    let state = q.get("state");
    let fail = |error: &str, code: u32, message: &str| {
        redirect_error(&s, redirect_url.clone(), state, error, code, message)
    };
    match q.get("response_type") {
        None => {
            return fail(
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'response_type'.",
            );
        }
        Some("code") => {}
        Some(other) => {
            return fail(
                "unsupported_response_type",
                70005,
                &format!("response_type '{other}' is not enabled for the application."),
            );
        }
    }
    let challenge = q.get("code_challenge");
    if let Some(challenge) = challenge {
        let method = q.get("code_challenge_method").unwrap_or("plain");
        if method != "S256" || challenge.len() != 43 {
            return fail(
                "invalid_request",
                501491,
                &format!(
                    "Invalid size of Code_Challenge parameter or unsupported \
                     code_challenge_method '{method}'; this fake accepts only S256."
                ),
            );
        }
    }
    let scope = q.get("scope").unwrap_or_default();
    if parse_scopes(&s, Some(scope), &segment, false).is_err() {
        return fail(
            "invalid_scope",
            70011,
            &format!(
                "The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
            ),
        );
    }
    let user = match browser_user {
        Some(_) if decline => None,
        other => other,
    };
    let Some(user) = user else {
        if q.get("prompt") == Some("none") {
            return fail(
                "login_required",
                50058,
                "A silent sign-in request was sent but no user is signed in.",
            );
        }
        return fail(
            "access_denied",
            65004,
            "User declined to consent to access the app.",
        );
    };
    if lock(&s.dir).user_in_tenant(&user, &tenant).is_none() {
        return error_page(
            &s,
            50020,
            &format!(
                "User account '{}' from identity provider 'https://sts.windows.net/{}/' does not \
                 exist in tenant '{segment}' and cannot access the application '{client_id}' in \
                 that tenant.",
                user.upn, user.tenant
            ),
        );
    }
    let code = format!("1.A{}", random_token(200));
    lock(&s.dir).auth.auth_codes.insert(
        code.clone(),
        AuthCodeRec {
            client_id: client_id.to_owned(),
            redirect_uri: raw_redirect.to_owned(),
            user,
            tenant,
            scope: scope.to_owned(),
            code_challenge: challenge.map(str::to_owned),
            nonce: q.get("nonce").map(str::to_owned),
            issued: s.now(),
            redeemed: false,
        },
    );
    let session_state = Uuid::new_v4().to_string();
    let mut params = vec![("code", code.as_str())];
    if let Some(state) = state {
        params.push(("state", state));
    }
    params.push(("session_state", session_state.as_str()));
    redirect(redirect_url, &params)
}

/// `grant_type=authorization_code` (form `client_id`, `code`, `redirect_uri`, `code_verifier`,
/// `scope`).
pub(crate) fn authorization_code_grant(req: &TokenReq<'_>) -> Response {
    let s = req.s;
    let form = req.form;
    let Some(code) = form.get("code") else {
        return missing_parameter(s, "code");
    };
    let client_id = match authenticate_user_client(req) {
        Ok(id) => id,
        Err(response) => return response,
    };
    let record = lock(&s.dir).auth.auth_codes.get(code).cloned();
    let Some(record) = record else {
        return invalid_grant(
            req,
            9002313,
            "Invalid request. Request is malformed or invalid.",
        );
    };
    if !record.client_id.eq_ignore_ascii_case(&client_id) {
        return invalid_grant(req, 70000, "Provided grant is invalid or malformed.");
    }
    if record.redeemed {
        return invalid_grant(
            req,
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code \
             or use an existing refresh token.",
        );
    }
    if s.now() - record.issued > TimeDelta::minutes(CODE_MINUTES) {
        return invalid_grant(
            req,
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. \
             Send a new interactive authorization request for this user and resource.",
        );
    }
    let given = form.get("redirect_uri").unwrap_or_default();
    if given != record.redirect_uri {
        return invalid_grant(
            req,
            50011,
            &format!(
                "The reply address '{given}' does not match the reply address '{}' provided when \
                 requesting Authorization code.",
                record.redirect_uri
            ),
        );
    }
    if let Some(challenge) = &record.code_challenge {
        let verifier = form.get("code_verifier").unwrap_or_default();
        let computed = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
        if computed != *challenge {
            return invalid_grant(
                req,
                501481,
                "The Code_Verifier does not match the code_challenge supplied in the \
                 authorization request.",
            );
        }
    }
    if let Some(rec) = lock(&s.dir).auth.auth_codes.get_mut(code) {
        rec.redeemed = true;
    }
    // Reserved scopes consented at /authorize (offline_access, openid) still apply.
    let mut scope = form.get("scope").unwrap_or(&record.scope).to_owned();
    for reserved in record.scope.split_whitespace() {
        let is_reserved = matches!(reserved, "openid" | "profile" | "offline_access" | "email");
        if is_reserved && !scope.split_whitespace().any(|s| s == reserved) {
            scope.push(' ');
            scope.push_str(reserved);
        }
    }
    issue_user_tokens(
        req,
        &record.user,
        &record.tenant,
        &client_id,
        &scope,
        record.nonce.as_deref(),
    )
}
