//! Client authentication at the token endpoint (secret in the body or HTTP Basic, client
//! assertion) and the `client_credentials` grant. User flows use
//! [`authenticate_user_client`]: public clients must not present a credential, confidential
//! ones must.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use crate::entra::{TenantPath, TokenReq, missing_parameter};
use crate::entra_tokens::{self, Grant};
use crate::form::{Form, basic_credentials, percent_decode};
use crate::state::ServicePrincipal;
use crate::{assertion, errors, lock};

/// `client_assertion_type` of a JWT client assertion.
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The client's credential as presented.
#[derive(Debug, Clone)]
pub(crate) enum ClientCredential {
    /// `client_secret` in the body or HTTP Basic.
    Secret(String),
    /// `client_assertion` (+ its type).
    Assertion {
        assertion_type: Option<String>,
        jwt: String,
    },
    /// Nothing (public client).
    None,
}

/// The client ID and credential from the body or an HTTP Basic header (RFC 6749 §2.3.1).
pub(crate) fn client_auth(headers: &HeaderMap, form: &Form) -> (Option<String>, ClientCredential) {
    if let Some((user, pass)) = basic_credentials(headers) {
        return (
            Some(percent_decode(&user)),
            ClientCredential::Secret(percent_decode(&pass)),
        );
    }
    let credential = match (form.get("client_assertion"), form.get("client_secret")) {
        (Some(jwt), _) => ClientCredential::Assertion {
            assertion_type: form.get("client_assertion_type").map(str::to_owned),
            jwt: jwt.to_owned(),
        },
        (None, Some(secret)) => ClientCredential::Secret(secret.to_owned()),
        (None, None) => ClientCredential::None,
    };
    (form.get("client_id").map(str::to_owned), credential)
}

/// Checks a confidential client's credential; `Ok` is the `appidacr` ("1" secret, "2"
/// assertion); `Err` is the Entra error response.
pub(crate) fn authenticate_client(
    req: &TokenReq<'_>,
    client_id: &str,
    expected_secret: &str,
    credential: &ClientCredential,
) -> Result<&'static str, Response> {
    let s = req.s;
    match credential {
        ClientCredential::Secret(secret)
            if !expected_secret.is_empty() && secret == expected_secret =>
        {
            Ok("1")
        }
        ClientCredential::Secret(_) => Err(errors::entra(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            &format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the \
                 client secret value, not the client secret ID, for a secret added to app \
                 '{client_id}'."
            ),
            s.now(),
        )),
        ClientCredential::Assertion {
            assertion_type,
            jwt,
        } => {
            if assertion_type.as_deref() != Some(JWT_BEARER) {
                return Err(errors::entra(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    90014,
                    "The required field 'client_assertion_type' is missing from the credential. \
                     Ensure that you have all the necessary parameters for the login request.",
                    s.now(),
                ));
            }
            assertion::verify(req, client_id, jwt).map(|()| "2")
        }
        ClientCredential::None => Err(errors::entra(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or \
             'client_secret'.",
            s.now(),
        )),
    }
}

/// A public client presenting a credential (AADSTS700025).
pub(crate) fn public_client_with_credential(req: &TokenReq<'_>) -> Response {
    errors::entra(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        700025,
        "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
        req.s.now(),
    )
}

/// The tenant named in errors about a client.
pub(crate) fn tenant_label(req: &TokenReq<'_>) -> String {
    match &req.tenant {
        TenantPath::Id(t) => t.clone(),
        _ => req.segment.clone(),
    }
}

/// Authenticates the client of a user flow (device code, authorization code): a registered
/// public client with no credential, or a service principal with its credential.
pub(crate) fn authenticate_user_client(req: &TokenReq<'_>) -> Result<String, Response> {
    let (client_id, credential) = client_auth(req.headers, req.form);
    let Some(client_id) = client_id else {
        return Err(missing_parameter(req.s, "client_id"));
    };
    let (public, secret) = {
        let dir = lock(&req.s.dir);
        (
            dir.auth.is_public_client(&client_id),
            dir.principal(&client_id).map(|p| p.secret.clone()),
        )
    };
    if public {
        return match credential {
            ClientCredential::None => Ok(client_id),
            _ => Err(public_client_with_credential(req)),
        };
    }
    match secret {
        Some(secret) => {
            authenticate_client(req, &client_id, &secret, &credential).map(|_| client_id)
        }
        None => Err(entra_tokens::unknown_client(
            req.s,
            &client_id,
            &tenant_label(req),
        )),
    }
}

/// `grant_type=client_credentials` with a secret, a certificate assertion or a federated token.
/// Managed identities take part through federated credentials only.
pub(crate) fn client_credentials(req: &TokenReq<'_>) -> Response {
    let s = req.s;
    let (client_id, credential) = client_auth(req.headers, req.form);
    let Some(client_id) = client_id else {
        return missing_parameter(s, "client_id");
    };
    let TenantPath::Id(tenant_id) = &req.tenant else {
        return errors::entra(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            50059,
            "No tenant-identifying information found in either the request or implied by any \
             provided credentials.",
            s.now(),
        );
    };
    let found = {
        let dir = lock(&s.dir);
        let sp = dir
            .principal(&client_id)
            .filter(|p| p.tenant.eq_ignore_ascii_case(tenant_id))
            .map(|p| (p.clone(), None));
        sp.or_else(|| {
            dir.auth
                .identity_by_client_id(&client_id)
                .filter(|m| m.tenant.eq_ignore_ascii_case(tenant_id))
                .map(|m| {
                    let principal = ServicePrincipal {
                        tenant: m.tenant.clone(),
                        client_id: m.client_id.clone(),
                        object_id: m.object_id.clone(),
                        secret: String::new(),
                    };
                    (principal, Some(m.resource_id.clone()))
                })
        })
    };
    let Some((principal, mi_resource_id)) = found else {
        return entra_tokens::unknown_client(s, &client_id, tenant_id);
    };
    let appidacr = match authenticate_client(req, &client_id, &principal.secret, &credential) {
        Ok(acr) => acr,
        Err(response) => return response,
    };
    let scopes = match entra_tokens::parse_scopes(s, req.form.get("scope"), tenant_id, true) {
        Ok(scopes) => scopes,
        Err(response) => return response,
    };
    let grant = Grant::App {
        principal,
        appidacr,
        mi_resource_id,
    };
    entra_tokens::token_response(s, &grant, &scopes, None, req.form, None)
}
