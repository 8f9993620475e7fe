//! Azure clouds: where Entra ID, ARM and ACR live, and which audiences they use
//! (docs/protocol.md#clouds).

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::azure::login_server::HostPort;
use crate::error::{Error, Result};
use crate::hint::{Action, Hint};

/// The ACR audience every cloud uses for Entra tokens meant for registries.
pub const ACR_AUDIENCE: &str = "https://containerregistry.azure.net";

/// The well-known clouds, plus `custom` for Azure Stack, private clouds and the test fake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum CloudName {
    /// Public Azure.
    #[default]
    AzureCloud,
    /// Azure operated by 21Vianet in China.
    AzureChinaCloud,
    /// Azure US Government.
    AzureUSGovernment,
    /// Endpoints given by the user.
    #[serde(rename = "custom")]
    Custom,
}

impl CloudName {
    /// Parses a cloud name as `az cloud set` spells it (case-insensitive).
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "azurecloud" => Ok(Self::AzureCloud),
            "azurechinacloud" => Ok(Self::AzureChinaCloud),
            "azureusgovernment" => Ok(Self::AzureUSGovernment),
            "custom" => Ok(Self::Custom),
            _ => Err(Error::invalid_input(
                format!("unknown cloud {s:?}"),
                "use AzureCloud, AzureChinaCloud, AzureUSGovernment or custom",
            )),
        }
    }
}

impl fmt::Display for CloudName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AzureCloud => "AzureCloud",
            Self::AzureChinaCloud => "AzureChinaCloud",
            Self::AzureUSGovernment => "AzureUSGovernment",
            Self::Custom => "custom",
        })
    }
}

/// The `[cloud]` table of the settings file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CloudSettings {
    /// Which cloud.
    #[serde(default)]
    pub name: CloudName,
    /// Entra ID authority host (custom clouds only), e.g. `https://login.microsoftonline.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    /// ARM endpoint (custom clouds only); also the ARM token audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arm: Option<String>,
    /// ACR login-server suffix without the leading dot (custom clouds only), e.g. `azurecr.io`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr_suffix: Option<String>,
    /// ACR token audience (custom clouds only); defaults to [`ACR_AUDIENCE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr_audience: Option<String>,
    /// Extra CA certificates (PEM) to trust, e.g. a TLS-inspecting proxy's CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// The managed-identity endpoint (IMDS), for hosts that serve it elsewhere; the environment
    /// variable `ACR_TRAY_IMDS_ENDPOINT` overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imds_endpoint: Option<String>,
}

/// A resolved cloud: every endpoint and audience the engine needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cloud {
    /// Which cloud this is.
    pub name: CloudName,
    /// Entra ID authority host, no trailing slash.
    pub authority: Url,
    /// ARM endpoint, with a trailing slash.
    pub arm: Url,
    /// The resource ARM tokens are requested for (az's `active_directory_resource_id`).
    pub arm_audience: String,
    /// The ACR login-server suffix (host, and a port for test clouds).
    pub acr_suffix: HostPort,
    /// The ACR token audience.
    pub acr_audience: String,
    /// Extra CA certificates to trust.
    pub ca_file: Option<PathBuf>,
    /// The managed-identity endpoint, when not the standard one.
    pub imds_endpoint: Option<String>,
}

impl Cloud {
    /// Resolves the settings into endpoints, checking custom ones.
    pub fn from_settings(s: &CloudSettings) -> Result<Self> {
        if let Some(imds) = &s.imds_endpoint {
            let ok = Url::parse(imds).is_ok_and(|u| u.scheme() == "http" && u.host_str().is_some());
            if !ok {
                return Err(Error::invalid_input(
                    format!("--imds-endpoint {imds:?} is not an http:// URL"),
                    "give the managed-identity endpoint like http://169.254.169.254",
                ));
            }
        }
        let (authority, arm, arm_audience, suffix) = match s.name {
            CloudName::AzureCloud => (
                "https://login.microsoftonline.com",
                "https://management.azure.com/",
                "https://management.core.windows.net/",
                "azurecr.io",
            ),
            CloudName::AzureChinaCloud => (
                "https://login.chinacloudapi.cn",
                "https://management.chinacloudapi.cn/",
                "https://management.core.chinacloudapi.cn/",
                "azurecr.cn",
            ),
            CloudName::AzureUSGovernment => (
                "https://login.microsoftonline.us",
                "https://management.usgovcloudapi.net/",
                "https://management.core.usgovcloudapi.net/",
                "azurecr.us",
            ),
            CloudName::Custom => return Self::custom(s),
        };
        Ok(Self {
            name: s.name,
            authority: https_url("authority", authority)?,
            arm: https_url("arm", arm)?,
            arm_audience: arm_audience.to_owned(),
            acr_suffix: HostPort::parse_suffix(suffix)?,
            acr_audience: ACR_AUDIENCE.to_owned(),
            ca_file: s.ca_file.clone(),
            imds_endpoint: s.imds_endpoint.clone(),
        })
    }

