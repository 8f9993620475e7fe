//! The registry side of a login: the `/v2/` challenge (docs/protocol.md#acr-challenge) and the
//! `/oauth2/exchange` of an Entra access token for an ACR refresh token
//! (docs/protocol.md#acr-exchange), as `az acr login` does.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::azure::jwt;
use crate::azure::login_server::{HostPort, TokenAllowList};
use crate::error::{Error, ErrorKind, Result};
use crate::hint::{Action, Hint};
use crate::http;
use crate::secret::{Secret, redact_url};
use crate::text;

/// What the registry's `/v2/` challenge says about its token service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The token endpoint (`https://<login server>/oauth2/token`).
    pub realm: Url,
    /// The `service` to name in token requests (the login server).
    pub service: String,
}

impl Challenge {
    /// The exchange endpoint: the realm's scheme and host with the fixed path `/oauth2/exchange`.
    pub fn exchange_url(&self) -> Url {
        let mut url = self.realm.clone();
        url.set_path("/oauth2/exchange");
        url.set_query(None);
        url
    }
}

/// What a registry's identity may do there, from the ACR refresh token's `permissions` claim,
/// named after the built-in role that grants it (docs/protocol.md#roles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum RegistryRole {
    /// Pull only.
    AcrPull,
    /// Pull and push.
    AcrPush,
    /// Everything (`*`: Owner or Contributor).
    Owner,
    /// Nothing (a token without actions).
    None,
}

impl RegistryRole {
    /// From the `permissions.actions` of an ACR refresh token (`*`, `read`, `write`,
    /// `delete`).
    pub fn from_actions(actions: &[String]) -> Self {
        let has = |a: &str| actions.iter().any(|x| x.eq_ignore_ascii_case(a));
        if has("*") {
            Self::Owner
        } else if has("write") {
            Self::AcrPush
        } else if has("read") {
            Self::AcrPull
        } else {
            Self::None
        }
    }

    /// What it allows, in a word: `pull`, `push` (and pull), `all` or `none`.
    pub fn can(self) -> &'static str {
        match self {
            Self::AcrPull => "pull",
            Self::AcrPush => "push",
            Self::Owner => "all",
            Self::None => "none",
        }
    }

    /// The role's name as the registry's mode names it: on an ABAC registry the Entra
    /// repository role that grants as much (per repository: what each repository gets is
    /// decided by the role assignments' conditions).
    pub fn name_in(self, mode: Option<RoleAssignmentMode>) -> &'static str {
        if !mode.is_some_and(RoleAssignmentMode::is_abac) {
            return self.name();
        }
        match self {
            Self::AcrPull => ROLE_REPOSITORY_READER,
            Self::AcrPush => ROLE_REPOSITORY_WRITER,
            Self::Owner => ROLE_REPOSITORY_CONTRIBUTOR,
            Self::None => "no repository role",
        }
    }

    /// The role's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::AcrPull => "AcrPull",
            Self::AcrPush => "AcrPush",
            Self::Owner => "Owner",
            Self::None => "no role",
        }
    }
}

/// How a registry's roles are assigned (`properties.roleAssignmentMode` in ARM,
/// docs/protocol.md#acr-abac).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum RoleAssignmentMode {
    /// `LegacyRegistryPermissions`: AcrPull, AcrPush and the other registry roles.
    LegacyRegistryPermissions,
    /// `AbacRepositoryPermissions`: repository permissions in Entra (the "Container Registry
    /// Repository …" roles, optionally per repository); AcrPull and AcrPush are not honoured.
    AbacRepositoryPermissions,
}

impl RoleAssignmentMode {
    /// From ARM's value. An unknown value is read as the legacy mode (with a log line): the
    /// labels then stay the registry roles, as before ABAC existed.
    pub fn from_arm(value: &str) -> Self {
        if value.eq_ignore_ascii_case("AbacRepositoryPermissions") {
            Self::AbacRepositoryPermissions
        } else {
            if !value.eq_ignore_ascii_case("LegacyRegistryPermissions") {
                tracing::info!(
                    value = %text::server_text(value),
                    "ARM named a role-assignment mode ACR Tray does not know; read as legacy registry permissions"
                );
            }
            Self::LegacyRegistryPermissions
        }
    }

    /// Repository permissions (ABAC).
    pub fn is_abac(self) -> bool {
        self == Self::AbacRepositoryPermissions
    }
}

use crate::hint::{ROLE_REPOSITORY_CONTRIBUTOR, ROLE_REPOSITORY_READER, ROLE_REPOSITORY_WRITER};

