//! Entra ID (Azure AD) token requests, through the `oauth2` crate over our HTTPS client, and the
//! classification of Entra's errors (protocol.md §2.4): sign-in required, blocked by policy,
//! configuration, or transient.

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Duration, Utc};
use oauth2::basic::{
    BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenResponse,
};
use oauth2::{
    AuthType, ClientId, ClientSecret, EndpointNotSet, EndpointSet, RequestTokenError, Scope,
    StandardRevocableToken, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{EntraError, Error, ErrorKind, Result};
use crate::http;
use crate::jwt;
use crate::secret::{Secret, redact_url};

/// An Entra access token, kept in memory only.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// The token.
    pub token: Secret,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// The tenant GUID it was issued in (`tid`), which the ACR exchange asks for.
    pub tenant_id: Option<String>,
}

/// Talks to one cloud's Entra ID.
#[derive(Debug, Clone)]
pub struct EntraClient {
    http: reqwest::Client,
    authority: Url,
}

type EntraOAuthClient = oauth2::Client<
    EntraErrorResponse,
    BasicTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

impl EntraClient {
    /// A client for the authority host (e.g. `https://login.microsoftonline.com`).
    pub fn new(http: reqwest::Client, authority: Url) -> Self {
        Self { http, authority }
    }

    /// `{authority}/{tenant}/oauth2/v2.0/token`.
    pub fn token_url(&self, tenant: &str) -> Result<Url> {
        check_tenant(tenant)?;
        let base = self.authority.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}/{tenant}/oauth2/v2.0/token")).map_err(|e| {
            Error::invalid_input(
                format!("bad authority URL: {e}"),
                "check the cloud settings",
            )
        })
    }

    fn oauth_client(&self, tenant: &str, client_id: &str) -> Result<EntraOAuthClient> {
        let token_url = TokenUrl::from_url(self.token_url(tenant)?);
        Ok(oauth2::Client::new(ClientId::new(client_id.to_owned()))
            .set_token_uri(token_url)
            // Like MSAL: credentials in the form body (`client_secret_post`).
            .set_auth_type(AuthType::RequestBody))
    }

    /// Client-credentials grant with a client secret (protocol.md §2.5).
    pub async fn client_credentials(
        &self,
        identity: &str,
        tenant: &str,
        client_id: &str,
        secret: &Secret,
        scope: &str,
    ) -> Result<AccessToken> {
        let url = self.token_url(tenant)?;
        let client = self
            .oauth_client(tenant, client_id)?
            .set_client_secret(ClientSecret::new(secret.expose().to_owned()));
        tracing::debug!(%identity, %scope, url = %redact_url(url.as_str()), "requesting an Entra token (client credentials)");
        let result = client
            .exchange_client_credentials()
            .add_scope(Scope::new(scope.to_owned()))
            .request_async(&OAuthHttp(self.http.clone()))
            .await;
        let ctx = ErrorContext {
            identity,
            tenant,
            client_id,
            url: &url,
        };
        match result {
            Ok(resp) => Ok(access_token(&resp)),
            Err(e) => Err(ctx.convert(e)),
        }
    }
}

fn access_token(resp: &BasicTokenResponse) -> AccessToken {
    let token = resp.access_token().secret().clone();
    let claims = jwt::decode_claims(&token);
    let expires_at = match resp.expires_in() {
        Some(d) => Utc::now() + Duration::from_std(d).unwrap_or(Duration::minutes(60)),
        None => claims
            .as_ref()
            .and_then(jwt::Claims::expires_at)
            .unwrap_or_else(|| Utc::now() + Duration::minutes(5)),
    };
    AccessToken {
        token: Secret::new(token),
        expires_at,
        tenant_id: claims.and_then(|c| c.tid),
    }
}

/// Tenants appear in URL paths: GUIDs, domains, `organizations`, `common`.
fn check_tenant(tenant: &str) -> Result<()> {
    let ok = !tenant.is_empty()
        && tenant.len() <= 256
        && tenant
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(
            format!("{tenant:?} is not a tenant id or domain"),
            "give the tenant's GUID or a verified domain such as contoso.onmicrosoft.com",
        ))
    }
}

/// Entra's error body (protocol.md §2.1).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EntraErrorResponse {
    /// The OAuth error code to branch on.
    pub error: String,
    /// `AADSTS<n>: text\r\nTrace ID: ...`.
    #[serde(default)]
    pub error_description: Option<String>,
    /// The AADSTS numbers.
    #[serde(default)]
    pub error_codes: Vec<u32>,
    /// E.g. `consent_required`, `bad_token`.
    #[serde(default)]
    pub suberror: Option<String>,
}