    fn custom(s: &CloudSettings) -> Result<Self> {
        let missing = |what: &str| {
            Error::invalid_input(
                format!("a custom cloud needs {what}"),
                Hint::text("").run(Action::SetCustomCloud),
            )
        };
        let authority = https_url(
            "authority",
            s.authority
                .as_deref()
                .ok_or_else(|| missing("--authority"))?,
        )?;
        let mut arm = https_url("arm", s.arm.as_deref().ok_or_else(|| missing("--arm"))?)?;
        if !arm.path().ends_with('/') {
            let path = format!("{}/", arm.path());
            arm.set_path(&path);
        }
        let suffix = s
            .acr_suffix
            .as_deref()
            .ok_or_else(|| missing("--acr-suffix"))?;
        let acr_audience = match &s.acr_audience {
            Some(a) => https_url("acr-audience", a)?
                .as_str()
                .trim_end_matches('/')
                .to_owned(),
            None => ACR_AUDIENCE.to_owned(),
        };
        Ok(Self {
            name: CloudName::Custom,
            arm_audience: arm.to_string(),
            authority,
            arm,
            acr_suffix: HostPort::parse_suffix(suffix)?,
            acr_audience,
            ca_file: s.ca_file.clone(),
            imds_endpoint: s.imds_endpoint.clone(),
        })
    }

    /// The authority as identities are bound to it: the URL without a trailing slash.
    pub fn authority_id(&self) -> String {
        self.authority
            .as_str()
            .trim_end_matches('/')
            .to_ascii_lowercase()
    }

    /// The cloud, for messages (`AzureCloud (login.microsoftonline.com)`).
    pub fn describe(&self) -> String {
        describe(self.name, &self.authority_id())
    }

    /// The scope asking Entra ID for an ACR-audience token.
    pub fn acr_scope(&self) -> String {
        format!("{}/.default", self.acr_audience.trim_end_matches('/'))
    }

    /// The scope asking Entra ID for an ARM-audience token. Like az, the resource keeps its
    /// trailing slash, so public Azure's is `https://management.core.windows.net//.default`.
    pub fn arm_scope(&self) -> String {
        format!("{}/.default", self.arm_audience)
    }

    /// The scope for an audience.
    pub fn scope(&self, audience: Audience) -> String {
        match audience {
            Audience::Acr => self.acr_scope(),
            Audience::Arm => self.arm_scope(),
        }
    }
}

/// The cloud an identity signed in to, recorded with it at sign-in (`[identity.cloud]` in the
/// settings). Its secrets (client secret, refresh token, certificate assertion, federated
/// token) and the tokens it gets are used only while the configured cloud is this one: a
/// credential never goes to an authority or ARM endpoint other than the one it was given for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudBinding {
    /// The cloud's name.
    pub name: CloudName,
    /// The Entra ID authority, no trailing slash (`https://login.microsoftonline.com`).
    pub authority: String,
    /// The ARM endpoint, with a trailing slash.
    pub arm: String,
}

impl CloudBinding {
    /// The binding to this cloud.
    pub fn of(cloud: &Cloud) -> Self {
        Self {
            name: cloud.name,
            authority: cloud.authority_id(),
            arm: cloud.arm.as_str().to_owned(),
        }
    }

    /// Whether this is the binding to `cloud` (same name, authority and ARM endpoint).
    pub fn matches(&self, cloud: &Cloud) -> bool {
        *self == Self::of(cloud)
    }

