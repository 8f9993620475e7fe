//! Checking the credential Docker holds for a registry, as Docker would use it: read it from
//! the store Docker reads (docs/protocol.md#docker-store), ask the registry's realm for a token
//! with it (docs/protocol.md#acr-token, docs/protocol.md#acr-basic-login), and either call
//! `/v2/` with that token (what `docker login` proves) or report what the token's `access`
//! claim grants on one repository (docs/protocol.md#acr-token-claims).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::azure::acr::{self, AccessToken, TokenCredential};
use crate::azure::jwt;
use crate::docker::helper::Helper;
use crate::docker::{CredentialStore, DockerConfig, ZERO_GUID};
use crate::engine::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::hint::{Action, Hint};
use crate::secret::Secret;
use crate::store::token_store::TokenStore;

/// The longest repository name ACR Tray asks about (distribution allows 255 characters in a
/// whole reference's name).
const MAX_REPOSITORY: usize = 256;

/// The actions asked for on a repository.
const ASKED: &str = "pull,push,delete";

/// Where Docker finds the credential that was checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CredentialSource {
    /// The `auths` map of config.json.
    ConfigFile,
    /// A credential helper `docker-credential-<helper>`.
    Helper {
        /// The helper's name.
        helper: String,
        /// What chose it: `credHelpers`, `credsStore` or `default`.
        key: String,
    },
    /// ACR Tray's own helper, answering from ACR Tray's cache.
    AcrTray {
        /// What chose it: `credHelpers` or `credsStore`.
        key: String,
    },
}

impl CredentialSource {
    fn of(store: &CredentialStore) -> Self {
        match store {
            CredentialStore::File => Self::ConfigFile,
            CredentialStore::Helper { helper, key } => Self::Helper {
                helper: helper.clone(),
                key: (*key).to_owned(),
            },
            CredentialStore::AcrTray { key } => Self::AcrTray {
                key: (*key).to_owned(),
            },
        }
    }

    /// In words: `config.json "auths"`, `docker-credential-desktop (credsStore)`, ...
    pub fn describe(&self) -> String {
        match self {
            Self::ConfigFile => "config.json \"auths\"".to_owned(),
            Self::Helper { helper, key } => format!("docker-credential-{helper} ({key})"),
            Self::AcrTray { key } => format!("docker-credential-acr-tray ({key})"),
        }
    }
}

/// An action on a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum RepositoryAction {
    /// Pull images.
    Pull,
    /// Push images.
    Push,
    /// Delete images.
    Delete,
}

impl RepositoryAction {
    /// Its name in a scope.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pull => "pull",
            Self::Push => "push",
            Self::Delete => "delete",
        }
    }
}

/// What a check found: Docker's credential authenticates at the registry, and (with a
/// repository) what it may do there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct CheckReport {
    /// The registry's short name.
    pub name: String,
    /// Its login server.
    pub login_server: String,
    /// Where Docker found the credential.
    pub source: CredentialSource,
    /// The credential's user name (the zero GUID for an ACR token; an admin or token user
    /// otherwise). Never the secret.
    pub username: String,
    /// The registry accepted the credential.
    pub authenticated: bool,
    /// The repository asked about, if any.
    pub repository: Option<String>,
    /// What the registry granted on it (of pull, push and delete); empty without a repository.
    pub granted: Vec<RepositoryAction>,
    /// When the credential runs out (`None`: a password that does not, or a token whose
    /// expiry is not readable).
    pub expires_at: Option<DateTime<Utc>>,
    /// What to do about what was not granted, in the app's words (filled by the view layer
    /// from [`CheckReport::advice`]).
    pub hint: Option<String>,
    /// What to do about what was not granted: on a registry with repository permissions
    /// (ABAC), the Entra repository role to ask for (AcrPull and AcrPush are not honoured
    /// there). Each shell renders it in its own words.
    #[serde(skip)]
    #[cfg_attr(test, ts(skip))]
    pub advice: Option<Hint>,
}