impl std::fmt::Display for EntraErrorResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.first_line())
    }
}

impl oauth2::ErrorResponse for EntraErrorResponse {}

impl EntraErrorResponse {
    fn first_line(&self) -> String {
        self.error_description
            .as_deref()
            .and_then(|d| d.lines().next())
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| self.error.clone())
    }
}

/// AADSTS codes meaning the user must sign in interactively again (protocol.md §2.4).
const SIGN_IN_REQUIRED: &[u32] = &[
    50173, 70008, 700082, 70043, 50089, 50132, 50133, 50076, 50079, 50078, 50072, 65001, 50058,
    700084, 70000,
];
/// AADSTS codes of policies that block the sign-in.
const BLOCKED_BY_POLICY: &[u32] = &[53003, 530035, 50057, 50053];
/// AADSTS codes of transient conditions.
const TRANSIENT: &[u32] = &[50033, 90033, 90024, 50196];

/// How ACR Tray treats an Entra error.
pub fn classify(error: &str, aadsts: &[u32]) -> ErrorKind {
    let any = |list: &[u32]| aadsts.iter().any(|c| list.contains(c));
    if error == "temporarily_unavailable" || error == "server_error" || any(TRANSIENT) {
        ErrorKind::Transient
    } else if any(BLOCKED_BY_POLICY) {
        ErrorKind::Permission
    } else if error == "invalid_grant" || error == "interaction_required" || any(SIGN_IN_REQUIRED) {
        ErrorKind::SignInRequired
    } else {
        ErrorKind::Configuration
    }
}

/// Whether Entra refused because it cannot mint a token for the requested resource
/// (AADSTS500011 / AADSTS50001), as on clouds without the ACR audience.
pub fn is_unknown_resource(err: &Error) -> bool {
    matches!(err, Error::Entra(e)
        if e.code == "invalid_resource" || e.aadsts.iter().any(|c| *c == 500011 || *c == 50001))
}

struct ErrorContext<'a> {
    identity: &'a str,
    tenant: &'a str,
    client_id: &'a str,
    url: &'a Url,
}

impl ErrorContext<'_> {
    fn convert(&self, err: RequestTokenError<HttpFailure, EntraErrorResponse>) -> Error {
        let network = |detail: String, retry_after: Option<u64>| Error::Network {
            what: "token request to Entra ID".to_owned(),
            url: redact_url(self.url.as_str()),
            detail,
            retry_after,
        };
        match err {
            RequestTokenError::ServerResponse(resp) => self.entra(&resp, None, None),
            RequestTokenError::Request(HttpFailure::Transport(detail)) => network(detail, None),
            RequestTokenError::Request(HttpFailure::Status {
                status,
                retry_after,
                body,
            }) => match body {
                Some(resp) => self.entra(&resp, Some(ErrorKind::Transient), retry_after),
                None => network(format!("the server answered HTTP {status}"), retry_after),
            },
            // The body is not shown: a half-sent success response could hold a token.
            RequestTokenError::Parse(e, _) => {
                network(format!("malformed response ({})", e.inner()), None)
            }
            RequestTokenError::Other(detail) => network(detail, None),
        }
    }

    fn entra(
        &self,
        resp: &EntraErrorResponse,
        kind: Option<ErrorKind>,
        retry_after: Option<u64>,
    ) -> Error {
        let kind = kind.unwrap_or_else(|| classify(&resp.error, &resp.error_codes));
        Error::Entra(Box::new(EntraError {
            identity: self.identity.to_owned(),
            code: resp.error.clone(),
            aadsts: resp.error_codes.clone(),
            description: resp.first_line(),
            kind,
            hint: self.hint(resp, kind),
            retry_after,
        }))
    }

    fn hint(&self, resp: &EntraErrorResponse, kind: ErrorKind) -> String {
        let (tenant, client) = (self.tenant, self.client_id);
        let has = |c: u32| resp.error_codes.contains(&c);
        if has(7000215) || has(7000222) {
            format!(
                "the client secret of app {client} is wrong or expired: create a new one (e.g. `az ad app credential reset --id {client}`) and sign in again with `acr-tray-cli login --service-principal --tenant {tenant} --client-id {client} --secret-stdin`"
            )
        } else if has(700016) {
            format!("no app {client} exists in tenant {tenant}: check --client-id and --tenant")
        } else if has(90002) {
            format!("tenant {tenant} was not found: check --tenant (its GUID or a verified domain)")
        } else if has(500011) || has(50001) {
            "this cloud's Entra ID cannot issue tokens for that resource; check the cloud's audiences (`acr-tray-cli cloud show`)".to_owned()
        } else {
            match kind {
                ErrorKind::SignInRequired => {
                    format!("sign in again: `acr-tray-cli login` for {}", self.identity)
                }
                ErrorKind::Permission => {
                    "an Entra ID policy blocks this sign-in; ask your Entra ID administrator"
                        .to_owned()
                }
                ErrorKind::Transient => {
                    "Entra ID is having trouble; ACR Tray tries again on its next pass".to_owned()
                }
                _ => match resp.error_codes.first() {
                    Some(code) => format!(
                        "see https://login.microsoftonline.com/error?code={code} for what this code means"
                    ),
                    None => "check the identity's settings".to_owned(),
                },
            }
        }
    }
}