    /// The authority, for messages (`login.microsoftonline.com (AzureCloud)`).
    pub fn describe(&self) -> String {
        describe(self.name, &self.authority)
    }
}

fn describe(name: CloudName, authority: &str) -> String {
    let host = authority.trim_start_matches("https://");
    match name {
        CloudName::Custom => format!("the custom cloud at {host}"),
        name => format!("{name} ({host})"),
    }
}

/// Which audience an Entra token for a registry exchange is minted for
/// (docs/protocol.md#acr-audience).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    /// `https://containerregistry.azure.net` — works even where a registry refuses ARM tokens.
    Acr,
    /// The ARM audience — for clouds whose Entra ID cannot mint ACR tokens.
    Arm,
}

impl Audience {
    /// The other audience, tried when this one does not work.
    pub fn other(self) -> Self {
        match self {
            Self::Acr => Self::Arm,
            Self::Arm => Self::Acr,
        }
    }
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Acr => "ACR",
            Self::Arm => "ARM",
        })
    }
}

fn https_url(what: &str, s: &str) -> Result<Url> {
    let url = Url::parse(s).map_err(|e| {
        Error::invalid_input(
            format!("--{what} {s:?} is not a URL: {e}"),
            "give a full https:// URL",
        )
    })?;
    if url.scheme() != "https" || url.host_str().is_none() {
        return Err(Error::invalid_input(
            format!("--{what} {s:?} must be an https:// URL"),
            "ACR Tray only talks to Azure over verified TLS",
        ));
    }
    let trimmed = if what == "authority" {
        s.trim_end_matches('/')
    } else {
        s
    };
    Url::parse(trimmed).map_err(|e| Error::invalid_input(format!("--{what}: {e}"), ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_cloud_scopes_match_az() {
        let c = Cloud::from_settings(&CloudSettings::default()).expect("cloud");
        assert_eq!(
            c.arm_scope(),
            "https://management.core.windows.net//.default"
        );
        assert_eq!(
            c.acr_scope(),
            "https://containerregistry.azure.net/.default"
        );
        assert_eq!(c.acr_suffix.to_string(), "azurecr.io");
        assert_eq!(c.authority.as_str(), "https://login.microsoftonline.com/");
    }

    #[test]
    fn sovereign_clouds_have_their_suffixes() {
        for (name, suffix, login) in [
            (
                CloudName::AzureChinaCloud,
                "azurecr.cn",
                "login.chinacloudapi.cn",
            ),
            (
                CloudName::AzureUSGovernment,
                "azurecr.us",
                "login.microsoftonline.us",
            ),
        ] {
            let c = Cloud::from_settings(&CloudSettings {
                name,
                ..Default::default()
            })
            .expect("cloud");
            assert_eq!(c.acr_suffix.to_string(), suffix);
            assert_eq!(c.authority.host_str(), Some(login));
        }
    }

    #[test]
    fn custom_cloud_needs_https_and_all_endpoints() {
        let mut s = CloudSettings {
            name: CloudName::Custom,
            authority: Some("https://login.localhost:8443/".into()),
            arm: Some("https://management.localhost:8443".into()),
            acr_suffix: Some(".AzureCR.localhost:8443".into()),
            ..Default::default()
        };
        let c = Cloud::from_settings(&s).expect("cloud");
        assert_eq!(c.arm.as_str(), "https://management.localhost:8443/");
        assert_eq!(c.arm_scope(), "https://management.localhost:8443//.default");
        assert_eq!(c.acr_suffix.to_string(), "azurecr.localhost:8443");
        s.authority = Some("http://login.localhost".into());
        let err = Cloud::from_settings(&s).expect_err("http refused");
        assert!(err.to_string().contains("https://"), "{err}");
        s.authority = None;
        assert!(Cloud::from_settings(&s).is_err());
    }

    #[test]
    fn cloud_names_parse_case_insensitively() {
        assert_eq!(
            CloudName::parse("azureusgovernment").expect("gov"),
            CloudName::AzureUSGovernment
        );
        assert!(CloudName::parse("mars").is_err());
    }
}
