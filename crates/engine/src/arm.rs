//! Azure Resource Manager, as far as ACR Tray needs it (protocol.md §4): find a registry's
//! resource, and read its admin credentials. ARM tokens go to the cloud's ARM host only;
//! `nextLink`s elsewhere are refused.

use serde::Deserialize;
use url::Url;

use crate::error::{Error, ErrorKind, Result};
use crate::http;
use crate::login_server::HostPort;
use crate::secret::{Secret, redact_url};

const SUBSCRIPTIONS_API: &str = "2022-12-01";
const REGISTRY_API: &str = "2025-04-01";

/// A registry as ARM describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct ArmRegistry {
    /// Resource id.
    pub id: String,
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
        let mut sub = String::new();
        let mut group = String::new();
        let mut parts = self.id.split('/');
        while let Some(part) = parts.next() {
            if part.eq_ignore_ascii_case("subscriptions") {
                sub = parts.next().unwrap_or_default().to_owned();
            } else if part.eq_ignore_ascii_case("resourceGroups") {
                group = parts.next().unwrap_or_default().to_owned();
            }
        }
        (sub, group)
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
    /// Always read the login server from here (protocol.md §1).
    pub login_server: String,
    /// Whether the admin account is enabled.
    #[serde(default)]
    pub admin_user_enabled: bool,
}

#[derive(Deserialize)]
struct Page<T> {
    value: Vec<T>,
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
        let matches = |listed: &str| {
            HostPort::parse(listed).is_ok_and(|l| {
                l.host() == login_server.host()
                    && (l.port().is_none()
                        || login_server.port().is_none()
                        || l.port() == login_server.port())
            })
        };
        let subs: Vec<Subscription> = self
            .list(format!("subscriptions?api-version={SUBSCRIPTIONS_API}"))
            .await?;
        for sub in subs {
            let path = format!(
                "subscriptions/{}/providers/Microsoft.ContainerRegistry/registries?api-version={REGISTRY_API}",
                sub.subscription_id
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
    pub async fn list_registries(&self) -> Result<Vec<ArmRegistry>> {
        let subs: Vec<Subscription> = self
            .list(format!("subscriptions?api-version={SUBSCRIPTIONS_API}"))
            .await?;
        let mut out = Vec::new();
        for sub in subs {
            let path = format!(
                "subscriptions/{}/providers/Microsoft.ContainerRegistry/registries?api-version={REGISTRY_API}",
                sub.subscription_id
            );
            out.extend(self.list::<ArmRegistry>(path).await?);
        }
        Ok(out)
    }

    /// `POST {id}/listCredentials`.
    pub async fn list_credentials(&self, registry_id: &str) -> Result<AdminCredentials> {
        let url = self.url(&format!(
            "{}/listCredentials?api-version={REGISTRY_API}",
            registry_id.trim_start_matches('/')
        ))?;
        let body = self
            .send(
                self.http.post(url.clone()).header("Content-Length", "0"),
                &url,
                registry_id,
            )
            .await?;
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

    async fn list<T: serde::de::DeserializeOwned>(&self, first: String) -> Result<Vec<T>> {
        let mut out = Vec::new();
        let mut next = Some(self.url(&first)?);
        while let Some(url) = next.take() {
            let body = self.send(self.http.get(url.clone()), &url, "").await?;
            let page: Page<T> = serde_json::from_slice(&body)
                .map_err(|e| network(&url, format!("malformed answer ({e})"), None))?;
            out.extend(page.value);
            if let Some(link) = page.next_link {
                let link = Url::parse(&link)
                    .map_err(|e| network(&url, format!("bad nextLink ({e})"), None))?;
                // The ARM token goes to the cloud's ARM host only.
                if link.scheme() != "https"
                    || link.host_str() != self.base.host_str()
                    || link.port_or_known_default() != self.base.port_or_known_default()
                {
                    return Err(network(
                        &url,
                        "a nextLink points away from the ARM endpoint; refused".to_owned(),
                        None,
                    ));
                }
                next = Some(link);
            }
        }
        Ok(out)
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.base.join(path).map_err(|e| {
            Error::invalid_input(
                format!("bad ARM URL: {e}"),
                "check the cloud's --arm endpoint",
            )
        })
    }

    async fn send(
        &self,
        req: reqwest::RequestBuilder,
        url: &Url,
        resource: &str,
    ) -> Result<Vec<u8>> {
        let resp = req
            .bearer_auth(self.token.expose())
            .send()
            .await
            .map_err(|e| network(url, http::describe(e), None))?;
        let status = resp.status().as_u16();
        let retry_after = http::retry_after(resp.headers());
        let body = resp
            .bytes()
            .await
            .map_err(|e| network(url, http::describe(e), None))?;
        if status == 200 {
            return Ok(body.to_vec());
        }
        let info = serde_json::from_slice::<ArmErrorBody>(&body)
            .map(|b| b.error)
            .unwrap_or(ArmErrorInfo {
                code: String::new(),
                message: String::new(),
            });
        Err(self.explain(status, info, url, resource, retry_after))
    }

    fn explain(
        &self,
        status: u16,
        info: ArmErrorInfo,
        url: &Url,
        resource: &str,
        retry_after: Option<u64>,
    ) -> Error {
        let name = resource.rsplit('/').next().unwrap_or(resource);
        let registry = |message: String, kind, hint: String| Error::Registry {
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
                "the admin account is disabled".to_owned(),
                ErrorKind::Configuration,
                format!(
                    "enable it (`az acr update -n {name} --admin-enabled true`) or, better, sign in with an Entra identity (`acr-tray-cli registry add {name} --identity ID`)"
                ),
            ),
            (403, _) => registry(
                format!(
                    "{} may not do this in ARM ({}: {})",
                    self.identity,
                    info.code,
                    first_line(&info.message)
                ),
                ErrorKind::Permission,
                "reading admin credentials needs Contributor or Owner on the registry".to_owned(),
            ),
            (401, _) => registry(
                format!(
                    "ARM refused the token of {} ({}: {})",
                    self.identity,
                    info.code,
                    first_line(&info.message)
                ),
                ErrorKind::SignInRequired,
                "sign in again with `acr-tray-cli login`".to_owned(),
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
                "check the registry and the cloud settings".to_owned(),
            ),
        }
    }
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