/// The credential Docker would present, and how.
struct Held {
    source: CredentialSource,
    username: String,
    credential: TokenCredential,
    expires_at: Option<DateTime<Utc>>,
}

impl Engine {
    /// Checks the credential Docker now holds for a configured registry: without a
    /// repository, that it gets a token and `/v2/` accepts it; with one, which of pull, push
    /// and delete the registry grants on it.
    pub async fn check(&self, name: &str, repository: Option<&str>) -> Result<CheckReport> {
        let reg = self.settings.registry(name)?.clone();
        if let Some(repo) = repository {
            check_repository_name(repo)?;
        }
        let login_server = reg.login_server.to_string();
        let held = self.held_credential(&reg.name, &login_server).await?;
        let now = self.clock.now();
        if let Some(exp) = held.expires_at.filter(|exp| *exp <= now) {
            return Err(Error::Registry {
                registry: login_server,
                message: format!(
                    "the credential Docker holds (in {}) expired at {}",
                    held.source.describe(),
                    exp.format("%Y-%m-%d %H:%M UTC")
                ),
                kind: ErrorKind::SignInRequired,
                hint: Hint::text("")
                    .with(Action::RefreshNow)
                    .then(" writes a fresh one"),
            });
        }
        let http = &self.clients()?.http;
        let challenge = acr::challenge(http, &reg.login_server, &self.allow_list()).await?;
        let scope = repository.map(|r| format!("repository:{r}:{ASKED}"));
        let answer = acr::access_token(
            http,
            &login_server,
            &challenge,
            &held.credential,
            scope.as_deref(),
        )
        .await?;
        let token = match answer {
            AccessToken::Issued(token) => token,
            AccessToken::Refused { message } => {
                return Err(refused(&login_server, &held, &message));
            }
        };
        let granted = match repository {
            Some(repo) => granted(&token, repo),
            None => {
                if !acr::v2_accepts(http, &reg.login_server, &token).await? {
                    return Err(refused(&login_server, &held, "/v2/ refused the token"));
                }
                Vec::new()
            }
        };
        let advice = match repository {
            Some(repo) if held.username == ZERO_GUID => {
                self.repository_role_advice(&reg, &login_server, repo, &granted)
            }
            _ => None,
        };
        tracing::info!(registry = %login_server, source = %held.source.describe(), repository = ?repository, granted = ?granted, "checked Docker's credential");
        Ok(CheckReport {
            name: reg.name.clone(),
            login_server,
            source: held.source,
            username: held.username,
            authenticated: true,
            repository: repository.map(str::to_owned),
            granted,
            expires_at: held.expires_at,
            hint: None,
            advice,
        })
    }

    /// On a registry with repository permissions (ABAC, as ARM said when last read), what
    /// the identity should ask for when pull or push was not granted on `repo`: the Entra
    /// repository role, limited to the repository by a condition.
    fn repository_role_advice(
        &self,
        reg: &crate::store::config::RegistryConfig,
        login_server: &str,
        repo: &str,
        granted: &[RepositoryAction],
    ) -> Option<Hint> {
        use crate::hint::{ROLE_REPOSITORY_READER, ROLE_REPOSITORY_WRITER};
        let identity = reg.identity.as_deref()?;
        let state = crate::store::state::State::load(&self.paths.state_file());
        let admin = state.registries.get(login_server)?.admin.clone()?;
        if !admin.role_assignment_mode?.is_abac() {
            return None;
        }
        let (role, to) = if !granted.contains(&RepositoryAction::Pull) {
            (ROLE_REPOSITORY_READER, "pull from")
        } else if !granted.contains(&RepositoryAction::Push) {
            (ROLE_REPOSITORY_WRITER, "push to")
        } else {
            return None;
        };
        let scope = admin
            .arm_id
            .as_ref()
            .map_or("<registry id>", |id| id.as_str())
            .to_owned();
        Some(
            Hint::text(format!(
                "{login_server} uses repository permissions (ABAC): AcrPull and AcrPush are not honoured there. To {to} {repo}, ask for {role} for {identity}, limited to it by the condition @Request[Microsoft.ContainerRegistry/registries/repositories:name] StringEqualsIgnoreCase '{repo}' (or registry-wide without one), e.g. "
            ))
            .with(Action::shell(format!(
                "az role assignment create --assignee {identity} --role \"{role}\" --scope {scope}"
            )))
            .then(" with that condition"),
        )
    }

