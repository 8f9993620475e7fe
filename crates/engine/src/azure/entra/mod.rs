//! Entra ID (Azure AD) token requests, through the `oauth2` crate over our HTTPS client:
//! client credentials with a secret or an assertion (certificate, federated token), the
//! refresh-token grant of a user's session, and (in [`interactive`]) the browser and
//! device-code sign-ins.

mod errors;
pub mod interactive;
mod transport;

use chrono::{DateTime, Duration, Utc};
use oauth2::basic::{
    BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthType, ClientId, ClientSecret, EndpointNotSet, EndpointSet, RefreshToken, Scope,
    StandardRevocableToken, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use url::Url;

pub(crate) use errors::ErrorContext;
pub use errors::{EntraErrorResponse, is_unknown_resource};
pub(crate) use transport::OAuthHttp;

use crate::azure::jwt;
use crate::error::{Error, Result};
use crate::limits;
use crate::secret::{Secret, redact_url};

/// The Azure CLI's public client id, which ACR Tray uses for user sign-in by default (as many
/// tools do): every tenant knows it, and it may sign in to ARM.
pub const AZURE_CLI_CLIENT_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

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

impl AccessToken {
    /// Wraps a token, reading `tid` from it.
    pub fn new(token: String, expires_at: DateTime<Utc>) -> Self {
        let tenant_id = jwt::decode_claims(&token).and_then(|c| c.tid);
        Self {
            token: Secret::new(token),
            expires_at,
            tenant_id,
        }
    }
}

/// What a user's sign-in (or refresh) returns.
#[derive(Debug, Clone)]
pub struct UserTokens {
    /// The access token.
    pub access: AccessToken,
    /// The new refresh token (Entra rotates it on every use).
    pub refresh_token: Option<Secret>,
    /// Who signed in, from the ID token.
    pub id: Option<jwt::Claims>,
}

/// Extra fields of Entra's token response. `Debug` shows whether an ID token came, never the
/// token: it is a credential (some services accept it as a bearer token) and names the user.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct EntraExtraFields {
    /// The ID token (when `openid` was asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl std::fmt::Debug for EntraExtraFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntraExtraFields")
            .field("id_token", &self.id_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl oauth2::ExtraTokenFields for EntraExtraFields {}

/// Entra's token response.
pub type EntraTokenResponse = oauth2::StandardTokenResponse<EntraExtraFields, BasicTokenType>;

pub(crate) type EntraOAuthClient<HasAuthUrl = EndpointNotSet, HasDeviceAuthUrl = EndpointNotSet> =
    oauth2::Client<
        EntraErrorResponse,
        EntraTokenResponse,
        BasicTokenIntrospectionResponse,
        StandardRevocableToken,
        BasicRevocationErrorResponse,
        HasAuthUrl,
        HasDeviceAuthUrl,
        EndpointNotSet,
        EndpointNotSet,
        EndpointSet,
    >;

/// Talks to one cloud's Entra ID.
#[derive(Debug, Clone)]
pub struct EntraClient {
    pub(crate) http: reqwest::Client,
    authority: Url,
    clock: std::sync::Arc<dyn crate::clock::Clock>,
}

impl std::fmt::Debug for dyn crate::clock::Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.now())
    }
}

impl EntraClient {
    /// A client for the authority host (e.g. `https://login.microsoftonline.com`).
    pub fn new(http: reqwest::Client, authority: Url) -> Self {
        Self {
            http,
            authority,
            clock: crate::clock::system(),
        }
    }

