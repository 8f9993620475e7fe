//! Registry names, login servers, and the allow-list that decides where Entra tokens may go.
//!
//! An Entra token is sent only to a login server whose host ends with `.` + the cloud's ACR
//! suffix, or to a host the user added explicitly as a trusted custom domain. The check is
//! anchored at the end and on a label boundary, so `evil.azurecr.io.attacker.com` and
//! `azurecr.io.evil` never receive a token (the unanchored-regex bug of some peers).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A lower-case host name with an optional port, e.g. `myreg.azurecr.io` or
/// `myreg.azurecr.localhost:8443`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HostPort {
    host: String,
    port: Option<u16>,
}

impl HostPort {
    /// Parses `host[:port]`, also accepting a leading `https://` and a trailing `/` (as people
    /// paste login servers from the portal).
    pub fn parse(input: &str) -> Result<Self> {
        let trimmed = input.trim();
        let s = trimmed
            .strip_prefix("https://")
            .unwrap_or(trimmed)
            .trim_end_matches('/');
        let bad = |why: &str| {
            Error::invalid_input(
                format!("{input:?} is not a valid login server: {why}"),
                "give a registry name like `myregistry` or a login server like `myregistry.azurecr.io`",
            )
        };
        if s.contains("://") || s.contains('/') || s.contains('@') {
            return Err(bad("expected a host name, not a URL with a path"));
        }
        let (host, port) = match s.rsplit_once(':') {
            Some((h, p)) => {
                let port = p
                    .parse::<u16>()
                    .map_err(|_| bad("the port is not a number"))?;
                (h, Some(port))
            }
            None => (s, None),
        };
        let host = host.to_ascii_lowercase();
        let valid_label = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        if host.is_empty() || host.len() > 253 || !host.split('.').all(valid_label) {
            return Err(bad("the host name is malformed"));
        }
        Ok(Self { host, port })
    }

    /// Parses a cloud's ACR suffix (`azurecr.io`, `.azurecr.io`, `azurecr.localhost:8443`).
    pub fn parse_suffix(input: &str) -> Result<Self> {
        Self::parse(input.trim().trim_start_matches('.')).map_err(|_| {
            Error::invalid_input(
                format!("{input:?} is not a valid ACR login-server suffix"),
                "give a suffix like azurecr.io",
            )
        })
    }

    /// The host, lower case.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, if one was given.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// Whether this host is a registry host under `suffix`: it ends with `.` + the suffix's host,
    /// with at least one label in front. Ports do not matter: they do not change who owns a name.
    pub fn is_under(&self, suffix: &HostPort) -> bool {
        self.host
            .strip_suffix(suffix.host.as_str())
            .and_then(|front| front.strip_suffix('.'))
            .is_some_and(|front| !front.is_empty())
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(p) => write!(f, "{}:{p}", self.host),
            None => f.write_str(&self.host),
        }
    }
}

impl TryFrom<String> for HostPort {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::parse(&s)
    }
}

impl From<HostPort> for String {
    fn from(h: HostPort) -> Self {
        h.to_string()
    }
}

/// What the user typed for `registry add`, resolved against the cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryAddress {
    /// The short name used on the command line (`myreg`, or the whole host for custom domains).
    pub name: String,
    /// Where Docker and ACR Tray reach it.
    pub login_server: HostPort,
    /// Whether it is outside the cloud's suffix and was trusted explicitly.
    pub custom_domain: bool,
}

/// Checks an ACR registry name: 5 to 50 letters and digits (the ACR naming rule).
pub fn validate_acr_name(name: &str) -> Result<()> {
    let ok = (5..=50).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(
            format!(
                "{name:?} is not a valid registry name: ACR names are 5 to 50 letters and digits"
            ),
            "give the registry's name (e.g. `myregistry`) or its full login server (e.g. `myregistry.azurecr.io`)",
        ))
    }
}

