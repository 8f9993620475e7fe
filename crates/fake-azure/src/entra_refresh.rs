//! The refresh-token grant (rotation, revocation, inactivity, scripted session expiry) and the
//! user-token issuance shared with the device-code and authorization-code grants.

use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::json;

use crate::entra::{TokenReq, missing_parameter};
use crate::entra_client::{
    ClientCredential, authenticate_client, client_auth, public_client_with_credential,
};
use crate::entra_tokens::{self, Grant, new_refresh_token, rotated_refresh_token};
use crate::state::User;
use crate::{errors, lock};

/// Refresh-token inactivity limit.
const REFRESH_TOKEN_DAYS: i64 = 90;

pub(crate) fn invalid_grant(req: &TokenReq<'_>, code: u32, message: &str) -> Response {
    errors::entra(
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        code,
        message,
        req.s.now(),
    )
}

fn entra_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// AADSTS50020: the user has no account in the requested tenant.
pub(crate) fn user_not_in_tenant(
    req: &TokenReq<'_>,
    user: &User,
    tenant: &str,
    client_id: &str,
) -> Response {
    invalid_grant(
        req,
        50020,
        &format!(
            "User account '{}' from identity provider 'https://sts.windows.net/{}/' does not \
             exist in tenant '{tenant}' and cannot access the application '{client_id}' in that \
             tenant. The account needs to be added as an external user in the tenant first. Sign \
             out and sign in again with a different Microsoft Entra user account.",
            user.upn, user.tenant
        ),
    )
}

/// The sign-in frequency `expire_sessions(.., 70043)` reports: 12 hours.
const SCRIPTED_SIGN_IN_FREQUENCY_SECS: i64 = 43200;

/// Entra's AADSTS70043 text: a refresh token refused by a Conditional-Access sign-in-frequency
/// policy of `limit_secs`, for a session that began at `issued`.
fn sign_in_frequency_message(issued: DateTime<Utc>, limit_secs: i64) -> String {
    format!(
        "The refresh token has expired or is invalid due to sign-in frequency checks by \
         conditional access. The token was issued on {} and the maximum allowed lifetime for \
         this request is {limit_secs}.",
        entra_time(issued)
    )
}

/// The error Entra answers when a session ended with `code` (see `FakeAzure::expire_sessions`).
pub(crate) fn session_error(
    req: &TokenReq<'_>,
    code: u32,
    issued: DateTime<Utc>,
    since: DateTime<Utc>,
    client_id: &str,
) -> Response {
    let resource = req
        .form
        .get("scope")
        .and_then(|s| s.split_whitespace().find(|s| s.contains("://")))
        .map(|s| s.trim_end_matches("/.default").to_owned())
        .unwrap_or_else(|| client_id.to_owned());
    let issued_text = entra_time(issued);
    let (error, suberror, message) = match code {
        700082 => (
            "invalid_grant",
            None,
            format!(
                "The refresh token has expired due to inactivity. The token was issued on \
             {issued_text} and was inactive for 90.00:00:00."
            ),
        ),
        70008 => (
            "invalid_grant",
            None,
            "The provided authorization code or refresh token has \
            expired due to inactivity. Send a new interactive authorization request for this user \
            and resource."
                .to_owned(),
        ),
        50173 => (
            "invalid_grant",
            None,
            format!(
                "The provided grant has expired due to it being revoked, a fresh auth token is \
             needed. The user might have changed or reset their password. The grant was issued \
             on '{issued_text}' and the TokensValidFrom date (before which tokens are not valid) \
             for this user is '{}'.",
                entra_time(since)
            ),
        ),
        70043 => (
            "invalid_grant",
            None,
            sign_in_frequency_message(issued, SCRIPTED_SIGN_IN_FREQUENCY_SECS),
        ),
        50076 => (
            "invalid_grant",
            Some("basic_action"),
            format!(
                "Due to a configuration change made by your administrator, or because you moved to a \
             new location, you must use multi-factor authentication to access '{resource}'."
            ),
        ),
        50079 => (
            "invalid_grant",
            Some("basic_action"),
            format!(
                "Due to a configuration change made by your administrator, or because you moved to a \
             new location, you must enroll in multi-factor authentication to access \
             '{resource}'."
            ),
        ),
        50078 => (
            "invalid_grant",
            Some("basic_action"),
            format!(
                "Presented multi-factor authentication has expired due to policies configured by \
             your administrator, you must refresh your multi-factor authentication to access \
             '{resource}'."
            ),
        ),
        65001 => (
            "invalid_grant",
            Some("consent_required"),
            format!(
                "The user or administrator has not consented to use the application with ID \
             '{client_id}'. Send an interactive authorization request for this user and \
             resource."
            ),
        ),
        50132 | 50133 => (
            "invalid_grant",
            None,
            "The session is not valid due to password \
            expiration or recent password change."
                .to_owned(),
        ),
        50089 => (
            "invalid_grant",
            None,
            "Authentication failed due to flow token expired. \
            Expected - auth codes, refresh tokens, and sessions expire over time or are revoked \
            by the user or an admin."
                .to_owned(),
        ),
        53003 => (
            "invalid_grant",
            Some("message_only"),
            "Access has been blocked by Conditional \
            Access policies. The access policy does not allow token issuance."
                .to_owned(),
        ),
        50057 => (
            "invalid_grant",
            None,
            "The user account is disabled.".to_owned(),
        ),
        50053 => (
            "invalid_grant",
            None,
            "Your account is locked because you've tried to sign in \
            too many times with an incorrect user ID or password."
                .to_owned(),
        ),
        700084 => (
            "invalid_grant",
            None,
            "The refresh token was issued to a single page app \
            (SPA), and therefore has a fixed, limited lifetime of 1.00:00:00, which cannot be \
            extended. It is now expired and a new sign in request must be sent by the SPA to \
            the sign in page."
                .to_owned(),
        ),
        _ => (
            "invalid_grant",
            None,
            "Provided grant is invalid or malformed.".to_owned(),
        ),
    };
    let extra = suberror.map(|sub| ("suberror", json!(sub)));
    errors::entra_with(
        StatusCode::BAD_REQUEST,
        error,
        code,
        &message,
        req.s.now(),
        extra.as_slice(),
    )
}