    /// The credential Docker would find for the registry, the way Docker finds it.
    async fn held_credential(&self, name: &str, login_server: &str) -> Result<Held> {
        let path = self.docker_config_path()?;
        let config = DockerConfig::load(&path)?;
        let store = config.store_for(login_server, &self.env);
        let source = CredentialSource::of(&store);
        let missing = || Error::Registry {
            registry: login_server.to_owned(),
            message: format!(
                "Docker holds no credential for it in {} (Docker's config: {})",
                source.describe(),
                path.display()
            ),
            kind: ErrorKind::SignInRequired,
            hint: Hint::text("")
                .with(Action::RefreshNow)
                .then(format!(" writes one for {name}")),
        };
        let (username, secret, identity_token, expires_at) = match &store {
            CredentialStore::File => {
                let entry = config.entry(login_server).ok_or_else(missing)?;
                match entry.identity_token.filter(|t| !t.is_empty()) {
                    Some(token) => (entry.username, token, true, None),
                    None => (entry.username, entry.password, false, None),
                }
            }
            CredentialStore::Helper { helper, .. } => {
                let helper = Helper::find(helper, &self.env)?;
                let server = login_server.to_owned();
                let got = tokio::task::spawn_blocking(move || helper.get(&server))
                    .await
                    .map_err(|e| {
                        Error::invalid_input(format!("the credential helper stopped: {e}"), "")
                    })??
                    .ok_or_else(missing)?;
                let secret = got.secret();
                if got.username == "<token>" {
                    (ZERO_GUID.to_owned(), secret, true, None)
                } else {
                    (got.username, secret, false, None)
                }
            }
            CredentialStore::AcrTray { .. } => {
                let cache = TokenStore::new(self.secrets.as_ref(), self.paths.token_file());
                let cached = cache.get(login_server)?.ok_or_else(missing)?;
                let identity = cached.username == ZERO_GUID
                    && self.settings.docker.entry_form == crate::docker::EntryForm::IdentityToken;
                (cached.username, cached.secret, identity, cached.expires_at)
            }
        };
        if secret.is_empty() {
            return Err(missing());
        }
        // An ACR token says when it runs out; a password does not.
        let expires_at = expires_at.or_else(|| {
            (username == ZERO_GUID)
                .then(|| jwt::decode_claims(secret.expose()))
                .flatten()
                .and_then(|c| c.expires_at())
        });
        let credential = if identity_token {
            TokenCredential::RefreshToken(secret)
        } else {
            TokenCredential::Basic {
                username: username.clone(),
                password: secret,
            }
        };
        Ok(Held {
            source,
            username,
            credential,
            expires_at,
        })
    }
}

/// A repository name as distribution defines it: lowercase letters, digits and the separators
/// `.`, `_`, `-` and `/`. Anything else could change the scope asked for.
fn check_repository_name(repo: &str) -> Result<()> {
    let ok = !repo.is_empty()
        && repo.len() <= MAX_REPOSITORY
        && repo.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-' | '/')
        });
    if ok {
        Ok(())
    } else {
        let shown: String = repo
            .chars()
            .take(64)
            .flat_map(char::escape_default)
            .collect();
        Err(Error::invalid_input(
            format!("\"{shown}\" is not a repository name"),
            "name a repository as Docker does, e.g. team/app (lowercase letters, digits, '.', '_', '-' and '/'; no tag)",
        ))
    }
}

