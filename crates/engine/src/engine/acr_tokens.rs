//! Registries that sign in with an ACR token (scope maps, docs/protocol.md#acr-tokens): the
//! token's name is Docker's user name, and one of its passwords, given by the user, is kept
//! in the OS keyring under a key naming the cloud, the login server and the token. The
//! password is proven at the registry's `/oauth2/token` (Basic credentials, as `docker login`
//! does) before it is kept, and again with every refresh.

use crate::azure::acr;
use crate::engine::Engine;
use crate::engine::ops::AcrTokenSignIn;
use crate::error::{Error, ErrorKind, Result};
use crate::hint::{Action, Hint, SignInAs};
use crate::secret::Secret;
use crate::store::config::{RegistryAuth, RegistryConfig, SecretSource, valid_token_name};
use crate::store::secrets;

/// How a registry request that proves a token is named in errors.
const PROVING: &str = "checking the ACR token";

impl Engine {
    /// The keyring key of the registry's token password (`None` unless it signs in with a
    /// token).
    pub(crate) fn acr_token_key(&self, reg: &RegistryConfig) -> Option<String> {
        let token = reg.acr_token.as_deref()?;
        (reg.auth == RegistryAuth::AcrToken).then(|| {
            secrets::acr_token_password_key(
                &self.cloud().authority_id(),
                &reg.login_server.to_string(),
                token,
            )
        })
    }

    /// Checks the token's name and password with the registry, keeps the password in the
    /// keyring and sets the registry up for it. A refused password changes nothing.
    pub(super) async fn sign_in_acr_token(
        &self,
        registry: &mut RegistryConfig,
        sign_in: AcrTokenSignIn,
    ) -> Result<()> {
        let AcrTokenSignIn {
            token,
            password,
            password_name,
            identity,
        } = sign_in;
        if !valid_token_name(&token) {
            return Err(Error::invalid_input(
                format!("{token:?} is not an ACR token name"),
                Hint::text("token names are 5 to 50 letters, digits and hyphens (")
                    .with(Action::shell(format!(
                        "az acr token list -r {} -o table",
                        registry.name
                    )))
                    .then(")"),
            ));
        }
        if password.is_empty() {
            return Err(Error::invalid_input(
                "the token's password is empty",
                Hint::none()
                    .cli_note("pipe it into --password-stdin, e.g. ")
                    .with(Action::ChangeRegistrySignIn {
                        registry: registry.name.clone(),
                        to: SignInAs::AcrToken {
                            token: token.clone(),
                        },
                    }),
            ));
        }
        let identity = match identity {
            Some(id) => Some(self.pick_identity(Some(&id))?),
            None => None,
        };
        let allow = self.allow_list_for(registry);
        allow.check(registry.login_server.host())?;
        let http = &self.clients()?.http;
        let challenge = acr::challenge(http, &registry.login_server, &allow).await?;
        if !acr::basic_login_works(http, &challenge, &token, &password, PROVING).await? {
            return Err(Error::invalid_input(
                format!(
                    "{} refused the ACR token {token} with this password",
                    registry.login_server
                ),
                refused_hint(&registry.name, &token),
            ));
        }
        registry.auth = RegistryAuth::AcrToken;
        registry.acr_token = Some(token);
        registry.acr_token_password = password_name;
        registry.identity = identity;
        // The watching identity reads the token at the registry's tenant, when discovery
        // listed it in another tenant of the account.
        registry.tenant = self.discovered_tenant(registry);
        let key = self
            .acr_token_key(registry)
            .ok_or_else(|| Error::invalid_input("no ACR token to keep", ""))?;
        self.write_secret(&SecretSource::Keyring, &key, password)
            .await
    }

    /// Deletes the token passwords of the registries `registry` replaced, unless it keeps
    /// the same one: a password is kept only while a registry signs in with it.
    pub(super) fn forget_replaced_token_passwords(
        &self,
        replaced: &[RegistryConfig],
        registry: &RegistryConfig,
    ) {
        let kept = self.acr_token_key(registry);
        for old in replaced {
            let Some(key) = self.acr_token_key(old).filter(|k| Some(k) != kept.as_ref()) else {
                continue;
            };
            if let Err(e) = self.secret_store().delete(&key) {
                tracing::warn!(registry = %old.name, error = %e, "could not delete the replaced ACR token's password from the keyring");
            }
        }
    }

    /// The token's name and password for Docker, the password read from the keyring and
    /// proven at the registry (an expired or regenerated password, or a disabled token, is
    /// said at once instead of being written for Docker to fail with).
    pub(crate) async fn acr_token_credential(
        &self,
        reg: &RegistryConfig,
    ) -> Result<(String, Secret)> {
        let token = reg.acr_token.clone().unwrap_or_default();
        let again = Action::ChangeRegistrySignIn {
            registry: reg.name.clone(),
            to: SignInAs::AcrToken {
                token: token.clone(),
            },
        };
        let key = self
            .acr_token_key(reg)
            .ok_or_else(|| Error::invalid_input(format!("{} has no ACR token", reg.name), ""))?;
        let password = self
            .read_secret(&token, &SecretSource::Keyring, &key)
            .await
            .map_err(|e| {
                e.with_secret_hint(|| {
                    Hint::text("give the token's password again with ").with(again.clone())
                })
            })?;
        let http = &self.clients()?.http;
        let challenge = acr::challenge(http, &reg.login_server, &self.allow_list()).await?;
        if !acr::basic_login_works(http, &challenge, &token, &password, PROVING).await? {
            return Err(Error::Registry {
                registry: reg.login_server.to_string(),
                message: format!(
                    "the registry refused the ACR token {token}: its password expired or was regenerated, or the token was disabled"
                ),
                kind: ErrorKind::Permission,
                hint: refused_hint(&reg.name, &token)
                    .then("; then give it with ")
                    .with(again),
            });
        }
        Ok((token, password))
    }
}

/// What to do when the registry refuses a token's password.
fn refused_hint(registry: &str, token: &str) -> Hint {
    Hint::text("check the token (")
        .with(Action::shell(format!(
            "az acr token show -r {registry} -n {token}"
        )))
        .then(") or generate a new password (")
        .with(Action::shell(format!(
            "az acr token credential generate -r {registry} -n {token} --password1"
        )))
        .then(")")
}
