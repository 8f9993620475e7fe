//! The request log. It records what a test needs to assert on call patterns and never a token,
//! secret, assertion or code; query strings are dropped.

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};

use crate::Service;
use crate::form::Form;

/// One request as the fake saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// Arrival time on the fake clock.
    pub at: DateTime<Utc>,
    /// The service the host maps to.
    pub service: Service,
    /// `Host` without the port, lower case.
    pub host: String,
    /// HTTP method.
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Form field `grant_type`.
    pub grant_type: Option<String>,
    /// Form or query `client_id`, or the user name of a Basic `Authorization` header on Entra
    /// (client_secret_basic).
    pub client_id: Option<String>,
    /// Requested scopes (form, or query for `GET /oauth2/token`), space-joined; for IMDS the
    /// `resource` query parameter.
    pub scope: Option<String>,
    /// The names of the credentials the request carried (`client_secret`, `client_assertion`,
    /// `refresh_token`, `password`, `code`, `device_code`, `assertion`, `access_token` form
    /// fields, an `Authorization` header as `authorization`), never their values: tests assert
    /// where credentials went.
    pub credentials: Vec<&'static str>,
    /// Response status; 0 when no response was sent (hang, reset).
    pub status: u16,
}

/// Form and query fields that carry a credential.
const CREDENTIAL_FIELDS: [&str; 8] = [
    "client_secret",
    "client_assertion",
    "refresh_token",
    "password",
    "code",
    "device_code",
    "assertion",
    "access_token",
];

/// The non-secret fields of a request body / query, for the log and for fault matching.
#[derive(Debug, Default)]
pub(crate) struct RequestFields {
    pub(crate) grant_type: Option<String>,
    pub(crate) client_id: Option<String>,
    pub(crate) scope: Option<String>,
    pub(crate) credentials: Vec<&'static str>,
}

impl RequestFields {
    pub(crate) fn extract(
        service: Service,
        headers: &HeaderMap,
        query: Option<&str>,
        body: &[u8],
    ) -> Self {
        let form = Form::parse(body);
        let query = Form::parse(query.unwrap_or_default().as_bytes());
        let scopes: Vec<&str> = form
            .all("scope")
            .chain(query.all("scope"))
            .chain(query.all("resource").filter(|_| service == Service::Imds))
            .filter(|s| !s.is_empty())
            .collect();
        let basic_user = (service == Service::Entra)
            .then(|| basic_user(headers))
            .flatten();
        let mut credentials: Vec<&'static str> = CREDENTIAL_FIELDS
            .into_iter()
            .filter(|f| form.get(f).is_some() || query.get(f).is_some())
            .collect();
        if headers.contains_key(axum::http::header::AUTHORIZATION) {
            credentials.push("authorization");
        }
        Self {
            credentials,
            grant_type: form.get("grant_type").map(str::to_owned),
            client_id: form
                .get("client_id")
                .or_else(|| query.get("client_id"))
                .map(str::to_owned)
                .or(basic_user),
            scope: (!scopes.is_empty()).then(|| scopes.join(" ")),
        }
    }
}

fn basic_user(headers: &HeaderMap) -> Option<String> {
    let (user, _) = crate::form::basic_credentials(headers)?;
    Some(crate::form::percent_decode(&user))
}
