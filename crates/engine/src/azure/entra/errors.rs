//! Entra's error bodies and how ACR Tray treats them (docs/protocol.md#entra-errors).

use oauth2::RequestTokenError;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{EntraError, Error, ErrorKind};
use crate::hint::{Action, Hint, SignInMethod};
use crate::secret::redact_url;
use crate::text;

/// Why an HTTP exchange for `oauth2` failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpFailure {
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

/// Entra's error body.
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
    /// The description's first line (or else the code), on one line and without control
    /// characters: it is shown to the user.
    fn first_line(&self) -> String {
        self.error_description
            .as_deref()
            .and_then(|d| d.lines().next())
            .map(text::server_text)
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| text::server_text(&self.error))
    }

    /// The AADSTS numbers, from `error_codes` or else from the description's `AADSTS<n>:`.
    fn codes(&self) -> Vec<u32> {
        if !self.error_codes.is_empty() {
            return self.error_codes.clone();
        }
        self.error_description
            .as_deref()
            .and_then(|d| d.strip_prefix("AADSTS"))
            .and_then(|rest| rest.split(':').next())
            .and_then(|n| n.parse().ok())
            .into_iter()
            .collect()
    }
}

/// AADSTS codes meaning the user must sign in interactively again
/// (docs/protocol.md#entra-errors).
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

/// What the error is about, for messages and hints.
pub(crate) struct ErrorContext<'a> {
    pub(crate) identity: &'a str,
    pub(crate) tenant: &'a str,
    pub(crate) client_id: &'a str,
    pub(crate) url: &'a Url,
    /// A person signs in (browser or device code), not an app.
    pub(crate) interactive: bool,
}

