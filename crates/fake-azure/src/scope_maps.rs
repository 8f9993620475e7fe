//! ACR scope maps and tokens (`az acr scope-map`, `az acr token`): the test controls, ARM's
//! `registries/{r}/scopeMaps[/{m}]` and `registries/{r}/tokens[/{t}]` reads, and the data-plane
//! login with `TOKEN_NAME:password` (docs/protocol.md#acr-tokens).

use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::app::{EntraToken, Shared, random_token};
use crate::arm::PROVIDER;
use crate::arm_admin::{RegistryPath, with_registry};
use crate::state::{RegistryRec, RepositoryCondition, RepositoryGrants, Role};
use crate::{FakeAzure, errors, lock};

/// One of a token's two passwords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordName {
    /// `password1`.
    Password1,
    /// `password2`.
    Password2,
}

impl PasswordName {
    fn index(self) -> usize {
        match self {
            Self::Password1 => 0,
            Self::Password2 => 1,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Password1 => "password1",
            Self::Password2 => "password2",
        }
    }
}

/// A token as created by [`FakeAzure::add_acr_token`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcrToken {
    /// Lower-case registry name.
    pub registry: String,
    /// The token's name: the user name of `docker login`.
    pub name: String,
    /// ARM resource ID.
    pub id: String,
    /// ARM resource ID of its scope map.
    pub scope_map_id: String,
    /// `password1` and `password2` (the values `generateCredentials` would hand out once).
    pub passwords: [String; 2],
}

#[derive(Debug, Clone)]
pub(crate) struct ScopeMapRec {
    pub(crate) name: String,
    pub(crate) actions: Vec<String>,
    pub(crate) created: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub(crate) struct TokenRec {
    pub(crate) name: String,
    /// Lower-case scope-map name.
    pub(crate) scope_map: String,
    pub(crate) enabled: bool,
    pub(crate) created: DateTime<Utc>,
    pub(crate) passwords: [PasswordRec; 2],
}

#[derive(Debug, Clone)]
pub(crate) struct PasswordRec {
    pub(crate) value: String,
    pub(crate) created: DateTime<Utc>,
    pub(crate) expiry: Option<DateTime<Utc>>,
}

fn arm_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The docker actions of a scope-map action `repositories/{repo}/{content|metadata}/{op}` and
/// the repositories it covers (`repo/*` = every repository under `repo/`, `*` = all).
fn parse_action(action: &str) -> Option<(&'static str, Option<RepositoryCondition>)> {
    let rest = action.strip_prefix("repositories/")?;
    let (rest, op) = rest.rsplit_once('/')?;
    let (repo, kind) = rest.rsplit_once('/')?;
    let docker = match (kind, op) {
        ("content", "read") => "pull",
        ("content", "write") => "push",
        ("content", "delete") => "delete",
        ("metadata", "read") => "metadata_read",
        ("metadata", "write") => "metadata_write",
        _ => return None,
    };
    let condition = match repo {
        "" => return None,
        "*" => None,
        _ => match repo.strip_suffix('*') {
            Some(prefix) => Some(RepositoryCondition::StartsWith(prefix.to_owned())),
            None => Some(RepositoryCondition::Equals(repo.to_owned())),
        },
    };
    Some((docker, condition))
}

fn scope_map_grants(map: &ScopeMapRec) -> RepositoryGrants {
    RepositoryGrants {
        rules: map
            .actions
            .iter()
            .filter_map(|a| parse_action(a))
            .map(|(action, condition)| (vec![action], condition))
            .collect(),
        catalog: false,
    }
}

/// Why a token login failed (all answered with ACR's 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginRefused {
    Disabled,
    WrongPassword,
    Expired,
}

