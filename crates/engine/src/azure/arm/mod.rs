//! Azure Resource Manager, as far as ACR Tray needs it (docs/protocol.md#arm): find a registry's
//! resource, and read its admin credentials. The ARM token goes to the cloud's ARM host only:
//! `Arm::send`, the one place that attaches it, refuses any other URL (a `nextLink` or an
//! `Azure-AsyncOperation` elsewhere, whatever ARM or the settings say); and registry ids are
//! [`RegistryId`]s, which cannot hold a URL of their own.

use reqwest::Method;
use serde::Deserialize;
use url::Url;

use crate::azure::acr::RoleAssignmentMode;
use crate::azure::login_server::HostPort;
use crate::azure::resource_id::{self, RegistryId};
use crate::error::{Error, ErrorKind, Result};
use crate::hint::{Action, Hint};
use crate::http;
use crate::secret::{Secret, redact_url};
use crate::text;

mod tokens;
pub use tokens::AcrTokenInfo;
#[cfg(test)]
pub use tokens::TokenPasswordExpiry;

const SUBSCRIPTIONS_API: &str = "2022-12-01";

mod tenants;
pub use tenants::ArmTenant;
/// Whether ARM refused a request for its `api-version` (HTTP 400 with one of the codes ARM
/// gives an unknown or retired version), as [`Arm::explain`] words it; any other failure,
/// a hostile `nextLink` above all, is not a reason to ask again.
fn refuses_api_version(e: &Error) -> bool {
    let text = e.to_string();
    [
        "InvalidApiVersionParameter",
        "NoRegisteredProviderFound",
        "InvalidResourceType",
    ]
    .iter()
    .any(|code| text.contains(&format!("ARM answered HTTP 400 ({code}:")))
}

/// The stable version every registry call uses (docs/protocol.md#arm).
const REGISTRY_API: &str = "2025-04-01";
/// The version whose registry model documents `properties.roleAssignmentMode`, asked only
/// for that property when the stable answer lacks it (docs/protocol.md#acr-abac): a failure
/// there (say, the version retired) leaves the registry's mode as it was, never its watch.
const ROLE_MODE_API: &str = "2025-03-01-preview";

/// The message of the error ARM's `UnAuthorizedForCredentialOperations` becomes.
pub const ADMIN_DISABLED: &str = "the admin account is disabled";

/// A throttled request (429) is sent again after its `Retry-After` when that is at most this
/// many seconds, up to [`THROTTLE_RETRIES`] times; a longer wait is the caller's (the scheduler
/// retries after it).
const THROTTLE_WAIT_MAX: u64 = 60;
const THROTTLE_RETRIES: u32 = 2;

/// How long a long-running operation (a `PATCH` answered 201) is followed.
const OPERATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// A registry as ARM describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct ArmRegistry {
    /// Resource id.
    pub id: RegistryId,
    /// Resource name.
    pub name: String,
    /// Properties.
    pub properties: RegistryProperties,
    /// Basic, Standard or Premium.
    #[serde(default)]
    pub sku: Option<Sku>,
}

impl ArmRegistry {
    /// The subscription id and resource group, read from the resource id
    /// (`/subscriptions/{sub}/resourceGroups/{rg}/providers/...`).
    pub fn subscription_and_group(&self) -> (String, String) {
        (
            self.id.subscription().to_owned(),
            self.id.resource_group().to_owned(),
        )
    }
}

/// A registry's SKU.
#[derive(Debug, Clone, Deserialize)]
pub struct Sku {
    /// `Basic`, `Standard` or `Premium`.
    pub name: String,
}

/// The registry properties ACR Tray reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistryProperties {
    /// Always read the login server from here (docs/protocol.md#clouds).
    pub login_server: String,
    /// Whether the admin account is enabled.
    #[serde(default)]
    pub admin_user_enabled: bool,
    /// The registry's policies (only the one ACR Tray reads).
    #[serde(default)]
    pub policies: Option<Policies>,
    /// `roleAssignmentMode`, as ARM spelled it (read through
    /// [`RegistryProperties::role_assignment_mode`]).
    #[serde(default)]
    pub role_assignment_mode: Option<String>,
}