/// The answer of a tenant whose policy demands an interactive sign-in there (MFA, MFA
/// registration, Conditional Access): the same bodies as a session ended with that code.
fn tenant_demands_interaction(req: &TokenReq<'_>, code: u32, client_id: &str) -> Response {
    let now = req.s.now();
    session_error(req, code, now, now, client_id)
}

/// Tokens for a signed-in user: the account in the request's tenant (or 50020), the scope's
/// first resource, a refresh token with `offline_access`, an id token with `openid`.
pub(crate) fn issue_user_tokens(
    req: &TokenReq<'_>,
    home: &User,
    tenant: &crate::entra::TenantPath,
    client_id: &str,
    scope: &str,
    nonce: Option<&str>,
) -> Response {
    let s = req.s;
    let view = lock(&s.dir).user_in_tenant(home, tenant);
    let Some(user) = view else {
        let label = match tenant {
            crate::entra::TenantPath::Id(t) => t.clone(),
            _ => req.segment.clone(),
        };
        return user_not_in_tenant(req, home, &label, client_id);
    };
    let scopes = match entra_tokens::parse_scopes(s, Some(scope), &user.tenant, false) {
        Ok(scopes) => scopes,
        Err(response) => return response,
    };
    let refresh = scopes
        .offline
        .then(|| new_refresh_token(s, &home.object_id, client_id, &user.tenant));
    let grant = Grant::User {
        user,
        home: home.clone(),
        client_id: client_id.to_owned(),
    };
    entra_tokens::token_response(s, &grant, &scopes, refresh, req.form, nonce)
}

/// `grant_type=refresh_token`: rotates (the old token stays valid), refuses revoked, inactive
/// and expired-session tokens; works for every tenant where the user has an account.
pub(crate) fn refresh_grant(req: &TokenReq<'_>) -> Response {
    let s = req.s;
    let form = req.form;
    let Some(presented) = form.get("refresh_token") else {
        return missing_parameter(s, "refresh_token");
    };
    let (client_id, credential) = client_auth(req.headers, form);
    let Some(client_id) = client_id else {
        return missing_parameter(s, "client_id");
    };
    let now = s.now();
    let (record, user, confidential, public, revoked_at, session) = {
        let dir = lock(&s.dir);
        let record = dir.refresh_tokens.get(presented).cloned();
        let oid = record
            .as_ref()
            .map(|r| r.object_id.clone())
            .unwrap_or_default();
        (
            record,
            dir.user(&oid).cloned(),
            dir.principal(&client_id).map(|p| p.secret.clone()),
            dir.auth.is_public_client(&client_id),
            dir.revoked_at.get(&oid).copied(),
            dir.auth.expired_sessions.get(&oid).copied(),
        )
    };
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
    if record.revoked {
        let since = revoked_at.unwrap_or(now);
        return session_error(req, 50173, record.issued, since, &client_id);
    }
    if let Some((code, since)) = session
        && record.issued <= since
    {
        return session_error(req, code, record.issued, since, &client_id);
    }
    if now - record.issued > TimeDelta::days(REFRESH_TOKEN_DAYS) {
        return session_error(req, 700082, record.issued, now, &client_id);
    }
    let Some(user) = user else {
        return invalid_grant(
            req,
            50034,
            "The user account does not exist in the directory.",
        );
    };
    if public && !matches!(credential, ClientCredential::None) {
        return public_client_with_credential(req);
    }
    if let Some(secret) = confidential
        && let Err(response) = authenticate_client(req, &client_id, &secret, &credential)
    {
        return response;
    }
    let view = lock(&s.dir).user_in_tenant(&user, &req.tenant);
    let Some(view) = view else {
        let tenant = crate::entra_client::tenant_label(req);
        return user_not_in_tenant(req, &user, &tenant, &client_id);
    };
    let demand = lock(&s.dir)
        .auth
        .tenant_interaction
        .get(&(user.object_id.clone(), view.tenant.to_ascii_lowercase()))
        .copied();
    if let Some(demand) = demand
        && !(record.chain.seq > demand.since
            && record.chain.tenant.eq_ignore_ascii_case(&view.tenant))
    {
        return tenant_demands_interaction(req, demand.code, &client_id);
    }
    let limit = lock(&s.dir)
        .auth
        .sign_in_frequency
        .get(&view.tenant.to_ascii_lowercase())
        .copied();
    if let Some(limit) = limit
        && now - record.signed_in > limit
    {
        return invalid_grant(
            req,
            70043,
            &sign_in_frequency_message(record.signed_in, limit.num_seconds()),
        );
    }
    let scopes = match entra_tokens::parse_scopes(s, form.get("scope"), &view.tenant, false) {
        Ok(scopes) => scopes,
        Err(response) => return response,
    };
    let rotated = rotated_refresh_token(
        s,
        &user.object_id,
        &client_id,
        record.signed_in,
        record.chain.clone(),
    );
    let grant = Grant::User {
        user: view,
        home: user,
        client_id,
    };
    entra_tokens::token_response(s, &grant, &scopes, Some(rotated), form, None)
}