    /// Reads the time (for token expiry) from `clock`.
    pub fn with_clock(mut self, clock: std::sync::Arc<dyn crate::clock::Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The current time, by the client's clock.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// `{authority}/{tenant}/oauth2/v2.0/{endpoint}`.
    pub fn endpoint(&self, tenant: &str, endpoint: &str) -> Result<Url> {
        check_tenant(tenant)?;
        let base = self.authority.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}/{tenant}/oauth2/v2.0/{endpoint}")).map_err(|e| {
            Error::invalid_input(
                format!("bad authority URL: {e}"),
                "check the cloud settings",
            )
        })
    }

    /// `{authority}/{tenant}/oauth2/v2.0/token`.
    pub fn token_url(&self, tenant: &str) -> Result<Url> {
        self.endpoint(tenant, "token")
    }

    pub(crate) fn oauth_client(&self, tenant: &str, client_id: &str) -> Result<EntraOAuthClient> {
        let token_url = TokenUrl::from_url(self.token_url(tenant)?);
        Ok(oauth2::Client::new(ClientId::new(client_id.to_owned()))
            .set_token_uri(token_url)
            // Like MSAL: credentials in the form body (`client_secret_post`).
            .set_auth_type(AuthType::RequestBody))
    }

    /// Client-credentials grant with a client secret (docs/protocol.md#entra-client-secret).
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
        tracing::debug!(%identity, %scope, url = %redact_url(url.as_str()), "requesting an Entra token (client secret)");
        let result = client
            .exchange_client_credentials()
            .add_scope(Scope::new(scope.to_owned()))
            .request_async(&OAuthHttp(self.http.clone()))
            .await;
        let ctx = context(identity, tenant, client_id, &url, false);
        result
            .map(|r| access_token(&r, self.now()))
            .map_err(|e| ctx.convert(e))
    }

    /// Client-credentials grant with a client assertion: a certificate-signed JWT or a federated
    /// token (workload identity) (docs/protocol.md#entra-client-assertion).
    pub async fn client_assertion(
        &self,
        identity: &str,
        tenant: &str,
        client_id: &str,
        assertion: &Secret,
        scope: &str,
    ) -> Result<AccessToken> {
        let url = self.token_url(tenant)?;
        tracing::debug!(%identity, %scope, url = %redact_url(url.as_str()), "requesting an Entra token (client assertion)");
        let result = self
            .oauth_client(tenant, client_id)?
            .exchange_client_credentials()
            .add_scope(Scope::new(scope.to_owned()))
            .add_extra_param(
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            )
            .add_extra_param("client_assertion", assertion.expose().to_owned())
            .request_async(&OAuthHttp(self.http.clone()))
            .await;
        let ctx = context(identity, tenant, client_id, &url, false);
        result
            .map(|r| access_token(&r, self.now()))
            .map_err(|e| ctx.convert(e))
    }

    /// Refresh-token grant of a user's session (docs/protocol.md#entra-refresh). Entra answers with
    /// a new refresh token, which replaces the old one.
    pub async fn refresh(
        &self,
        identity: &str,
        tenant: &str,
        client_id: &str,
        refresh_token: &Secret,
        scope: &str,
    ) -> Result<UserTokens> {
        let url = self.token_url(tenant)?;
        tracing::debug!(%identity, %scope, url = %redact_url(url.as_str()), "renewing a user's token (refresh token)");
        let rt = RefreshToken::new(refresh_token.expose().to_owned());
        let result = self
            .oauth_client(tenant, client_id)?
            .exchange_refresh_token(&rt)
            .add_scope(Scope::new(scope.to_owned()))
            .add_scope(Scope::new("offline_access".to_owned()))
            .request_async(&OAuthHttp(self.http.clone()))
            .await;
        let ctx = context(identity, tenant, client_id, &url, true);
        result
            .map(|r| user_tokens(&r, self.now()))
            .map_err(|e| ctx.convert(e))
    }
}

pub(crate) fn context<'a>(
    identity: &'a str,
    tenant: &'a str,
    client_id: &'a str,
    url: &'a Url,
    interactive: bool,
) -> ErrorContext<'a> {
    ErrorContext {
        identity,
        tenant,
        client_id,
        url,
        interactive,
    }
}