/// Why an HTTP exchange for `oauth2` failed.
#[derive(Debug, thiserror::Error)]
enum HttpFailure {
    /// No response (connection, TLS, time-out).
    #[error("{0}")]
    Transport(String),
    /// A 429 or 5xx response: kept apart so its status and `Retry-After` survive.
    #[error("HTTP {status}")]
    Status {
        status: u16,
        retry_after: Option<u64>,
        body: Option<EntraErrorResponse>,
    },
}

/// Adapts our reqwest client to the `oauth2` crate.
struct OAuthHttp(reqwest::Client);

impl<'c> oauth2::AsyncHttpClient<'c> for OAuthHttp {
    type Error = HttpFailure;
    type Future = Pin<
        Box<
            dyn Future<Output = std::result::Result<oauth2::HttpResponse, HttpFailure>> + Send + 'c,
        >,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request)
                .map_err(|e| HttpFailure::Transport(http::describe(e)))?;
            let response = self
                .0
                .execute(request)
                .await
                .map_err(|e| HttpFailure::Transport(http::describe(e)))?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response
                .bytes()
                .await
                .map_err(|e| HttpFailure::Transport(http::describe(e)))?;
            if status.as_u16() == 429 || status.is_server_error() {
                return Err(HttpFailure::Status {
                    status: status.as_u16(),
                    retry_after: http::retry_after(&headers),
                    body: serde_json::from_slice(&body).ok(),
                });
            }
            let mut builder = oauth2::http::Response::builder().status(status.as_u16());
            for (name, value) in &headers {
                builder = builder.header(name.as_str(), value.as_bytes());
            }
            builder
                .body(body.to_vec())
                .map_err(|e| HttpFailure::Transport(e.to_string()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_follows_protocol_table() {
        assert_eq!(
            classify("invalid_grant", &[700082]),
            ErrorKind::SignInRequired
        );
        assert_eq!(
            classify("interaction_required", &[50076]),
            ErrorKind::SignInRequired
        );
        assert_eq!(classify("invalid_grant", &[53003]), ErrorKind::Permission);
        assert_eq!(
            classify("invalid_client", &[7000215]),
            ErrorKind::Configuration
        );
        assert_eq!(
            classify("invalid_resource", &[500011]),
            ErrorKind::Configuration
        );
        assert_eq!(
            classify("temporarily_unavailable", &[]),
            ErrorKind::Transient
        );
        assert_eq!(classify("invalid_request", &[50196]), ErrorKind::Transient);
    }

    #[test]
    fn tenants_cannot_inject_paths() {
        let c = EntraClient::new(
            reqwest::Client::new(),
            Url::parse("https://login.example").expect("url"),
        );
        assert_eq!(
            c.token_url("contoso.onmicrosoft.com")
                .expect("url")
                .as_str(),
            "https://login.example/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert!(c.token_url("../evil").is_err());
        assert!(c.token_url("a/b").is_err());
        assert!(c.token_url("").is_err());
    }

    #[test]
    fn wrong_secret_hint_says_what_to_run() {
        let url = Url::parse("https://login.example/t/oauth2/v2.0/token").expect("url");
        let ctx = ErrorContext {
            identity: "app",
            tenant: "t",
            client_id: "c",
            url: &url,
        };
        let err = ctx.entra(
            &EntraErrorResponse {
                error: "invalid_client".into(),
                error_description: Some(
                    "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x".into(),
                ),
                error_codes: vec![7000215],
                suberror: None,
            },
            None,
            None,
        );
        assert_eq!(err.kind(), ErrorKind::Configuration);
        assert!(
            err.to_string()
                .ends_with("AADSTS7000215: Invalid client secret provided."),
            "{err}"
        );
        assert!(err.hint().expect("hint").contains("--secret-stdin"));
    }
}