/// `TOKEN_NAME:password` on this registry: `None` when no token has that name; else the
/// scope map's grants, or why not (disabled token, unknown or expired password).
pub(crate) fn basic_login(
    reg: &RegistryRec,
    user: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Option<Result<RepositoryGrants, LoginRefused>> {
    let token = reg.tokens.get(&user.to_ascii_lowercase())?;
    if !token.enabled {
        return Some(Err(LoginRefused::Disabled));
    }
    let Some(matched) = token.passwords.iter().find(|p| p.value == password) else {
        return Some(Err(LoginRefused::WrongPassword));
    };
    if matched.expiry.is_some_and(|expiry| expiry <= now) {
        return Some(Err(LoginRefused::Expired));
    }
    let grants = reg
        .scope_maps
        .get(&token.scope_map)
        .map(scope_map_grants)
        .unwrap_or_default();
    Some(Ok(grants))
}

fn child_id(reg: &RegistryRec, kind: &str, name: &str) -> String {
    format!("{}/{kind}/{name}", reg.public.id)
}

fn scope_map_json(reg: &RegistryRec, map: &ScopeMapRec) -> Value {
    json!({
        "id": child_id(reg, "scopeMaps", &map.name),
        "name": map.name,
        "type": format!("{PROVIDER}/registries/scopeMaps"),
        "properties": {
            "description": "",
            "type": "UserDefined",
            "creationDate": arm_time(map.created),
            "provisioningState": "Succeeded",
            "actions": map.actions,
        },
    })
}

fn token_json(reg: &RegistryRec, token: &TokenRec) -> Value {
    let map_name = reg
        .scope_maps
        .get(&token.scope_map)
        .map(|m| m.name.clone())
        .unwrap_or_else(|| token.scope_map.clone());
    let passwords: Vec<Value> = [PasswordName::Password1, PasswordName::Password2]
        .iter()
        .map(|name| {
            let p = &token.passwords[name.index()];
            let mut entry = json!({"creationTime": arm_time(p.created), "name": name.as_str()});
            if let Some(expiry) = p.expiry {
                entry["expiry"] = json!(arm_time(expiry));
            }
            entry
        })
        .collect();
    json!({
        "id": child_id(reg, "tokens", &token.name),
        "name": token.name,
        "type": format!("{PROVIDER}/registries/tokens"),
        "properties": {
            "creationDate": arm_time(token.created),
            "provisioningState": "Succeeded",
            "scopeMapId": child_id(reg, "scopeMaps", &map_name),
            "credentials": {"certificates": [], "passwords": passwords},
            "status": if token.enabled { "enabled" } else { "disabled" },
        },
    })
}

fn child_not_found(path: &RegistryPath<'_>, kind: &str, name: &str) -> Response {
    errors::arm(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        &format!(
            "The Resource '{PROVIDER}/registries/{}/{kind}/{name}' under resource group '{}' was \
             not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            path.name, path.rg
        ),
    )
}

/// `GET .../registries/{r}/tokens[/{t}]` and `.../scopeMaps[/{m}]` (Reader, Contributor or
/// Owner: `registries/tokens/read`, `registries/scopeMaps/read`). `kind` is the lower-case
/// path segment.
pub(crate) fn arm_get(
    s: &Shared,
    token: &EntraToken,
    path: &RegistryPath<'_>,
    kind: &str,
    name: Option<&str>,
) -> Response {
    let (segment, action) = if kind == "tokens" {
        ("tokens", "tokens/read")
    } else {
        ("scopeMaps", "scopeMaps/read")
    };
    with_registry(s, token, path, action, Role::arm_read, |reg| {
        let items: Vec<(String, Value)> = if kind == "tokens" {
            reg.tokens
                .iter()
                .map(|(k, t)| (k.clone(), token_json(reg, t)))
                .collect()
        } else {
            reg.scope_maps
                .iter()
                .map(|(k, m)| (k.clone(), scope_map_json(reg, m)))
                .collect()
        };
        match name {
            None => errors::json_ok(json!({
                "value": items.into_iter().map(|(_, v)| v).collect::<Vec<_>>()
            })),
            Some(name) => {
                let key = name.to_ascii_lowercase();
                match items.into_iter().find(|(k, _)| *k == key) {
                    Some((_, value)) => errors::json_ok(value),
                    None => child_not_found(path, segment, name),
                }
            }
        }
    })
}

impl FakeAzure {
    /// A scope map on a registry with actions like `repositories/app/content/read`,
    /// `repositories/app/content/write`, `repositories/app/content/delete`,
    /// `repositories/app/metadata/read|write`, or `repositories/team/*/content/read` for every
    /// repository under `team/`. Returns its ARM ID (empty when the registry does not exist).
    pub fn add_scope_map(&self, registry_name: &str, name: &str, actions: &[&str]) -> String {
        let now = self.inner.shared.now();
        let mut dir = lock(&self.inner.shared.dir);
        let Some(reg) = dir.registries.get_mut(&registry_name.to_ascii_lowercase()) else {
            return String::new();
        };
        let map = ScopeMapRec {
            name: name.to_owned(),
            actions: actions.iter().map(|a| (*a).to_owned()).collect(),
            created: now,
        };
        let id = child_id(reg, "scopeMaps", name);
        reg.scope_maps.insert(name.to_ascii_lowercase(), map);
        id
    }

    /// A token bound to a scope map: enabled, with `password1` and `password2` and no expiry
    /// (see [`Self::set_acr_token_password_expiry`]). `None` when the registry does not exist.
    pub fn add_acr_token(
        &self,
        registry_name: &str,
        name: &str,
        scope_map: &str,
    ) -> Option<AcrToken> {
        let now = self.inner.shared.now();
        let mut dir = lock(&self.inner.shared.dir);
        let reg = dir
            .registries
            .get_mut(&registry_name.to_ascii_lowercase())?;
        let password = || PasswordRec {
            value: random_token(32),
            created: now,
            expiry: None,
        };
        let rec = TokenRec {
            name: name.to_owned(),
            scope_map: scope_map.to_ascii_lowercase(),
            enabled: true,
            created: now,
            passwords: [password(), password()],
        };
        let token = AcrToken {
            registry: registry_name.to_ascii_lowercase(),
            name: name.to_owned(),
            id: child_id(reg, "tokens", name),
            scope_map_id: child_id(reg, "scopeMaps", scope_map),
            passwords: [
                rec.passwords[0].value.clone(),
                rec.passwords[1].value.clone(),
            ],
        };
        reg.tokens.insert(name.to_ascii_lowercase(), rec);
        Some(token)
    }

    /// Sets (or clears) when one of a token's passwords expires (fake clock): from then on
    /// that password is refused; ARM shows it as `credentials.passwords[].expiry`.
    pub fn set_acr_token_password_expiry(
        &self,
        registry_name: &str,
        token_name: &str,
        password: PasswordName,
        expiry: Option<DateTime<Utc>>,
    ) {
        self.with_acr_token(registry_name, token_name, |t| {
            t.passwords[password.index()].expiry = expiry;
        });
    }

    /// Enables or disables a token (`az acr token update --status`).
    pub fn set_acr_token_enabled(&self, registry_name: &str, token_name: &str, enabled: bool) {
        self.with_acr_token(registry_name, token_name, |t| t.enabled = enabled);
    }

    fn with_acr_token(&self, registry: &str, token: &str, f: impl FnOnce(&mut TokenRec)) {
        let mut dir = lock(&self.inner.shared.dir);
        if let Some(t) = dir
            .registries
            .get_mut(&registry.to_ascii_lowercase())
            .and_then(|r| r.tokens.get_mut(&token.to_ascii_lowercase()))
        {
            f(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_map_actions_parse_like_acr() {
        assert_eq!(
            parse_action("repositories/team/app/content/read"),
            Some(("pull", Some(RepositoryCondition::Equals("team/app".into()))))
        );
        assert_eq!(
            parse_action("repositories/team/*/metadata/write"),
            Some((
                "metadata_write",
                Some(RepositoryCondition::StartsWith("team/".into()))
            ))
        );
        assert_eq!(
            parse_action("repositories/*/content/delete"),
            Some(("delete", None))
        );
        assert_eq!(parse_action("repositories/app/content/sign"), None);
        assert_eq!(parse_action("registries/app/content/read"), None);
        assert_eq!(parse_action("repositories//content/read"), None);
    }
}