pub(crate) fn access_token(resp: &EntraTokenResponse, now: DateTime<Utc>) -> AccessToken {
    let token = resp.access_token().secret().clone();
    // `expires_in` bounded; without a usable one, the token's own `exp` (bounded too), or
    // else five minutes.
    let expires_at = resp
        .expires_in()
        .and_then(|d| limits::expiry_after(now, d))
        .or_else(|| {
            jwt::decode_claims(&token)
                .and_then(|c| c.exp)
                .map(|exp| limits::expiry_at(now, exp))
        })
        .unwrap_or_else(|| now + Duration::minutes(5));
    AccessToken::new(token, expires_at)
}

pub(crate) fn user_tokens(resp: &EntraTokenResponse, now: DateTime<Utc>) -> UserTokens {
    UserTokens {
        access: access_token(resp, now),
        refresh_token: resp
            .refresh_token()
            .map(|rt| Secret::new(rt.secret().clone())),
        id: resp
            .extra_fields()
            .id_token
            .as_deref()
            .and_then(jwt::decode_claims),
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn debug_of_a_token_response_shows_no_token() {
        let response: EntraTokenResponse = serde_json::from_value(serde_json::json!({
            "token_type": "Bearer",
            "expires_in": 3599,
            "access_token": "access-token-value",
            "refresh_token": "refresh-token-value",
            "id_token": "id-token-value",
            "scope": "openid profile",
        }))
        .expect("response");
        assert_eq!(
            response.extra_fields().id_token.as_deref(),
            Some("id-token-value")
        );
        let shown = format!("{response:?} {:#?}", response.extra_fields());
        for secret in [
            "access-token-value",
            "refresh-token-value",
            "id-token-value",
        ] {
            assert!(!shown.contains(secret), "{secret}: {shown}");
        }
        assert!(shown.contains("id_token"), "the field is named: {shown}");
    }

    fn response(expires_in: Option<u64>, token: &str) -> EntraTokenResponse {
        let mut body = serde_json::json!({"access_token": token, "token_type": "Bearer"});
        if let Some(e) = expires_in {
            body["expires_in"] = e.into();
        }
        serde_json::from_value(body).expect("response")
    }

    #[test]
    fn absurd_lifetimes_are_capped_not_a_panic() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).expect("now");
        let t = |expires_in, token| access_token(&response(expires_in, token), now).expires_at;
        assert_eq!(t(Some(3599), "x"), now + Duration::seconds(3599));
        // Beyond what a date can hold, or what chrono can add: the longest lifetime believed.
        for absurd in [1_000_000_000_000_000, u64::MAX, 99_999_999_999] {
            assert_eq!(
                t(Some(absurd), "x"),
                now + limits::TOKEN_LIFETIME_MAX,
                "{absurd}"
            );
        }
        // Zero: as if not said; then the token's own `exp` (bounded too), or five minutes.
        assert_eq!(t(Some(0), "x"), now + Duration::minutes(5));
        let far_exp = format!(
            "e30.{}.sig",
            base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                format!("{{\"exp\":{}}}", i64::MAX)
            )
        );
        assert_eq!(t(None, &far_exp), now + limits::TOKEN_LIFETIME_MAX);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(crate::proptest_config(256))]

            /// Whatever lifetime a token endpoint announces (a custom cloud's authority may be
            /// anyone's), reading the answer gives a time; `expires_in` past year 262,143 used
            /// to panic.
            #[test]
            fn any_announced_lifetime_gives_a_time(
                expires_in in prop_oneof![
                    any::<u64>(),
                    0..100_000_u64,
                    8_000_000_000_000..=10_000_000_000_000_000_u64,
                    u64::MAX - 1000..=u64::MAX,
                ],
                token in prop_oneof![Just("opaque".to_owned()), ".{0,40}"],
            ) {
                let body = serde_json::json!({
                    "access_token": token, "token_type": "Bearer", "expires_in": expires_in,
                });
                let resp = serde_json::from_value::<EntraTokenResponse>(body);
                prop_assert!(resp.is_ok());
                let Ok(resp) = resp else { unreachable!() };
                let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
                let _ = access_token(&resp, now);
            }
        }
    }
}
