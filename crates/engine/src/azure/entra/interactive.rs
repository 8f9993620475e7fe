//! A person's sign-in: authorization code + PKCE through the system browser with a loopback
//! redirect (what `az login` does), or the device-code flow for machines without a browser
//! (docs/protocol.md#entra-auth-code, docs/protocol.md#entra-device-code).

use std::time::Duration;

use oauth2::{
    AuthUrl, AuthorizationCode, CsrfToken, DeviceAuthorizationUrl, PkceCodeChallenge, RedirectUrl,
    Scope,
};
use oauth2::{DeviceAuthorizationResponse, ExtraDeviceAuthorizationFields};
use serde::{Deserialize, Serialize};

use crate::azure::entra::{EntraClient, OAuthHttp, UserTokens, context, user_tokens};
use crate::browser::{self, BrowserOpener};
use crate::error::{Error, ErrorKind, Result};
use crate::hint::{Action, Hint, SignInMethod};
use crate::{limits, text};

/// Scopes a user sign-in asks for besides the resource: a refresh token and an ID token.
const SESSION_SCOPES: [&str; 3] = ["offline_access", "openid", "profile"];

/// What the user must do to finish a device-code sign-in.
#[derive(Debug, Clone)]
pub struct DeviceCodePrompt {
    /// The code to type.
    pub user_code: String,
    /// Where to type it (as the server sent it).
    pub verification_uri: String,
    /// Entra's own instruction text.
    pub message: Option<String>,
    /// How long the code is valid.
    pub expires_in: Duration,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct EntraDeviceFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

impl ExtraDeviceAuthorizationFields for EntraDeviceFields {}

type DeviceAnswer = DeviceAuthorizationResponse<EntraDeviceFields>;

/// Who is signing in where.
#[derive(Debug, Clone, Copy)]
pub struct SignInRequest<'a> {
    /// `organizations` or a tenant.
    pub tenant: &'a str,
    /// The public client id.
    pub client_id: &'a str,
    /// The resource scope (e.g. ARM's `/.default`).
    pub scope: &'a str,
}

impl SignInRequest<'_> {
    fn scopes(&self) -> impl Iterator<Item = Scope> + '_ {
        std::iter::once(self.scope)
            .chain(SESSION_SCOPES)
            .map(|s| Scope::new(s.to_owned()))
    }
}

/// Device-code sign-in: shows the code through `show`, then polls at the server's interval
/// (`slow_down` adds 5 s) until the user finishes, declines, or the code expires.
pub async fn device_code(
    entra: &EntraClient,
    req: SignInRequest<'_>,
    show: impl FnOnce(&DeviceCodePrompt),
) -> Result<UserTokens> {
    let url = entra.endpoint(req.tenant, "devicecode")?;
    let token_url = entra.token_url(req.tenant)?;
    let client = entra
        .oauth_client(req.tenant, req.client_id)?
        .set_device_authorization_url(DeviceAuthorizationUrl::from_url(url.clone()));
    let http = OAuthHttp(entra.http.clone());
    let ctx = context(req.client_id, req.tenant, req.client_id, &url, true);
    let details: DeviceAnswer = client
        .exchange_device_code()
        .add_scopes(req.scopes())
        .request_async(&http)
        .await
        .map_err(|e| ctx.convert(e))?;
    let details = bounded(details)?;
    show(&DeviceCodePrompt {
        user_code: text::server_text(details.user_code().secret()),
        verification_uri: details.verification_uri().to_string(),
        message: details
            .extra_fields()
            .message
            .as_deref()
            .map(text::server_text),
        expires_in: details.expires_in(),
    });
    let ctx = context(req.client_id, req.tenant, req.client_id, &token_url, true);
    let result = client
        .exchange_device_access_token(&details)
        .request_async(&http, tokio::time::sleep, None)
        .await;
    match result {
        Ok(resp) => Ok(user_tokens(&resp, entra.now())),
        Err(e) => Err(explain_interactive(
            ctx.convert(e),
            SignInMethod::DeviceCode,
        )),
    }
}

/// The device code's answer with its lifetime and polling interval bounded
/// ([`limits::device_code_lifetime`], [`limits::device_code_interval`]): the polling loop
/// then neither waits for ever, nor polls in a tight loop, nor overflows adding `slow_down`'s
/// five seconds.
fn bounded(details: DeviceAnswer) -> Result<DeviceAnswer> {
    let lifetime = limits::device_code_lifetime(details.expires_in());
    let interval = limits::device_code_interval(details.interval());
    if lifetime == details.expires_in() && interval == details.interval() {
        return Ok(details);
    }
    // The parser's words could quote the device code: not shown.
    let unusable = |_: serde_json::Error| {
        sign_in_failed_device("Entra ID's device code answer cannot be used".to_owned())
    };
    let mut value = serde_json::to_value(&details).map_err(unusable)?;
    if let Some(fields) = value.as_object_mut() {
        fields.insert("expires_in".to_owned(), lifetime.as_secs().into());
        fields.insert("interval".to_owned(), interval.as_secs().into());
    }
    serde_json::from_value(value).map_err(unusable)
}