/// An ACR refresh token and when it runs out.
#[derive(Debug, Clone)]
pub struct AcrRefreshToken {
    /// The token.
    pub token: Secret,
    /// Its `exp`, when readable.
    pub expires_at: Option<DateTime<Utc>>,
    /// What it allows (its `permissions` claim), when readable.
    pub role: Option<RegistryRole>,
}

/// The outcome of an exchange that got an answer.
#[derive(Debug)]
pub enum Exchange {
    /// The registry issued a refresh token.
    Issued(AcrRefreshToken),
    /// The registry refused the Entra token (no role, or an audience it does not accept).
    Refused {
        /// The registry's message, if any.
        message: String,
    },
}

/// Asks the registry how to authenticate: `GET /v2/` must answer 401 with a Bearer challenge.
pub async fn challenge(
    http: &reqwest::Client,
    login_server: &HostPort,
    allow: &TokenAllowList,
) -> Result<Challenge> {
    let url = format!("https://{login_server}/v2/");
    let registry = login_server.to_string();
    let resp = http.get(&url).send().await.map_err(|e| Error::Network {
        what: "reaching the registry".to_owned(),
        url: url.clone(),
        detail: http::describe(e),
        retry_after: None,
    })?;
    let status = resp.status().as_u16();
    let header = resp
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let registry_error = |message: String, kind, hint: &str| Error::Registry {
        registry: registry.clone(),
        message,
        kind,
        hint: hint.into(),
    };
    match (status, header) {
        (401, Some(h)) => parse_challenge(&h, login_server, allow).map_err(|why| {
            registry_error(
                format!("unusable authentication challenge: {why}"),
                ErrorKind::Configuration,
                "check that this is an Azure Container Registry login server",
            )
        }),
        (403, _) => Err(registry_error(
            "access denied by the registry's firewall or public network settings (HTTP 403)"
                .to_owned(),
            ErrorKind::Permission,
            "allow your IP address in the registry's networking settings, or connect through its private endpoint",
        )),
        (429, _) | (500..=599, _) => Err(Error::Network {
            what: "reaching the registry".to_owned(),
            url,
            detail: format!("the registry answered HTTP {status}"),
            retry_after: None,
        }),
        _ => Err(registry_error(
            format!("expected an authentication challenge (HTTP 401) from /v2/, got HTTP {status}"),
            ErrorKind::Configuration,
            "check that this is an Azure Container Registry login server",
        )),
    }
}

/// Parses `Bearer realm="...",service="..."` and checks that the realm may receive tokens: it
/// must be HTTPS, and on the login server itself or another host of the allow-list.
fn parse_challenge(
    header: &str,
    login_server: &HostPort,
    allow: &TokenAllowList,
) -> std::result::Result<Challenge, String> {
    let (scheme, rest) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(format!("scheme {scheme:?}, not Bearer"));
    }
    let params = parse_params(rest);
    let get = |k: &str| {
        params
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
    };
    let realm = get("realm").ok_or("no realm")?;
    let service = get("service").ok_or("no service")?;
    let realm = Url::parse(&realm).map_err(|e| format!("realm is not a URL ({e})"))?;
    if realm.scheme() != "https" {
        return Err("the realm is not HTTPS".to_owned());
    }
    let realm_host = realm.host_str().ok_or("the realm has no host")?;
    if !realm_host.eq_ignore_ascii_case(login_server.host()) && allow.check(realm_host).is_err() {
        return Err(format!(
            "the realm points to {realm_host}, which may not receive Azure tokens"
        ));
    }
    Ok(Challenge { realm, service })
}

/// Comma-separated `key="value"` pairs; values may hold commas inside quotes.
fn parse_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.trim().is_empty() {
            return out;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek() {
                if *c == ',' {
                    break;
                }
                value.push(*c);
                chars.next();
            }
        }
        out.push((key.trim().to_owned(), value.trim().to_owned()));
    }
}

#[derive(Deserialize)]
struct ExchangeResponse {
    refresh_token: String,
}

#[derive(Deserialize)]
struct AcrErrors {
    #[serde(default)]
    errors: Vec<AcrErrorInfo>,
}

#[derive(Deserialize)]
struct AcrErrorInfo {
    #[serde(default)]
    message: String,
}