/// The actions of pull, push and delete that the access token grants on `repo` (read without
/// verifying: the registry verifies its own tokens).
fn granted(token: &Secret, repo: &str) -> Vec<RepositoryAction> {
    let access = jwt::decode_claims(token.expose())
        .and_then(|c| c.access)
        .unwrap_or_default();
    let mut out: Vec<RepositoryAction> = Vec::new();
    for entry in access
        .iter()
        .filter(|a| a.kind == "repository" && a.name == repo)
    {
        for action in &entry.actions {
            let found: &[RepositoryAction] = match action.as_str() {
                "*" => &[
                    RepositoryAction::Pull,
                    RepositoryAction::Push,
                    RepositoryAction::Delete,
                ],
                "pull" => &[RepositoryAction::Pull],
                "push" => &[RepositoryAction::Push],
                "delete" => &[RepositoryAction::Delete],
                _ => &[],
            };
            out.extend(found);
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The registry refused Docker's credential.
fn refused(login_server: &str, held: &Held, message: &str) -> Error {
    let secret = match &held.credential {
        TokenCredential::Basic { password, .. } => password,
        TokenCredential::RefreshToken(token) => token,
    };
    // A registry that echoes the credential back does not get it shown.
    let message = if !secret.is_empty() && message.contains(secret.expose()) {
        "[the registry's message held the credential; not shown]".to_owned()
    } else {
        message.to_owned()
    };
    let said = if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    };
    let hint = if held.username == ZERO_GUID {
        Hint::text("")
            .with(Action::RefreshNow)
            .then(" writes a fresh token; if the registry refuses that too, the identity has lost its role on the registry")
    } else {
        Hint::text("the password may have been regenerated or the token disabled; ")
            .with(Action::RefreshNow)
            .then(" writes the current one")
    };
    Error::Registry {
        registry: login_server.to_owned(),
        message: format!(
            "the registry refused the credential Docker holds (in {}){said}",
            held.source.describe()
        ),
        kind: ErrorKind::SignInRequired,
        hint,
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    fn token(payload: &serde_json::Value) -> Secret {
        Secret::new(format!(
            "eyJhbGciOiJSUzI1NiJ9.{}.sig",
            URL_SAFE_NO_PAD.encode(payload.to_string())
        ))
    }

    #[test]
    fn granted_reads_only_the_repository_asked_about() {
        let t = token(&serde_json::json!({"access": [
            {"type": "repository", "name": "other", "actions": ["push", "delete"]},
            {"type": "repository", "name": "app", "actions": ["pull", "metadata_read", "pull", "\u{1b}[31m"]},
            {"type": "registry", "name": "app", "actions": ["*"]},
        ]}));
        assert_eq!(granted(&t, "app"), vec![RepositoryAction::Pull]);
        let all = token(
            &serde_json::json!({"access": [{"type": "repository", "name": "app", "actions": ["*"]}]}),
        );
        assert_eq!(
            granted(&all, "app"),
            vec![
                RepositoryAction::Pull,
                RepositoryAction::Push,
                RepositoryAction::Delete
            ]
        );
        assert!(granted(&Secret::new("opaque".to_owned()), "app").is_empty());
        let wrong_shape = token(&serde_json::json!({"access": "everything"}));
        assert!(granted(&wrong_shape, "app").is_empty());
    }

    #[test]
    fn repository_names_that_would_change_the_scope_are_refused() {
        for ok in ["app", "team/app", "a.b_c-d/e"] {
            assert!(check_repository_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "App",
            "app:latest",
            "app pull",
            "a,b",
            "a\nb",
            &"a".repeat(300),
        ] {
            assert!(check_repository_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_message_echoing_the_credential_is_not_shown() {
        let held = Held {
            source: CredentialSource::ConfigFile,
            username: "admin".to_owned(),
            credential: TokenCredential::Basic {
                username: "admin".to_owned(),
                password: Secret::new("hunter2-password".to_owned()),
            },
            expires_at: None,
        };
        let e = refused("r.azurecr.io", &held, "bad password hunter2-password");
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert_eq!(e.kind(), ErrorKind::SignInRequired);
    }
}