impl ErrorContext<'_> {
    /// Turns an `oauth2` error into ours.
    pub(crate) fn convert<TE>(&self, err: RequestTokenError<HttpFailure, TE>) -> Error
    where
        TE: oauth2::ErrorResponse + 'static,
    {
        let network = |detail: String, retry_after: Option<u64>| Error::Network {
            what: "token request to Entra ID".to_owned(),
            url: redact_url(self.url.as_str()),
            detail,
            retry_after,
        };
        match err {
            RequestTokenError::ServerResponse(resp) => {
                // Entra's body has more than the standard fields; read it as Entra's.
                match serde_json::to_value(&resp)
                    .and_then(serde_json::from_value::<EntraErrorResponse>)
                {
                    Ok(entra) => self.entra(&entra, None, None),
                    Err(_) => network(
                        format!(
                            "unexpected error answer: {}",
                            text::server_text(&resp.to_string())
                        ),
                        None,
                    ),
                }
            }
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

    /// An Entra error answer.
    pub(crate) fn entra(
        &self,
        resp: &EntraErrorResponse,
        kind: Option<ErrorKind>,
        retry_after: Option<u64>,
    ) -> Error {
        let aadsts = resp.codes();
        let kind = kind.unwrap_or_else(|| classify(&resp.error, &aadsts));
        Error::Entra(Box::new(EntraError {
            identity: self.identity.to_owned(),
            code: text::server_text(&resp.error),
            hint: self.hint(&aadsts, kind),
            aadsts,
            description: resp.first_line(),
            kind,
            retry_after,
        }))
    }

    fn hint(&self, codes: &[u32], kind: ErrorKind) -> Hint {
        let (tenant, client) = (self.tenant, self.client_id);
        let has = |c: u32| codes.contains(&c);
        let sign_in = || Action::sign_in(self.identity);
        if has(7000215) || has(7000222) {
            Hint::text(format!(
                "the client secret of app {client} is wrong or expired: create a new one (e.g. "
            ))
            .with(Action::shell(format!(
                "az ad app credential reset --id {client}"
            )))
            .then(") and sign in again with ")
            .with(Action::sign_in_with(
                Some(self.identity),
                SignInMethod::ServicePrincipalSecret {
                    tenant: Some(tenant.to_owned()),
                    client_id: Some(client.to_owned()),
                },
            ))
        } else if has(700027) {
            Hint::text(format!(
                "the certificate's key does not match a certificate of app {client}: upload the certificate to the app registration ("
            ))
            .with(Action::shell(format!(
                "az ad app credential reset --id {client} --cert @cert.pem --append"
            )))
            .then(") or choose the right PEM file")
            .cli_note(" with --certificate")
        } else if has(700024) {
            "the client assertion is outside its valid time window: check this machine's clock"
                .into()
        } else if has(70021) || has(700211) || has(700213) {
            format!(
                "no federated credential of app {client} matches this token's issuer, subject and audience (api://AzureADTokenExchange): check the app's federated credentials"
            ).into()
        } else if has(700016) {
            format!("no app {client} exists in tenant {tenant}: check --client-id and --tenant")
                .into()
        } else if has(90002) {
            format!("tenant {tenant} was not found: check --tenant (its GUID or a verified domain)")
                .into()
        } else if has(500011) || has(50001) {
            Hint::text(
                "this cloud's Entra ID cannot issue tokens for that resource; check the cloud's audiences (",
            )
            .with(Action::ShowCloud)
            .then(")")
        } else if has(70043) {
            Hint::text(format!(
                "your organisation's sign-in frequency policy ended the session of {}: sign in again with ",
                self.identity
            ))
            .with(sign_in())
        } else {
            match kind {
                ErrorKind::SignInRequired if self.interactive => Hint::text("sign in again: ")
                    .with(sign_in())
                    .cli_note(" (add --device-code without a browser)")
                    .then(format!(" for {}", self.identity)),
                ErrorKind::SignInRequired => {
                    Hint::text(format!("sign {} in again with ", self.identity)).with(sign_in())
                }
                ErrorKind::Permission => {
                    "an Entra ID policy blocks this sign-in; ask your Entra ID administrator".into()
                }
                ErrorKind::Transient => "Entra ID is having trouble; ACR Tray tries again".into(),
                _ => match codes.first() {
                    Some(code) => format!(
                        "see https://login.microsoftonline.com/error?code={code} for what this code means"
                    )
                    .into(),
                    None => "check the identity's settings".into(),
                },
            }
        }
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

    fn ctx(url: &Url) -> ErrorContext<'_> {
        ErrorContext {
            identity: "app",
            tenant: "t",
            client_id: "c",
            url,
            interactive: false,
        }
    }

    #[test]
    fn wrong_secret_hint_says_what_to_run() {
        let url = Url::parse("https://login.example/t/oauth2/v2.0/token").expect("url");
        let err = ctx(&url).entra(
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
            err.hint()
                .expect("hint")
                .plain()
                .contains("ServicePrincipalSecret")
        );
    }

    #[test]
    fn codes_come_from_the_description_when_the_list_is_missing() {
        let url = Url::parse("https://login.example/t").expect("url");
        let err = ctx(&url).entra(
            &EntraErrorResponse {
                error: "invalid_grant".into(),
                error_description: Some("AADSTS70043: The refresh token has expired".into()),
                error_codes: vec![],
                suberror: None,
            },
            None,
            None,
        );
        let Error::Entra(e) = &err else {
            panic!("{err}")
        };
        assert_eq!(e.aadsts, vec![70043]);
        assert!(
            err.hint()
                .expect("hint")
                .plain()
                .contains("sign-in frequency")
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn explained(resp: &EntraErrorResponse) -> Error {
            let url = Url::parse("https://login.example/t/oauth2/v2.0/token")
                .unwrap_or_else(|_| unreachable!());
            let err = ctx(&url).entra(resp, None, None);
            let _ = (err.to_string(), err.hint(), err.kind());
            err
        }

        proptest! {
            #![proptest_config(crate::proptest_config(512))]

            #[test]
            fn any_error_body_is_read_or_refused(body in proptest::collection::vec(any::<u8>(), 0..300)) {
                if let Ok(resp) = serde_json::from_slice::<EntraErrorResponse>(&body) {
                    explained(&resp);
                }
            }

            #[test]
            fn hostile_error_bodies(
                error in ".{0,30}",
                number in any::<u64>(),
                tail in ".{0,60}",
                description in proptest::option::of(".{0,80}"),
                codes in proptest::collection::vec(any::<u32>(), 0..4),
                with_prefix in any::<bool>(),
            ) {
                let description = if with_prefix {
                    Some(format!("AADSTS{number}:{tail}\r\nTrace ID: x"))
                } else {
                    description
                };
                let body = serde_json::json!({
                    "error": error, "error_description": description, "error_codes": codes,
                    "timestamp": "2024-01-01", "trace_id": tail,
                });
                let resp = serde_json::from_slice::<EntraErrorResponse>(body.to_string().as_bytes());
                prop_assert!(resp.is_ok());
                let Ok(resp) = resp else { unreachable!() };
                let Error::Entra(e) = explained(&resp) else { unreachable!() };
                // The codes are the list when there is one, else the description's number
                // when it is one.
                let expected: Vec<u32> = if !codes.is_empty() {
                    codes
                } else if with_prefix {
                    u32::try_from(number).ok().into_iter().collect()
                } else {
                    e.aadsts.clone()
                };
                prop_assert_eq!(&e.aadsts, &expected);
                prop_assert!(!e.description.contains('\n'));
            }
        }
    }
}