fn sign_in_failed_device(message: String) -> Error {
    Error::SignIn {
        message,
        hint: Hint::text("")
            .run(Action::sign_in_with(None, SignInMethod::DeviceCode))
            .then(" again"),
    }
}

/// Browser sign-in: authorization code with PKCE (S256), a loopback redirect on an ephemeral
/// port, `state` checked. `show_url` receives the URL (to print it in case no browser opens).
pub async fn browser(
    entra: &EntraClient,
    req: SignInRequest<'_>,
    opener: &dyn BrowserOpener,
    timeout: Duration,
    show_url: impl FnOnce(&str),
) -> Result<UserTokens> {
    let listener = browser::Loopback::bind().await?;
    // Entra ignores the port of `http://localhost` redirect URIs (RFC 8252 §7.3), so the one
    // registered for the Azure CLI's client works with any ephemeral port.
    let redirect = format!("http://localhost:{}", listener.port());
    let auth_url = AuthUrl::from_url(entra.endpoint(req.tenant, "authorize")?);
    let token_url = entra.token_url(req.tenant)?;
    let redirect_url = RedirectUrl::new(redirect)
        .map_err(|e| Error::invalid_input(format!("bad redirect URL: {e}"), ""))?;
    let client = entra
        .oauth_client(req.tenant, req.client_id)?
        .set_auth_uri(auth_url)
        .set_redirect_uri(redirect_url);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(req.scopes())
        .set_pkce_challenge(challenge)
        .add_extra_param("response_mode", "query")
        .add_extra_param("prompt", "select_account")
        .url();
    show_url(url.as_str());
    if let Err(e) = opener.open(url.as_str()) {
        tracing::warn!(error = %e, "could not open a browser; waiting for the URL to be opened by hand");
    }
    let code = listener.wait_for_code(state.secret(), timeout).await?;
    let scope: Vec<String> = req.scopes().map(|s| s.to_string()).collect();
    let ctx = context(req.client_id, req.tenant, req.client_id, &token_url, true);
    let result = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .add_extra_param("scope", scope.join(" "))
        .request_async(&OAuthHttp(entra.http.clone()))
        .await;
    match result {
        Ok(resp) => Ok(user_tokens(&resp, entra.now())),
        Err(e) => Err(explain_interactive(ctx.convert(e), SignInMethod::Again)),
    }
}

/// Gives the device-code and browser failures a hint a person can act on.
fn explain_interactive(err: Error, method: SignInMethod) -> Error {
    let Error::Entra(mut e) = err else { return err };
    let retry = |before: &str| {
        Hint::text(before)
            .run(Action::sign_in_with(None, method.clone()))
            .then(" again")
    };
    let hint = match e.code.as_str() {
        "expired_token" => Some(retry("the code expired before the sign-in was finished: ")),
        "authorization_declined" | "access_denied" => {
            Some(retry("the sign-in was declined in the browser: ").then(" to try again"))
        }
        "bad_verification_code" => Some(retry("Entra ID did not recognise the device code: ")),
        _ => None,
    };
    if let Some(hint) = hint {
        e.hint = hint;
        e.kind = ErrorKind::SignInRequired;
    }
    Error::Entra(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(expires_in: u64, interval: u64) -> DeviceAnswer {
        serde_json::from_value(serde_json::json!({
            "device_code": "DAQABIQ",
            "user_code": "ABCD1234",
            "verification_uri": "https://login.example/device",
            "expires_in": expires_in,
            "interval": interval,
            "message": "Enter the code ABCD1234",
        }))
        .expect("answer")
    }

    #[test]
    fn device_code_timing_from_the_server_is_bounded() {
        let fine = bounded(answer(900, 5)).expect("bounded");
        assert_eq!(fine.expires_in(), Duration::from_secs(900));
        assert_eq!(fine.interval(), Duration::from_secs(5));
        let absurd = bounded(answer(u64::MAX, u64::MAX)).expect("bounded");
        assert_eq!(absurd.expires_in(), limits::DEVICE_CODE_LIFETIME_MAX);
        assert_eq!(absurd.interval(), limits::DEVICE_CODE_INTERVAL_MAX);
        // `slow_down` adds five seconds to the interval: no overflow now.
        assert!(
            absurd
                .interval()
                .checked_add(Duration::from_secs(5))
                .is_some()
        );
        let zero = bounded(answer(900, 0)).expect("bounded");
        assert_eq!(zero.interval(), limits::DEVICE_CODE_INTERVAL_DEFAULT);
        // The rest of the answer is kept.
        assert_eq!(absurd.user_code().secret(), "ABCD1234");
        assert_eq!(absurd.device_code().secret(), "DAQABIQ");
        assert_eq!(
            absurd.extra_fields().message.as_deref(),
            Some("Enter the code ABCD1234")
        );
    }
}