/// What a token endpoint answered: status, `Retry-After`, content type and the body (bounded
/// by [`http::read_body`]). `network` words a failure to send or read.
struct Answer {
    status: u16,
    retry_after: Option<u64>,
    content_type: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    async fn of(
        request: reqwest::RequestBuilder,
        network: &impl Fn(String, Option<u64>) -> Error,
    ) -> Result<Self> {
        let resp = request
            .send()
            .await
            .map_err(|e| network(http::describe(e), None))?;
        let status = resp.status().as_u16();
        let retry_after = http::retry_after(resp.headers());
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = http::read_body(resp)
            .await
            .map_err(|e| network(e.to_string(), None))?;
        Ok(Self {
            status,
            retry_after,
            content_type,
            body,
        })
    }
}

/// `POST /oauth2/exchange` with `grant_type=access_token` (docs/protocol.md#acr-exchange).
pub async fn exchange(
    http: &reqwest::Client,
    registry: &str,
    challenge: &Challenge,
    tenant: &str,
    access_token: &Secret,
) -> Result<Exchange> {
    let url = challenge.exchange_url();
    let shown_url = redact_url(url.as_str());
    let network = |detail: String, retry_after| Error::Network {
        what: "token exchange".to_owned(),
        url: shown_url.clone(),
        detail,
        retry_after,
    };
    let form = [
        ("grant_type", "access_token"),
        ("service", challenge.service.as_str()),
        ("tenant", tenant),
        ("access_token", access_token.expose()),
    ];
    let Answer {
        status,
        retry_after,
        content_type,
        body,
    } = Answer::of(http.post(url.clone()).form(&form), &network).await?;
    match status {
        200 => {
            let parsed: ExchangeResponse = serde_json::from_slice(&body)
                .map_err(|e| network(unparsable(content_type.as_deref(), &e), None))?;
            if parsed.refresh_token.is_empty() {
                return Err(network(
                    "the response holds no refresh token".to_owned(),
                    None,
                ));
            }
            let claims = jwt::decode_claims(&parsed.refresh_token);
            let expires_at = claims.as_ref().and_then(jwt::Claims::expires_at);
            let role = claims
                .and_then(|c| c.permissions)
                .map(|p| RegistryRole::from_actions(&p.actions));
            Ok(Exchange::Issued(AcrRefreshToken {
                token: Secret::new(parsed.refresh_token),
                expires_at,
                role,
            }))
        }
        401 => Ok(Exchange::Refused {
            message: acr_message(&body),
        }),
        429 | 500..=599 => Err(network(
            format!("the registry answered HTTP {status}{}", with_message(&body)),
            retry_after,
        )),
        _ => Err(Error::Registry {
            registry: registry.to_owned(),
            message: format!(
                "the token exchange answered HTTP {status}{}",
                with_message(&body)
            ),
            kind: ErrorKind::Configuration,
            hint: Hint::text("check the registry name and the cloud settings (")
                .with(Action::ShowCloud)
                .then(")"),
        }),
    }
}

/// Why a 200 answer could not be read. A page that is not JSON at all is most often a captive
/// portal or a proxy's sign-in page, which the user can do something about; say so rather
/// than only quoting the parser.
fn unparsable(content_type: Option<&str>, err: &serde_json::Error) -> String {
    match content_type {
        Some(ct) if !ct.to_ascii_lowercase().contains("json") => {
            let ct = text::server_text(ct);
            format!("the answer was {ct}, not JSON (a captive portal or a proxy's sign-in page?)")
        }
        _ => format!("malformed response ({err})"),
    }
}

/// Whether the registry accepts a user name and password (`GET /oauth2/token` with Basic auth,
/// docs/protocol.md#acr-basic-login): `Ok(false)` on 401.
pub async fn basic_login_works(
    http: &reqwest::Client,
    challenge: &Challenge,
    username: &str,
    password: &Secret,
    what: &str,
) -> Result<bool> {
    let url = challenge.realm.clone();
    let resp = http
        .get(url.clone())
        .query(&[
            ("service", challenge.service.as_str()),
            ("scope", "registry:catalog:*"),
        ])
        .basic_auth(username, Some(password.expose()))
        .send()
        .await
        .map_err(|e| Error::Network {
            what: what.to_owned(),
            url: redact_url(url.as_str()),
            detail: http::describe(e),
            retry_after: None,
        })?;
    match resp.status().as_u16() {
        200 => Ok(true),
        401 | 403 => Ok(false),
        status => Err(Error::Network {
            what: what.to_owned(),
            url: redact_url(url.as_str()),
            detail: format!("the registry answered HTTP {status}"),
            retry_after: http::retry_after(resp.headers()),
        }),
    }
}

