//! Reading the claims of a JWT without verifying it.
//!
//! The engine never trusts a token's contents for security decisions: it only reads `exp` (to
//! know when an ACR refresh token runs out — the token decides, not an assumed 3 hours) and `tid`
//! (the tenant GUID the exchange wants). Signature checks are the servers' business.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::limits;

/// The claims ACR Tray reads.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Claims {
    /// Expiry, seconds since the epoch.
    pub exp: Option<i64>,
    /// Tenant id of an Entra token.
    pub tid: Option<String>,
    /// Object id of the Entra principal.
    pub oid: Option<String>,
    /// A user's sign-in name (ID tokens).
    pub preferred_username: Option<String>,
    /// A user's UPN (v1 access tokens).
    pub upn: Option<String>,
    /// Older UPN claim.
    pub unique_name: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// What an ACR refresh token allows (docs/protocol.md#acr-token-claims,
    /// docs/protocol.md#roles).
    pub permissions: Option<Permissions>,
    /// What an ACR access token grants (docs/protocol.md#acr-token-claims).
    pub access: Option<Vec<AccessClaim>>,
}

/// One entry of an ACR access token's `access` claim.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AccessClaim {
    /// `repository`, `registry`, ...
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The repository's name (or `catalog`).
    #[serde(default)]
    pub name: String,
    /// The granted actions (`pull`, `push`, `delete`, `*`, ...).
    #[serde(default)]
    pub actions: Vec<String>,
}

/// The `permissions` claim of an ACR refresh token.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Permissions {
    /// `*`, or some of `read`, `write`, `delete`.
    #[serde(default)]
    pub actions: Vec<String>,
}

impl Claims {
    /// The user's sign-in name, from whichever claim carries it.
    pub fn username(&self) -> Option<&str> {
        self.preferred_username
            .as_deref()
            .or(self.upn.as_deref())
            .or(self.unique_name.as_deref())
    }

    /// The expiry as a time, kept between 1970 and the year 9999 ([`limits::instant`]).
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        limits::instant(self.exp?)
    }
}

/// Decodes the payload of a compact JWS; `None` if it is not one.
pub fn decode_claims(token: &str) -> Option<Claims> {
    let mut parts = token.split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        format!(
            "eyJhbGciOiJSUzI1NiJ9.{}.sig",
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[test]
    fn reads_exp_and_tid() {
        let c =
            decode_claims(&jwt(r#"{"exp":1700000000,"tid":"t-1","other":[1]}"#)).expect("claims");
        assert_eq!(c.exp, Some(1_700_000_000));
        assert_eq!(c.tid.as_deref(), Some("t-1"));
        assert_eq!(c.expires_at().map(|t| t.timestamp()), Some(1_700_000_000));
    }

    #[test]
    fn garbage_is_none() {
        assert!(decode_claims("opaque-token").is_none());
        assert!(decode_claims("a.b.c.d").is_none());
        assert!(decode_claims("a.!!!.c").is_none());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(crate::proptest_config(512))]

            #[test]
            fn any_token_is_decoded_or_refused(token in any::<String>()) {
                if let Some(c) = decode_claims(&token) {
                    let _ = (c.expires_at(), c.username());
                }
            }

            #[test]
            fn any_payload_is_decoded_or_refused(payload in proptest::collection::vec(any::<u8>(), 0..200)) {
                let token = format!("h.{}.s", URL_SAFE_NO_PAD.encode(&payload));
                if let Some(c) = decode_claims(&token) {
                    let _ = (c.expires_at(), c.username());
                }
            }

            /// Claims written into a token are read back as they were, whatever their values.
            #[test]
            fn claims_round_trip(
                exp in any::<i64>(),
                tid in ".{0,40}",
                upn in proptest::option::of(".{0,40}"),
                actions in proptest::collection::vec(".{0,8}", 0..4),
                padded in any::<bool>(),
            ) {
                let payload = serde_json::json!({
                    "exp": exp, "tid": tid, "upn": upn, "permissions": {"actions": actions},
                    "unknown": {"nested": [1, "x", null]},
                });
                let mut encoded = URL_SAFE_NO_PAD.encode(payload.to_string());
                if padded {
                    // Some issuers pad; the decoder accepts it.
                    while !encoded.len().is_multiple_of(4) {
                        encoded.push('=');
                    }
                }
                let c = decode_claims(&format!("eyJhbGciOiJSUzI1NiJ9.{encoded}.sig"));
                prop_assert!(c.is_some());
                let c = c.unwrap_or_default();
                prop_assert_eq!(c.exp, Some(exp));
                prop_assert_eq!(c.tid.clone(), Some(tid));
                prop_assert_eq!(c.upn.clone(), upn);
                prop_assert_eq!(c.permissions.as_ref().map(|p| p.actions.clone()), Some(actions));
                // The expiry as a time is kept between 1970 and the end of year 9999.
                prop_assert_eq!(c.expires_at().map(|t| t.timestamp()), Some(exp.clamp(0, crate::limits::LATEST_SECS)));
            }
        }
    }
}
