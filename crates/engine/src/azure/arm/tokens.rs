//! An ACR token as ARM describes it (docs/protocol.md#acr-tokens): `GET {registry
//! id}/tokens/{name}` — its status and its passwords' expiry, never a password's value.

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::Deserialize;

use super::{Arm, network};
use crate::azure::resource_id::RegistryId;
use crate::azure::scope_map::{TokenPassword, valid_token_name};
use crate::error::{Error, Result};

/// At most this many passwords are read from a token (ACR has two).
const MAX_PASSWORDS: usize = 8;

/// What ACR Tray reads of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcrTokenInfo {
    /// `status`: `Some(true)` enabled, `Some(false)` disabled, `None` absent or unknown.
    pub enabled: Option<bool>,
    /// Its passwords (`password1`, `password2`), each with its expiry if it has one.
    pub passwords: Vec<TokenPasswordExpiry>,
}

/// One password's expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPasswordExpiry {
    /// Which.
    pub name: TokenPassword,
    /// When it expires (`None`: never, or a value that could not be read).
    pub expiry: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    properties: Properties,
}

#[derive(Deserialize, Default)]
struct Properties {
    #[serde(default)]
    status: Option<serde_json::Value>,
    #[serde(default)]
    credentials: Option<Credentials>,
}

#[derive(Deserialize, Default)]
struct Credentials {
    #[serde(default)]
    passwords: Option<Vec<serde_json::Value>>,
}

impl AcrTokenInfo {
    /// Reads ARM's answer. Anything unexpected in a field leaves that field unknown (logged),
    /// never the whole answer: a malformed body is an error, a strange value is not.
    pub fn parse(body: &[u8]) -> std::result::Result<Self, String> {
        let body: Body =
            serde_json::from_slice(body).map_err(|e| format!("malformed answer ({e})"))?;
        let enabled = match body.properties.status.as_ref().and_then(|s| s.as_str()) {
            Some(s) if s.eq_ignore_ascii_case("enabled") => Some(true),
            Some(s) if s.eq_ignore_ascii_case("disabled") => Some(false),
            _ => None,
        };
        let listed = body
            .properties
            .credentials
            .and_then(|c| c.passwords)
            .unwrap_or_default();
        let mut passwords: Vec<TokenPasswordExpiry> = Vec::new();
        for p in listed.iter().take(MAX_PASSWORDS) {
            let Some(name) = p
                .get("name")
                .and_then(|n| n.as_str())
                .and_then(TokenPassword::parse)
            else {
                continue;
            };
            if passwords.iter().any(|known| known.name == name) {
                continue;
            }
            let expiry = match p.get("expiry") {
                None | Some(serde_json::Value::Null) => None,
                Some(v) => {
                    let parsed = v
                        .as_str()
                        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                        .map(|t| t.with_timezone(&Utc));
                    if parsed.is_none() {
                        tracing::info!(password = %name, "ACR token watch: ARM gave an expiry that is not a date; that password's expiry is not watched");
                    }
                    parsed
                }
            };
            passwords.push(TokenPasswordExpiry { name, expiry });
        }
        Ok(Self { enabled, passwords })
    }
}

impl Arm<'_> {
    /// `GET {registry id}/tokens/{name}` with the stable registry API version.
    pub async fn get_acr_token(
        &self,
        registry_id: &RegistryId,
        token: &str,
    ) -> Result<AcrTokenInfo> {
        if !valid_token_name(token) {
            return Err(Error::invalid_input(
                format!("{token:?} is not an ACR token name"),
                "token names are 5 to 50 letters, digits and hyphens",
            ));
        }
        let url = self.resource_url(registry_id, &format!("/tokens/{token}"))?;
        let (_, body) = self
            .send(Method::GET, &url, None, registry_id.name())
            .await?;
        AcrTokenInfo::parse(&body).map_err(|why| network(&url, why, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_status_and_expiries_and_survives_strange_values() {
        let body = br#"{"properties":{"status":"disabled","credentials":{"passwords":[
            {"name":"password1","creationTime":"2026-01-01T00:00:00Z","expiry":"2026-12-19T10:00:00.1234567Z"},
            {"name":"password2"},
            {"name":"password1","expiry":"2020-01-01T00:00:00Z"},
            {"name":"password9","expiry":"2026-12-19T10:00:00Z"},
            {"name":7}
        ]}}}"#;
        let info = AcrTokenInfo::parse(body).unwrap();
        assert_eq!(info.enabled, Some(false));
        assert_eq!(info.passwords.len(), 2, "{info:?}");
        assert_eq!(info.passwords[0].name, TokenPassword::Password1);
        assert_eq!(
            info.passwords[0].expiry.map(|t| t.to_rfc3339()),
            Some("2026-12-19T10:00:00.123456700+00:00".to_owned())
        );
        assert_eq!(info.passwords[1].expiry, None);

        for (body, enabled) in [
            (&br#"{"properties":{"status":"enabled","credentials":{"passwords":[{"name":"password2","expiry":"next tuesday"}]}}}"#[..], Some(true)),
            (&br#"{"properties":{"status":42,"credentials":{"passwords":[{"name":"password2","expiry":17}]}}}"#[..], None),
        ] {
            let info = AcrTokenInfo::parse(body).unwrap();
            assert_eq!(info.enabled, enabled);
            assert_eq!(
                info.passwords,
                vec![TokenPasswordExpiry {
                    name: TokenPassword::Password2,
                    expiry: None
                }]
            );
        }
        assert_eq!(AcrTokenInfo::parse(b"{}").unwrap().passwords, Vec::new());
        assert!(AcrTokenInfo::parse(b"{\"properties\": [").is_err());
        assert!(AcrTokenInfo::parse(b"null").is_err());
    }
}