/// The credential a client presents at the registry's `/oauth2/token`, as Docker would.
#[derive(Debug, Clone)]
pub enum TokenCredential {
    /// A user name and password as Basic credentials on `GET /oauth2/token`
    /// (docs/protocol.md#acr-basic-login): the zero GUID with an ACR refresh token, an admin
    /// account, or a scope-map token.
    Basic {
        /// The user name.
        username: String,
        /// The password or ACR refresh token.
        password: Secret,
    },
    /// An identity token (an ACR refresh token) traded with `POST /oauth2/token`
    /// (docs/protocol.md#acr-token).
    RefreshToken(Secret),
}

/// What the registry's token endpoint answered.
#[derive(Debug)]
pub enum AccessToken {
    /// An access token.
    Issued(Secret),
    /// The credential was refused (HTTP 401 or 403), with the registry's message.
    Refused {
        /// The registry's message, if any.
        message: String,
    },
}

/// Asks the realm for an access token with `scope` (none: a token for `/v2/` alone), as
/// Docker does with the credential it holds. The credential goes only to the challenge's realm,
/// which [`challenge`] checked.
pub async fn access_token(
    http: &reqwest::Client,
    registry: &str,
    challenge: &Challenge,
    credential: &TokenCredential,
    scope: Option<&str>,
) -> Result<AccessToken> {
    let url = challenge.realm.clone();
    let shown_url = redact_url(url.as_str());
    let network = |detail: String, retry_after| Error::Network {
        what: "token request to the registry".to_owned(),
        url: shown_url.clone(),
        detail,
        retry_after,
    };
    let request = match credential {
        TokenCredential::Basic { username, password } => {
            let mut query = vec![("service", challenge.service.as_str())];
            query.extend(scope.map(|s| ("scope", s)));
            http.get(url.clone())
                .query(&query)
                .basic_auth(username, Some(password.expose()))
        }
        TokenCredential::RefreshToken(token) => {
            let mut form = vec![
                ("grant_type", "refresh_token"),
                ("service", challenge.service.as_str()),
                ("refresh_token", token.expose()),
            ];
            form.extend(scope.map(|s| ("scope", s)));
            http.post(url.clone()).form(&form)
        }
    };
    let Answer {
        status,
        retry_after,
        content_type,
        body,
    } = Answer::of(request, &network).await?;
    match status {
        200 => {
            let parsed: TokenResponse = serde_json::from_slice(&body)
                .map_err(|e| network(unparsable(content_type.as_deref(), &e), None))?;
            if parsed.access_token.is_empty() {
                return Err(network(
                    "the response holds no access token".to_owned(),
                    None,
                ));
            }
            Ok(AccessToken::Issued(Secret::new(parsed.access_token)))
        }
        401 | 403 => Ok(AccessToken::Refused {
            message: acr_message(&body),
        }),
        429 | 500..=599 => Err(network(
            format!("the registry answered HTTP {status}{}", with_message(&body)),
            retry_after,
        )),
        _ => Err(Error::Registry {
            registry: registry.to_owned(),
            message: format!(
                "the token request answered HTTP {status}{}",
                with_message(&body)
            ),
            kind: ErrorKind::Configuration,
            hint: Hint::text("check the registry name and the cloud settings (")
                .with(Action::ShowCloud)
                .then(")"),
        }),
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    access_token: String,
}

/// `GET /v2/` with a bearer token, as `docker login` ends: `Ok(true)` on 200, `Ok(false)` when
/// the token is refused (401, 403).
pub async fn v2_accepts(
    http: &reqwest::Client,
    login_server: &HostPort,
    token: &Secret,
) -> Result<bool> {
    let url = format!("https://{login_server}/v2/");
    let resp = http
        .get(&url)
        .bearer_auth(token.expose())
        .send()
        .await
        .map_err(|e| Error::Network {
            what: "reaching the registry".to_owned(),
            url: url.clone(),
            detail: http::describe(e),
            retry_after: None,
        })?;
    match resp.status().as_u16() {
        200 => Ok(true),
        401 | 403 => Ok(false),
        status => Err(Error::Network {
            what: "reaching the registry".to_owned(),
            url,
            detail: format!("the registry answered HTTP {status}"),
            retry_after: http::retry_after(resp.headers()),
        }),
    }
}

fn acr_message(body: &[u8]) -> String {
    serde_json::from_slice::<AcrErrors>(body)
        .ok()
        .and_then(|e| e.errors.into_iter().next())
        .map(|e| text::server_text(&e.message))
        .unwrap_or_default()
}

fn with_message(body: &[u8]) -> String {
    match acr_message(body) {
        m if m.is_empty() => String::new(),
        m => format!(": {m}"),
    }
}

#[cfg(test)]
mod tests;