impl RegistryProperties {
    /// How the registry's roles are assigned; a registry without the property (older API
    /// versions, clouds that lack ABAC) has the legacy registry permissions.
    pub fn role_assignment_mode(&self) -> RoleAssignmentMode {
        self.role_assignment_mode.as_deref().map_or(
            RoleAssignmentMode::LegacyRegistryPermissions,
            RoleAssignmentMode::from_arm,
        )
    }

    /// Whether `/oauth2/exchange` takes ARM-audience Entra tokens
    /// (`azureADAuthenticationAsArmPolicy`); `None` when ARM did not say.
    pub fn arm_audience_accepted(&self) -> Option<bool> {
        let status = self
            .policies
            .as_ref()?
            .azure_ad_authentication_as_arm_policy
            .as_ref()?
            .status
            .as_deref()?;
        Some(status.eq_ignore_ascii_case("enabled"))
    }
}

/// `properties.policies`.
#[derive(Debug, Clone, Deserialize)]
pub struct Policies {
    /// `azureADAuthenticationAsArmPolicy`.
    #[serde(rename = "azureADAuthenticationAsArmPolicy", default)]
    pub azure_ad_authentication_as_arm_policy: Option<PolicyStatus>,
}

/// A policy's `status` (`enabled` / `disabled`).
#[derive(Debug, Clone, Deserialize)]
pub struct PolicyStatus {
    /// `enabled` or `disabled`.
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Deserialize)]
struct OperationStatus {
    #[serde(default)]
    status: String,
    #[serde(default)]
    error: Option<ArmErrorInfo>,
}

/// A page of a list. Its entries are read one by one ([`Arm::list`]): one malformed entry
/// (a registry whose id is not a registry id) is left out, not the whole list.
#[derive(Deserialize)]
struct Page {
    value: Vec<serde_json::Value>,
    #[serde(rename = "nextLink", default)]
    next_link: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Subscription {
    subscription_id: String,
}

/// The admin account's credentials.
#[derive(Debug, Clone)]
pub struct AdminCredentials {
    /// The admin user name.
    pub username: String,
    /// `password` and `password2`.
    pub passwords: Vec<(String, Secret)>,
}

#[derive(Deserialize)]
struct CredentialsBody {
    username: String,
    passwords: Vec<PasswordBody>,
}

#[derive(Deserialize)]
struct PasswordBody {
    name: String,
    value: String,
}

/// What [`Arm::send`] keeps of a response's head.
struct Head {
    status: u16,
    retry_after: Option<u64>,
    async_operation: Option<String>,
}

#[derive(Deserialize)]
struct ArmErrorBody {
    error: ArmErrorInfo,
}

#[derive(Deserialize)]
struct ArmErrorInfo {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// ARM calls with one identity's ARM-audience token.
pub struct Arm<'a> {
    http: &'a reqwest::Client,
    base: &'a Url,
    token: &'a Secret,
    identity: &'a str,
}

impl<'a> Arm<'a> {
    /// A client for the cloud's ARM endpoint.
    pub fn new(
        http: &'a reqwest::Client,
        base: &'a Url,
        token: &'a Secret,
        identity: &'a str,
    ) -> Self {
        Self {
            http,
            base,
            token,
            identity,
        }
    }

