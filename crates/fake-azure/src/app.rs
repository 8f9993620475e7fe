//! State shared by every request handler, host routing, and Entra token verification (used by
//! both ACR and ARM).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::faults::FaultSet;
use crate::jwt::{SigningKey, VerifyError};
use crate::log::LoggedRequest;
use crate::state::{Clock, Directory};
use crate::{Service, lock};

/// The ARM audiences accepted everywhere (besides the fake's own ARM URL).
pub(crate) const ARM_AUDIENCES: [&str; 2] = [
    "https://management.core.windows.net/",
    "https://management.azure.com/",
];
/// The ACR audience.
pub(crate) const ACR_AUDIENCE: &str = "https://containerregistry.azure.net";
/// Microsoft Graph (so the usual `User.Read`-style scopes resolve).
pub(crate) const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";

pub(crate) struct Shared {
    pub(crate) base_domain: String,
    pub(crate) port: u16,
    pub(crate) entra_key: SigningKey,
    pub(crate) acr_key: SigningKey,
    pub(crate) dir: Mutex<Directory>,
    pub(crate) clock: Clock,
    pub(crate) faults: Mutex<FaultSet>,
    pub(crate) log: Mutex<Vec<LoggedRequest>>,
    pub(crate) latency: Mutex<Duration>,
    /// Signing keys of external OIDC issuers (federated credentials), by issuer URL.
    pub(crate) issuers: Mutex<HashMap<String, Arc<SigningKey>>>,
    /// The IMDS listener's port (plain HTTP on 127.0.0.1).
    pub(crate) imds_port: u16,
    /// Issue refresh tokens as long as the real services' ([`crate::FakeAzure::set_long_tokens`]).
    pub(crate) long_tokens: std::sync::atomic::AtomicBool,
}

impl Shared {
    /// Whether refresh tokens are issued at the real services' lengths.
    pub(crate) fn long_tokens(&self) -> bool {
        self.long_tokens.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Where a request goes.
#[derive(Debug, Clone)]
pub(crate) enum Route {
    Entra,
    Arm,
    /// A known registry: its lower-case name.
    Acr(String),
    /// A registry-looking host with no registry behind it.
    UnknownRegistry,
    /// The IMDS listener (any host).
    Imds,
    Unknown,
}

impl Route {
    pub(crate) fn service(&self) -> Service {
        match self {
            Route::Entra => Service::Entra,
            Route::Arm => Service::Arm,
            Route::Acr(_) | Route::UnknownRegistry => Service::Acr,
            Route::Imds => Service::Imds,
            Route::Unknown => Service::Unknown,
        }
    }
}

/// The ACR request context handed to the ACR router as a request extension.
#[derive(Debug, Clone)]
pub(crate) struct AcrCtx {
    /// Lower-case registry name.
    pub(crate) registry: String,
    /// Login server `host:port` (the `service` and token `aud`).
    pub(crate) login_server: String,
}

/// A verified Entra access token.
#[derive(Debug, Clone)]
pub(crate) struct EntraToken {
    pub(crate) aud: String,
    pub(crate) tid: String,
    pub(crate) oid: String,
    /// UPN for users, app ID for service principals.
    pub(crate) subject_name: String,
}

/// Why an Entra token was refused.
#[derive(Debug, Clone)]
pub(crate) enum TokenProblem {
    Invalid(String),
    Expired { exp: i64 },
}

impl Shared {
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub(crate) fn login_host(&self) -> String {
        format!("login.{}", self.base_domain)
    }

    pub(crate) fn arm_host(&self) -> String {
        format!("management.{}", self.base_domain)
    }

    pub(crate) fn acr_suffix_host(&self) -> String {
        format!("azurecr.{}", self.base_domain)
    }

    /// `https://login.<base>:PORT`
    pub(crate) fn authority(&self) -> String {
        format!("https://{}:{}", self.login_host(), self.port)
    }

    /// `https://management.<base>:PORT/`
    pub(crate) fn arm_url(&self) -> String {
        format!("https://{}:{}/", self.arm_host(), self.port)
    }

    /// Maps a `Host` (lower case, port stripped) to a service.
    pub(crate) fn route(&self, host: &str) -> Route {
        if host == self.login_host() {
            return Route::Entra;
        }
        if host == self.arm_host() {
            return Route::Arm;
        }
        let dir = lock(&self.dir);
        if let Some(reg) = dir.registry_by_host(host) {
            return Route::Acr(reg.spec.name.to_ascii_lowercase());
        }
        let suffix = format!(".{}", self.acr_suffix_host());
        if host.strip_suffix(&suffix).is_some_and(|l| !l.contains('.')) {
            return Route::UnknownRegistry;
        }
        Route::Unknown
    }

    pub(crate) fn is_arm_audience(&self, aud: &str) -> bool {
        let aud = aud.trim_end_matches('/');
        let own = self.arm_url();
        ARM_AUDIENCES
            .iter()
            .chain(std::iter::once(&own.as_str()))
            .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(aud))
    }

    pub(crate) fn is_acr_audience(aud: &str) -> bool {
        aud.trim_end_matches('/').eq_ignore_ascii_case(ACR_AUDIENCE)
    }

    /// Resources Entra will mint tokens for.
    pub(crate) fn is_known_resource(&self, resource: &str) -> bool {
        self.is_arm_audience(resource)
            || Self::is_acr_audience(resource)
            || resource.trim_end_matches('/') == GRAPH_AUDIENCE
    }

    /// Verifies an Entra access token's signature and expiry (fake clock).
    pub(crate) fn verify_entra(&self, token: &str) -> Result<EntraToken, TokenProblem> {
        let claims = self
            .entra_key
            .verify(token)
            .map_err(|VerifyError::Invalid(e)| TokenProblem::Invalid(e))?;
        let text = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_owned);
        let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
        if exp <= self.now().timestamp() {
            return Err(TokenProblem::Expired { exp });
        }
        let missing = |k: &str| TokenProblem::Invalid(format!("claim '{k}' missing"));
        Ok(EntraToken {
            aud: text("aud").ok_or_else(|| missing("aud"))?,
            tid: text("tid").ok_or_else(|| missing("tid"))?,
            oid: text("oid").ok_or_else(|| missing("oid"))?,
            subject_name: text("upn").or_else(|| text("appid")).unwrap_or_default(),
        })
    }

    pub(crate) fn sign_entra(&self, claims: &Map<String, Value>) -> anyhow::Result<String> {
        self.entra_key.sign_entra(claims)
    }
}

/// A random opaque string (base64url of `bytes` random bytes).
pub(crate) fn random_token(bytes: usize) -> String {
    let data: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    URL_SAFE_NO_PAD.encode(data)
}