/// Resolves a registry name or login server. A bare name becomes `<name>.<suffix>`; a host
/// outside the suffix is refused unless `trust_custom_domain` is set.
pub fn resolve_registry(
    input: &str,
    suffix: &HostPort,
    trust_custom_domain: bool,
) -> Result<RegistryAddress> {
    let trimmed = input.trim();
    if !trimmed.contains('.') && !trimmed.contains(':') && !trimmed.contains('/') {
        validate_acr_name(trimmed)?;
        let name = trimmed.to_ascii_lowercase();
        let login_server = HostPort::parse(&format!("{name}.{suffix}"))?;
        return Ok(RegistryAddress {
            name,
            login_server,
            custom_domain: false,
        });
    }
    let login_server = HostPort::parse(trimmed)?;
    if login_server.is_under(suffix) {
        let name = login_server
            .host()
            .split('.')
            .next()
            .unwrap_or_default()
            .to_owned();
        return Ok(RegistryAddress {
            name,
            login_server,
            custom_domain: false,
        });
    }
    if !trust_custom_domain {
        return Err(Error::HostNotAllowed {
            host: login_server.host().to_owned(),
            suffix: suffix.host().to_owned(),
        });
    }
    Ok(RegistryAddress {
        name: login_server.host().to_owned(),
        login_server,
        custom_domain: true,
    })
}

/// The hosts Entra tokens may be sent to: the cloud's ACR suffix plus the custom domains the
/// user trusted explicitly. Checked before every request that carries a token.
#[derive(Debug, Clone)]
pub struct TokenAllowList {
    suffix: HostPort,
    trusted: Vec<String>,
}

impl TokenAllowList {
    /// An allow-list for a cloud suffix and some explicitly trusted hosts.
    pub fn new(suffix: HostPort, trusted: impl IntoIterator<Item = String>) -> Self {
        Self {
            suffix,
            trusted: trusted
                .into_iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
        }
    }

    /// Refuses a host that may not receive Entra tokens.
    pub fn check(&self, host: &str) -> Result<()> {
        let host = host.to_ascii_lowercase();
        let allowed = HostPort::parse(&host).is_ok_and(|h| h.is_under(&self.suffix))
            || self.trusted.contains(&host);
        if allowed {
            Ok(())
        } else {
            Err(Error::HostNotAllowed {
                host,
                suffix: self.suffix.host().to_owned(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suffix() -> HostPort {
        HostPort::parse_suffix("azurecr.io").expect("suffix")
    }

    #[test]
    fn bare_names_get_the_suffix() {
        let r = resolve_registry("MyRegistry1", &suffix(), false).expect("name");
        assert_eq!(r.name, "myregistry1");
        assert_eq!(r.login_server.to_string(), "myregistry1.azurecr.io");
        let with_port = HostPort::parse_suffix(".azurecr.localhost:9443").expect("suffix");
        let r = resolve_registry("myreg", &with_port, false).expect("name");
        assert_eq!(r.login_server.to_string(), "myreg.azurecr.localhost:9443");
    }

    #[test]
    fn acr_name_rules() {
        for bad in ["abcd", "my-registry", "my_reg", &"a".repeat(51)] {
            assert!(resolve_registry(bad, &suffix(), false).is_err(), "{bad}");
        }
        assert!(resolve_registry(&"a".repeat(50), &suffix(), false).is_ok());
    }

    #[test]
    fn login_servers_are_normalised() {
        let r = resolve_registry("https://MyReg.azurecr.io/", &suffix(), false).expect("url");
        assert_eq!(r.name, "myreg");
        assert_eq!(r.login_server.to_string(), "myreg.azurecr.io");
        assert!(!r.custom_domain);
    }

    #[test]
    fn look_alike_hosts_are_refused() {
        for evil in [
            "evil.azurecr.io.attacker.com",
            "azurecr.io.evil",
            "azurecr.io",
            "evilazurecr.io",
            ".azurecr.io",
            "x.azurecr.io/evil",
            "user@x.azurecr.io",
        ] {
            let err = resolve_registry(evil, &suffix(), false).expect_err(evil);
            let allow = TokenAllowList::new(suffix(), []);
            assert!(allow.check(evil).is_err(), "{evil} allowed: {err}");
        }
    }

    #[test]
    fn custom_domains_need_explicit_trust() {
        let err = resolve_registry("registry.contoso.com", &suffix(), false).expect_err("refused");
        assert!(matches!(err, Error::HostNotAllowed { .. }));
        let r = resolve_registry("registry.contoso.com", &suffix(), true).expect("trusted");
        assert!(r.custom_domain);
        let allow = TokenAllowList::new(suffix(), ["Registry.Contoso.com".to_owned()]);
        assert!(allow.check("registry.contoso.com").is_ok());
        assert!(allow.check("other.contoso.com").is_err());
        assert!(allow.check("a.azurecr.io").is_ok());
    }
}