    /// Finds the registry with this login server among every subscription the identity can
    /// read. `None` when it is not visible (e.g. an AcrPull-only identity cannot read ARM).
    pub async fn find_registry(&self, login_server: &HostPort) -> Result<Option<ArmRegistry>> {
        let matches = |listed: &str| same_login_server(listed, login_server);
        for sub in self.subscriptions().await? {
            let path = format!(
                "subscriptions/{sub}/providers/Microsoft.ContainerRegistry/registries?api-version={REGISTRY_API}"
            );
            let registries: Vec<ArmRegistry> = self.list(path).await?;
            if let Some(r) = registries
                .into_iter()
                .find(|r| matches(&r.properties.login_server))
            {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }

    /// Every registry in every subscription the identity can read (following `nextLink`).
    /// An identity with data-plane roles only (AcrPull, AcrPush) reads none: ARM needs Reader.
    /// The list is asked for with the version that carries each registry's
    /// `roleAssignmentMode`, and again with the stable one if ARM refuses that version.
    pub async fn list_registries(&self) -> Result<Vec<ArmRegistry>> {
        let mut out = Vec::new();
        for sub in self.subscriptions().await? {
            let path = |version: &str| {
                format!(
                    "subscriptions/{sub}/providers/Microsoft.ContainerRegistry/registries?api-version={version}"
                )
            };
            let listed = match self.list::<ArmRegistry>(path(ROLE_MODE_API)).await {
                Err(e) if refuses_api_version(&e) => {
                    tracing::debug!(error = %e, "ARM refused the registry list with {ROLE_MODE_API}; asking with {REGISTRY_API}");
                    self.list::<ArmRegistry>(path(REGISTRY_API)).await?
                }
                other => other?,
            };
            out.extend(listed);
        }
        Ok(out)
    }

    /// The ids of the subscriptions the identity can read; one that is not a GUID (and so
    /// could change the path it is put into) is left out.
    async fn subscriptions(&self) -> Result<Vec<String>> {
        let subs: Vec<Subscription> = self
            .list(format!("subscriptions?api-version={SUBSCRIPTIONS_API}"))
            .await?;
        Ok(subs
            .into_iter()
            .map(|s| s.subscription_id)
            .filter(|id| {
                let ok = resource_id::is_guid(id);
                if !ok {
                    tracing::warn!("ARM listed a subscription whose id is not a GUID; left out");
                }
                ok
            })
            .collect())
    }

    /// `POST {id}/listCredentials`.
    pub async fn list_credentials(&self, registry_id: &RegistryId) -> Result<AdminCredentials> {
        let url = self.resource_url(registry_id, "/listCredentials")?;
        let body = self
            .send(Method::POST, &url, None, registry_id.name())
            .await?
            .1;
        let parsed: CredentialsBody = serde_json::from_slice(&body)
            .map_err(|e| network(&url, format!("malformed answer ({e})"), None))?;
        Ok(AdminCredentials {
            username: parsed.username,
            passwords: parsed
                .passwords
                .into_iter()
                .map(|p| (p.name, Secret::new(p.value)))
                .collect(),
        })
    }

    /// Every entry of a list, following `nextLink` (sent to the ARM host only, by
    /// [`Arm::send`]). An entry that does not read as a `T` is left out, with a warning.
    async fn list<T: serde::de::DeserializeOwned>(&self, first: String) -> Result<Vec<T>> {
        let mut out = Vec::new();
        let mut next = Some(self.url(&first)?);
        while let Some(url) = next.take() {
            let (_, body) = self.send(Method::GET, &url, None, "").await?;
            let page: Page = serde_json::from_slice(&body)
                .map_err(|e| network(&url, format!("malformed answer ({e})"), None))?;
            for entry in page.value {
                match serde_json::from_value(entry) {
                    Ok(item) => out.push(item),
                    Err(e) => {
                        tracing::warn!(url = %redact_url(url.as_str()), error = %e, "ARM listed an entry that cannot be read; left out");
                    }
                }
            }
            if let Some(link) = page.next_link {
                let link = Url::parse(&link)
                    .map_err(|e| network(&url, format!("bad nextLink ({e})"), None))?;
                next = Some(link);
            }
        }
        Ok(out)
    }

    /// `{ARM endpoint}{id}{action}?api-version=...`.
    fn resource_url(&self, id: &RegistryId, action: &str) -> Result<Url> {
        self.url(&format!(
            "{}{action}?api-version={REGISTRY_API}",
            id.as_str().trim_start_matches('/')
        ))
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.base.join(path).map_err(|e| {
            Error::invalid_input(
                format!("bad ARM URL: {e}"),
                "check the cloud's --arm endpoint",
            )
        })
    }

    /// `GET {id}`: the registry, as ARM describes it now.
    pub async fn get_registry(&self, registry_id: &RegistryId) -> Result<ArmRegistry> {
        let url = self.resource_url(registry_id, "")?;
        let (_, body) = self
            .send(Method::GET, &url, None, registry_id.name())
            .await?;
        serde_json::from_slice(&body)
            .map_err(|e| network(&url, format!("malformed answer ({e})"), None))
    }

    /// The registry's `roleAssignmentMode`, read with the API version that documents it;
    /// `None` when ARM does not say or the request fails (logged, never an error: the mode
    /// only changes how a refusal is explained).
    pub async fn role_assignment_mode(&self, registry_id: &RegistryId) -> Option<String> {
        let path = format!(
            "{}?api-version={ROLE_MODE_API}",
            registry_id.as_str().trim_start_matches('/')
        );
        let url = self.url(&path).ok()?;
        match self.send(Method::GET, &url, None, registry_id.name()).await {
            Ok((_, body)) => {
                serde_json::from_slice::<ArmRegistry>(&body)
                    .ok()?
                    .properties
                    .role_assignment_mode
            }
            Err(e) => {
                tracing::debug!(registry = registry_id.name(), error = %e, "ARM did not say the registry's role-assignment mode");
                None
            }
        }
    }

    /// `PATCH {id}` with `properties.adminUserEnabled`, following the long-running operation
    /// when ARM answers 201 (or 202) with `Azure-AsyncOperation` (docs/protocol.md#arm-async)
    /// until it ends.
    pub async fn set_admin_enabled(&self, registry_id: &RegistryId, enabled: bool) -> Result<()> {
        let url = self.resource_url(registry_id, "")?;
        let body = serde_json::json!({"properties": {"adminUserEnabled": enabled}});
        let (resp, _) = self
            .send(Method::PATCH, &url, Some(&body), registry_id.name())
            .await?;
        if !matches!(resp.status, 201 | 202) {
            return Ok(());
        }
        let Some(operation) = resp.async_operation else {
            return Ok(());
        };
        let operation = Url::parse(&operation)
            .map_err(|e| network(&url, format!("bad Azure-AsyncOperation ({e})"), None))?;
        let deadline = tokio::time::Instant::now() + OPERATION_TIMEOUT;
        let mut wait = resp.retry_after.unwrap_or(1).clamp(1, THROTTLE_WAIT_MAX);
        loop {
            let (_, body) = self
                .send(Method::GET, &operation, None, registry_id.name())
                .await?;
            let status: OperationStatus = serde_json::from_slice(&body)
                .map_err(|e| network(&operation, format!("malformed answer ({e})"), None))?;
            match status.status.as_str() {
                "Succeeded" => return Ok(()),
                "Failed" | "Canceled" => {
                    let info = status.error.unwrap_or(ArmErrorInfo {
                        code: status.status.clone(),
                        message: String::new(),
                    });
                    return Err(self.explain(400, info, &operation, registry_id.name(), None));
                }
                _ => {}
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(network(
                    &operation,
                    format!(
                        "the change did not finish within {} s",
                        OPERATION_TIMEOUT.as_secs()
                    ),
                    None,
                ));
            }
            tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
            wait = (wait * 2).min(10);
        }
    }

    /// Whether `url` is on the cloud's ARM host: `https`, the same host and the same port as
    /// the ARM endpoint. Nothing else may receive the ARM token.
    fn on_arm_host(&self, url: &Url) -> bool {
        url.scheme() == "https"
            && self.base.scheme() == "https"
            && url.host().is_some()
            && url.host() == self.base.host()
            && url.port_or_known_default() == self.base.port_or_known_default()
            && url.username().is_empty()
            && url.password().is_none()
    }

    /// Sends a request with the ARM token, honouring a short `Retry-After` on 429; returns the
    /// response's head and body for 200 to 202, else the error. The only place the token is
    /// attached: a URL off the cloud's ARM host (a `nextLink` or `Azure-AsyncOperation`
    /// pointing elsewhere) is refused before anything is sent.
    async fn send(
        &self,
        method: Method,
        url: &Url,
        body: Option<&serde_json::Value>,
        resource: &str,
    ) -> Result<(Head, Vec<u8>)> {
        if !self.on_arm_host(url) {
            tracing::warn!(url = %redact_url(url.as_str()), "refused to send the ARM token away from the ARM endpoint");
            return Err(Error::Registry {
                registry: "ARM".to_owned(),
                message: format!(
                    "ARM pointed to {}, away from the cloud's ARM endpoint {}; refused to send the ARM token there",
                    redact_url(url.as_str()),
                    redact_url(self.base.as_str())
                ),
                kind: ErrorKind::Configuration,
                hint: Hint::text("check the cloud's ARM endpoint (")
                    .with(Action::ShowCloud)
                    .then(
                        "): the server answering there is not behaving like Azure Resource Manager",
                    ),
            });
        }
        let mut throttled = 0;
        loop {
            let request = self.http.request(method.clone(), url.clone());
            let request = match body {
                Some(json) => request.json(json),
                None if method == Method::POST => request.header("Content-Length", "0"),
                None => request,
            };
            let resp = request
                .bearer_auth(self.token.expose())
                .send()
                .await
                .map_err(|e| network(url, http::describe(e), None))?;
            let status = resp.status().as_u16();
            let retry_after = http::retry_after(resp.headers());
            let async_operation = resp
                .headers()
                .get("azure-asyncoperation")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = http::read_body(resp)
                .await
                .map_err(|e| network(url, e.to_string(), None))?;
            if matches!(status, 200..=202) {
                let head = Head {
                    status,
                    retry_after,
                    async_operation,
                };
                return Ok((head, body));
            }
            if status == 429
                && throttled < THROTTLE_RETRIES
                && let Some(wait) = retry_after.filter(|s| *s <= THROTTLE_WAIT_MAX)
            {
                throttled += 1;
                tracing::info!(url = %redact_url(url.as_str()), wait_s = wait, "ARM throttled the request; waiting as it asked");
                tokio::time::sleep(std::time::Duration::from_secs(wait.max(1))).await;
                continue;
            }
            let info = serde_json::from_slice::<ArmErrorBody>(&body)
                .map(|b| b.error)
                .unwrap_or(ArmErrorInfo {
                    code: String::new(),
                    message: String::new(),
                });
            return Err(self.explain(status, info, url, resource, retry_after));
        }
    }

    fn explain(
        &self,
        status: u16,
        info: ArmErrorInfo,
        url: &Url,
        resource: &str,
        retry_after: Option<u64>,
    ) -> Error {
        // ARM's words are shown to the user: on one line, without control characters.
        let info = ArmErrorInfo {
            code: text::server_text(&info.code),
            message: text::server_text(first_line(&info.message)),
        };
        let name = resource.rsplit('/').next().unwrap_or(resource);
        let registry = |message: String, kind, hint: Hint| Error::Registry {
            registry: if name.is_empty() {
                "ARM".to_owned()
            } else {
                name.to_owned()
            },
            message,
            kind,
            hint,
        };
        match (status, info.code.as_str()) {
            (400, "UnAuthorizedForCredentialOperations") => registry(
                ADMIN_DISABLED.to_owned(),
                ErrorKind::Configuration,
                Hint::text("enable it (")
                    .with(Action::shell(format!(
                        "az acr update -n {name} --admin-enabled true"
                    )))
                    .then(") or, better, sign in with an Entra identity (")
                    .with(Action::registry_to_identity(name))
                    .then(")"),
            ),
            (403, _) => registry(
                format!(
                    "{} may not do this in ARM ({}: {})",
                    self.identity,
                    info.code,
                    first_line(&info.message)
                ),
                ErrorKind::Permission,
                "reading admin credentials needs Contributor or Owner on the registry".into(),
            ),
            (401, _) => registry(
                format!(
                    "ARM refused the token of {} ({}: {})",
                    self.identity,
                    info.code,
                    first_line(&info.message)
                ),
                ErrorKind::SignInRequired,
                Hint::text("sign in again with ").with(Action::sign_in(self.identity)),
            ),
            (429 | 500..=599, _) => network(
                url,
                format!("ARM answered HTTP {status} {}", info.code)
                    .trim_end()
                    .to_owned(),
                retry_after,
            ),
            _ => registry(
                format!(
                    "ARM answered HTTP {status} ({}: {})",
                    info.code,
                    first_line(&info.message)
                ),
                ErrorKind::Configuration,
                "check the registry and the cloud settings".into(),
            ),
        }
    }
}

/// Whether a login server ARM lists is this one (a port on only one side is ignored).
pub fn same_login_server(listed: &str, login_server: &HostPort) -> bool {
    HostPort::parse(listed).is_ok_and(|l| {
        l.host() == login_server.host()
            && (l.port().is_none()
                || login_server.port().is_none()
                || l.port() == login_server.port())
    })
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

fn network(url: &Url, detail: String, retry_after: Option<u64>) -> Error {
    Error::Network {
        what: "ARM request".to_owned(),
        url: redact_url(url.as_str()),
        detail,
        retry_after,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_registrys_role_assignment_mode_is_read_and_absent_means_legacy() {
        let read = |extra: &str| {
            let body = format!(
                r#"{{"id":"/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/myregistry",
                "name":"myregistry","properties":{{"loginServer":"myregistry.azurecr.io"{extra}}}}}"#
            );
            serde_json::from_str::<ArmRegistry>(&body)
                .expect("registry")
                .properties
                .role_assignment_mode()
        };
        assert_eq!(
            read(r#","roleAssignmentMode":"AbacRepositoryPermissions""#),
            RoleAssignmentMode::AbacRepositoryPermissions
        );
        assert_eq!(
            read(r#","roleAssignmentMode":"LegacyRegistryPermissions""#),
            RoleAssignmentMode::LegacyRegistryPermissions
        );
        assert_eq!(read(""), RoleAssignmentMode::LegacyRegistryPermissions);
        assert_eq!(
            read(r#","roleAssignmentMode":"FutureMode""#),
            RoleAssignmentMode::LegacyRegistryPermissions
        );
    }

    use super::*;

    #[test]
    fn only_an_api_version_refusal_asks_again_with_the_stable_version() {
        let arm = |message: &str| Error::Registry {
            registry: "r".into(),
            message: message.into(),
            kind: ErrorKind::Configuration,
            hint: Hint::none(),
        };
        assert!(refuses_api_version(&arm(
            "ARM answered HTTP 400 (InvalidApiVersionParameter: The api-version '2025-03-01-preview' is invalid.)"
        )));
        assert!(refuses_api_version(&arm(
            "ARM answered HTTP 400 (NoRegisteredProviderFound: No registered resource provider found)"
        )));
        // Another refusal, or a next link off the ARM host, is not asked again.
        assert!(!refuses_api_version(&arm(
            "ARM answered HTTP 400 (InvalidParameter: something else)"
        )));
        assert!(!refuses_api_version(&arm(
            "ARM pointed to https://elsewhere.example/x, away from the cloud's ARM endpoint"
        )));
        assert!(!refuses_api_version(&arm(
            "ARM answered HTTP 404 (InvalidApiVersionParameter: odd)"
        )));
    }

    #[test]
    fn only_the_arm_endpoints_host_and_port_may_receive_the_token() {
        let http = reqwest::Client::new();
        let base = Url::parse("https://management.example:8443/").expect("url");
        let token = Secret::new("arm-token");
        let arm = Arm::new(&http, &base, &token, "app");
        for ok in [
            "https://management.example:8443/subscriptions?api-version=1",
            "https://MANAGEMENT.example:8443/other/path",
        ] {
            assert!(arm.on_arm_host(&Url::parse(ok).expect("url")), "{ok}");
        }
        for away in [
            "http://management.example:8443/subscriptions",
            "https://management.example/subscriptions",
            "https://management.example:9443/subscriptions",
            "https://elsewhere.example:8443/subscriptions",
            "https://management.example.elsewhere.example:8443/",
            "https://user:pw@management.example:8443/subscriptions",
            "https://127.0.0.1:8443/subscriptions",
        ] {
            assert!(!arm.on_arm_host(&Url::parse(away).expect("url")), "{away}");
        }
    }

    #[tokio::test]
    async fn nothing_is_sent_to_a_url_off_the_arm_host() {
        // Nothing listens on the refused URL's host; the refusal comes before any connection.
        let http = reqwest::Client::new();
        let base = Url::parse("https://management.example/").expect("url");
        let token = Secret::new("arm-token");
        let arm = Arm::new(&http, &base, &token, "app");
        let away = Url::parse("https://elsewhere.invalid/subscriptions").expect("url");
        let err = arm
            .send(Method::GET, &away, None, "")
            .await
            .err()
            .expect("refused");
        let text = err.to_string();
        assert!(
            text.contains("refused to send the ARM token there")
                && text.contains("elsewhere.invalid")
                && !text.contains("arm-token"),
            "{text}"
        );
        assert_eq!(err.kind(), ErrorKind::Configuration);
    }

    use proptest::prelude::*;

    /// Turns an error answer into our error, as [`Arm::send`] does.
    fn explained(status: u16, body: &[u8]) -> Error {
        let http = reqwest::Client::new();
        let base = Url::parse("https://management.example/").unwrap_or_else(|_| unreachable!());
        let token = Secret::new("t");
        let arm = Arm::new(&http, &base, &token, "app");
        let info = serde_json::from_slice::<ArmErrorBody>(body)
            .map(|b| b.error)
            .unwrap_or(ArmErrorInfo {
                code: String::new(),
                message: String::new(),
            });
        let err = arm.explain(
            status,
            info,
            &base,
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerRegistry/registries/r",
            None,
        );
        let _ = (err.to_string(), err.hint(), err.kind());
        err
    }

    proptest! {
        #![proptest_config(crate::proptest_config(256))]

        #[test]
        fn any_error_body_is_explained(
            status in any::<u16>(),
            body in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            explained(status, &body);
        }

        #[test]
        fn hostile_error_bodies_are_explained_on_one_line(
            status in prop_oneof![Just(400u16), Just(401), Just(403), Just(404), Just(429), Just(503), any::<u16>()],
            code in ".{0,40}",
            message in ".{0,120}",
        ) {
            let body = serde_json::json!({"error": {"code": code, "message": message, "details": [{}]}});
            let err = explained(status, body.to_string().as_bytes());
            if let Error::Registry { message: m, .. } = &err {
                prop_assert!(m.lines().count() <= 1 || code.contains('\n'), "{}", m);
            }
        }

        #[test]
        fn operation_status_bodies(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = serde_json::from_slice::<OperationStatus>(&body);
            let _ = serde_json::from_slice::<CredentialsBody>(&body);
            let _ = serde_json::from_slice::<Page>(&body);
        }
    }
}
