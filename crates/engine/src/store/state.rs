//! What ACR Tray remembers between runs, per registry: the audience that works, the last
//! refresh, the token's expiry and the last error; per other client's file it writes, the
//! error that keeps it from being written. Kept in `state.json` in the state folder, written
//! atomically. Never a token.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::azure::acr::{RegistryRole, RoleAssignmentMode};
use crate::azure::cloud::Audience;
use crate::azure::resource_id::RegistryId;
use crate::azure::scope_map::TokenPassword;
use crate::error::{Error, ErrorKind, Result};
use crate::events::Client;
use crate::fsutil;
use crate::hint::Hint;

const VERSION: u32 = 1;

/// The whole state file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct State {
    /// Format version; a file of another version is ignored (and rewritten).
    pub version: u32,
    /// Per registry, keyed by login server.
    #[serde(default)]
    pub registries: BTreeMap<String, RegistryState>,
    /// Per identity, keyed by identity id.
    #[serde(default)]
    pub identities: BTreeMap<String, IdentityState>,
    /// Other clients' files (podman's, Helm's, extra Docker configs) that the last pass could
    /// not write, keyed by file; an entry goes when its file is written again (or is no longer
    /// kept in sync). At most [`MAX_CLIENT_FILES`]; an entry that does not read (an edited
    /// file, a newer version's client) is dropped alone.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "lenient_client_files"
    )]
    pub client_files: BTreeMap<String, ClientFileState>,
}

/// The most failing client files remembered: the `[docker] extra_configs` limit, Helm's and
/// podman's.
pub const MAX_CLIENT_FILES: usize = crate::limits::MAX_EXTRA_CONFIGS + 2;

/// A client file that could not be written.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClientFileState {
    /// Whose file it is.
    pub client: Client,
    /// Why it was not written, the last time it was tried (no secret: the writer's error).
    pub last_error: StoredError,
}

/// What is remembered about one identity's session.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct IdentityState {
    /// Set when Entra said the session is over (invalid_grant, interaction_required, ...):
    /// automatic attempts stop until the user signs in again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_required: Option<StoredError>,
    /// The last interactive (or first) sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sign_in: Option<DateTime<Utc>>,
    /// The last time a token was obtained for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_token: Option<DateTime<Utc>>,
    /// The Conditional-Access sign-in frequency learned from Entra (AADSTS70043), in seconds:
    /// sessions end this long after the interactive sign-in (the forecast of a session's end uses it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_frequency_secs: Option<i64>,
    /// The tenants of a person's account (home and guest), keyed by tenant GUID (lower case),
    /// as ARM listed them last (at discovery and sign-in), and what each demands.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tenants: BTreeMap<String, TenantState>,
}

/// What is remembered about one tenant of an account.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TenantState {
    /// Its display name, as ARM said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Its default domain, as ARM said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_domain: Option<String>,
    /// Set when this tenant alone demanded an interactive sign-in there (MFA, Conditional
    /// Access): its registries wait for a sign-in to it; the account's other tenants do not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_required: Option<StoredError>,
    /// The login servers discovery last listed in this tenant (adding one of them records
    /// its tenant).
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub registries: std::collections::BTreeSet<String>,
}

impl TenantState {
    /// How the tenant is named to the user: its display name, else its domain, else `id`.
    pub fn name_or<'a>(&'a self, id: &'a str) -> &'a str {
        self.display_name
            .as_deref()
            .or(self.default_domain.as_deref())
            .unwrap_or(id)
    }
}

impl IdentityState {
    /// The learned sign-in frequency (`None` when unknown or not a positive number of seconds).
    pub fn sign_in_frequency(&self) -> Option<chrono::TimeDelta> {
        self.sign_in_frequency_secs
            .filter(|s| *s > 0)
            .and_then(chrono::TimeDelta::try_seconds)
    }
}

/// What is remembered about one registry.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RegistryState {
    /// The audience whose Entra tokens this registry accepted last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Audience>,
    /// When Docker's credential was last written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_refresh: Option<DateTime<Utc>>,
    /// When the ACR refresh token in Docker's config runs out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// The last failed attempt, cleared by a success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<StoredError>,
    /// When the current run of failures began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<DateTime<Utc>>,
    /// What the identity may do there, from its last ACR refresh token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<RegistryRole>,
    /// The admin-account watch (never a password or a hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<AdminWatchState>,
    /// The ACR-token watch (never a password). One that does not read (an edited file, a newer
    /// version's) is dropped alone: the token is read again, the rest of the state kept.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_token_watch"
    )]
    pub acr_token: Option<AcrTokenWatchState>,
}

impl RegistryState {
    /// The registry's role-assignment mode, as last read in ARM (`None`: not read).
    pub fn role_assignment_mode(&self) -> Option<RoleAssignmentMode> {
        self.admin.as_ref()?.role_assignment_mode
    }
}

/// What the watch remembers about a registry (in `state.json`; never a password or a hash).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AdminWatchState {
    /// The registry's ARM resource id, once found (a malformed one is dropped when read).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::azure::resource_id::deserialize_lenient"
    )]
    pub arm_id: Option<RegistryId>,
    /// `adminUserEnabled` as last read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// When it was last read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<DateTime<Utc>>,
    /// Whether the identity may read the admin passwords (`None`: not known yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passwords_readable: Option<bool>,
    /// The passwords were refused; not asked for again before this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passwords_retry_at: Option<DateTime<Utc>>,
    /// Why the registry is not watched (the identity cannot read it in ARM), if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_watched: Option<String>,
    /// Not asked again before this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<DateTime<Utc>>,
    /// The registry's role-assignment mode as last read in ARM (`None`: not read yet). A value
    /// this version does not know reads as the legacy mode.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_mode"
    )]
    pub role_assignment_mode: Option<RoleAssignmentMode>,
}

/// What the ACR-token watch remembers about a registry's token (in `state.json`; never a
/// password: ARM does not hand one out, and none is read to watch).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AcrTokenWatchState {
    /// The token this is about (another name in the settings starts afresh).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The registry's ARM resource id, once found (a malformed one is dropped when read).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::azure::resource_id::deserialize_lenient"
    )]
    pub arm_id: Option<RegistryId>,
    /// The token's `status` as last read (`None`: not read, or a value this version does not
    /// know).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// "Disabled" was notified (cleared when the token is seen enabled again).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled_notified: bool,
    /// The watched passwords: their expiry and what was notified for it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub passwords: BTreeMap<TokenPassword, WatchedPassword>,
    /// When it was last read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<DateTime<Utc>>,
    /// Why the token is not watched (no identity may read it in ARM), if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_watched: Option<String>,
    /// Not asked again before this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<DateTime<Utc>>,
}

impl AcrTokenWatchState {
    /// The soonest expiry among the watched passwords.
    pub fn soonest_expiry(&self) -> Option<(TokenPassword, DateTime<Utc>)> {
        self.passwords
            .iter()
            .filter_map(|(name, p)| Some((*name, p.expiry?)))
            .min_by_key(|(_, at)| *at)
    }
}

/// One watched password of an ACR token.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WatchedPassword {
    /// Its expiry as last read (`None`: it never expires, or ARM's value was unreadable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<DateTime<Utc>>,
    /// The nearest threshold (in days) already notified for this expiry; a new expiry (the
    /// password regenerated) starts again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified_within_days: Option<u32>,
}

/// A stored ACR-token watch, or nothing when it does not read.
fn lenient_token_watch<'de, D>(de: D) -> std::result::Result<Option<AcrTokenWatchState>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let value = Option::<serde_json::Value>::deserialize(de)?;
    Ok(value.and_then(|v| serde_json::from_value(v).ok()))
}

/// The stored client-file failures that read, at most [`MAX_CLIENT_FILES`] of them.
fn lenient_client_files<'de, D>(
    de: D,
) -> std::result::Result<BTreeMap<String, ClientFileState>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let value = serde_json::Value::deserialize(de)?;
    let serde_json::Value::Object(entries) = value else {
        return Ok(BTreeMap::new());
    };
    Ok(entries
        .into_iter()
        .filter_map(|(file, v)| Some((file, serde_json::from_value(v).ok()?)))
        .take(MAX_CLIENT_FILES)
        .collect())
}

/// A stored role-assignment mode: any string (a newer version's value, an edited file) reads
/// as ARM's value would, never failing the whole state file.
fn lenient_mode<'de, D>(de: D) -> std::result::Result<Option<RoleAssignmentMode>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let value = Option::<serde_json::Value>::deserialize(de)?;
    Ok(value
        .as_ref()
        .and_then(serde_json::Value::as_str)
        .map(RoleAssignmentMode::from_arm))
}

/// An error as remembered and shown later.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredError {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What kind of failure.
    pub kind: ErrorKind,
    /// The message.
    pub message: String,
    /// What to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<Hint>,
}

impl StoredError {
    /// Remembers an error.
    pub fn new(err: &Error, at: DateTime<Utc>) -> Self {
        Self {
            at,
            kind: err.kind(),
            message: err.to_string(),
            hint: err.hint(),
        }
    }
}

impl State {
    /// Reads the state; a missing, unreadable or old file starts fresh (it holds nothing that
    /// cannot be learned again).
    pub fn load(path: &Path) -> Self {
        let Ok(bytes) = std::fs::read(path) else {
            return Self::fresh();
        };
        match serde_json::from_slice::<State>(&bytes) {
            Ok(s) if s.version == VERSION => s,
            Ok(_) | Err(_) => {
                tracing::warn!(path = %path.display(), "ignoring an unreadable state file");
                Self::fresh()
            }
        }
    }

    fn fresh() -> Self {
        Self {
            version: VERSION,
            registries: BTreeMap::new(),
            identities: BTreeMap::new(),
            client_files: BTreeMap::new(),
        }
    }

    /// Writes the state atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        fsutil::atomic_write(path, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage_starts_fresh() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("state/state.json");
        let mut s = State::load(&p);
        s.registries.insert(
            "r.azurecr.io".into(),
            RegistryState {
                audience: Some(Audience::Arm),
                ..Default::default()
            },
        );
        s.save(&p).expect("save");
        assert_eq!(State::load(&p), s);
        std::fs::write(&p, "{garbage").expect("write");
        assert!(State::load(&p).registries.is_empty());
    }

    #[test]
    fn the_learned_sign_in_frequency_is_kept_and_optional() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("state.json");
        // A file written before the field existed still loads.
        std::fs::write(
            &p,
            r#"{"version":1,"identities":{"alice":{"last_sign_in":"2026-03-02T09:00:00Z"}}}"#,
        )
        .expect("write");
        let mut s = State::load(&p);
        let alice = s.identities.get("alice").expect("alice").clone();
        assert_eq!(alice.sign_in_frequency_secs, None);
        assert_eq!(alice.sign_in_frequency(), None);
        // Not written while unknown.
        s.save(&p).expect("save");
        let text = std::fs::read_to_string(&p).expect("read");
        assert!(!text.contains("sign_in_frequency_secs"), "{text}");

        let entry = s.identities.get_mut("alice").expect("alice");
        entry.sign_in_frequency_secs = Some(43200);
        s.save(&p).expect("save");
        let text = std::fs::read_to_string(&p).expect("read");
        assert!(text.contains("\"sign_in_frequency_secs\": 43200"), "{text}");
        let back = State::load(&p);
        assert_eq!(back, s);
        let alice = &back.identities["alice"];
        assert_eq!(
            alice.sign_in_frequency(),
            Some(chrono::TimeDelta::hours(12))
        );
        for bad in [0, -5] {
            let odd = IdentityState {
                sign_in_frequency_secs: Some(bad),
                ..alice.clone()
            };
            assert_eq!(odd.sign_in_frequency(), None, "{bad}");
        }
    }

    #[test]
    fn the_role_assignment_mode_is_kept_and_old_or_odd_files_still_load() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("state.json");
        // Before the field existed.
        std::fs::write(
            &p,
            r#"{"version":1,"registries":{"r.azurecr.io":{"admin":{"enabled":false}}}}"#,
        )
        .expect("write");
        let mut s = State::load(&p);
        let admin = s.registries["r.azurecr.io"].admin.clone().expect("admin");
        assert_eq!(admin.enabled, Some(false));
        assert_eq!(admin.role_assignment_mode, None);
        s.save(&p).expect("save");
        let text = std::fs::read_to_string(&p).expect("read");
        assert!(!text.contains("roleAssignmentMode"), "{text}");

        if let Some(a) = s
            .registries
            .get_mut("r.azurecr.io")
            .and_then(|r| r.admin.as_mut())
        {
            a.role_assignment_mode = Some(RoleAssignmentMode::AbacRepositoryPermissions);
        }
        s.save(&p).expect("save");
        let text = std::fs::read_to_string(&p).expect("read");
        assert!(
            text.contains("\"roleAssignmentMode\": \"AbacRepositoryPermissions\""),
            "{text}"
        );
        assert_eq!(State::load(&p), s);

        // A value this version does not know, or not a string: legacy, and the rest loads.
        for odd in [r#""SomethingNew""#, "42", "null"] {
            std::fs::write(
                &p,
                format!(
                    r#"{{"version":1,"registries":{{"r.azurecr.io":{{"admin":{{"enabled":true,"roleAssignmentMode":{odd}}}}}}}}}"#
                ),
            )
            .expect("write");
            let admin = State::load(&p).registries["r.azurecr.io"]
                .admin
                .clone()
                .expect("admin");
            assert_eq!(admin.enabled, Some(true), "{odd}");
            let want = (odd == r#""SomethingNew""#)
                .then_some(RoleAssignmentMode::LegacyRegistryPermissions);
            assert_eq!(admin.role_assignment_mode, want, "{odd}");
        }
    }

    #[test]
    fn a_state_file_with_plain_string_hints_still_loads() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("state.json");
        // As versions before typed hints wrote it.
        std::fs::write(
            &p,
            r#"{"version":1,
            "registries":{"r.azurecr.io":{"last_error":{"at":"2026-03-02T09:00:00Z",
                "kind":"permission","message":"denied","hint":"assign AcrPull"}}},
            "identities":{"alice":{"sign_in_required":{"at":"2026-03-02T09:00:00Z",
                "kind":"sign-in-required","message":"ended","hint":"sign alice in again"}}}}"#,
        )
        .expect("write");
        let s = State::load(&p);
        let error = s.registries["r.azurecr.io"]
            .last_error
            .as_ref()
            .expect("error");
        assert_eq!(error.hint, Some(Hint::text("assign AcrPull")));
        assert_eq!(error.message, "denied");
        let ended = s.identities["alice"]
            .sign_in_required
            .as_ref()
            .expect("ended");
        assert_eq!(ended.hint, Some(Hint::text("sign alice in again")));
        // Written back structured, read back the same.
        s.save(&p).expect("save");
        assert_eq!(State::load(&p), s);
    }

    #[test]
    fn client_file_failures_that_do_not_read_are_dropped_alone_and_bounded() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("state.json");
        let error = r#"{"at":"2026-03-02T09:00:00Z","kind":"docker-config","message":"not valid"}"#;
        let mut files: Vec<String> = (0..MAX_CLIENT_FILES + 5)
            .map(|i| {
                format!(r#""/ci/{i:03}.json":{{"client":"docker-extra","last_error":{error}}}"#)
            })
            .collect();
        files.push(r#""/odd.json":{"client":"buildkit","last_error":{}}"#.to_owned());
        std::fs::write(
            &p,
            format!(
                r#"{{"version":1,"registries":{{"r.azurecr.io":{{"last_refresh":"2026-03-02T09:00:00Z"}}}},
                "client_files":{{{}}}}}"#,
                files.join(",")
            ),
        )
        .expect("write");
        let s = State::load(&p);
        assert!(
            s.registries["r.azurecr.io"].last_refresh.is_some(),
            "the rest is kept"
        );
        assert_eq!(s.client_files.len(), MAX_CLIENT_FILES);
        assert!(!s.client_files.contains_key("/odd.json"));
        assert_eq!(s.client_files["/ci/000.json"].client, Client::DockerExtra);
        // Not a map at all: none, the rest kept.
        std::fs::write(
            &p,
            r#"{"version":1,"registries":{"r.azurecr.io":{}},"client_files":42}"#,
        )
        .expect("write");
        let s = State::load(&p);
        assert!(s.registries.contains_key("r.azurecr.io"));
        assert!(s.client_files.is_empty());
    }

    #[test]
    fn an_unreadable_token_watch_is_dropped_alone() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("state.json");
        std::fs::write(
            &p,
            r#"{"version":1,"registries":{"r.azurecr.io":{"last_refresh":"2026-03-02T09:00:00Z",
                "acr_token":{"token":"pull-token","passwords":{"password3":{"expiry":"x"}}}},
              "s.azurecr.io":{"acr_token":{"token":"pull-token","enabled":false,
                "passwords":{"password2":{"expiry":"2026-04-01T00:00:00Z","notifiedWithinDays":14}}}}}}"#,
        )
        .expect("write");
        let s = State::load(&p);
        let r = &s.registries["r.azurecr.io"];
        assert!(r.last_refresh.is_some(), "the rest is kept");
        assert_eq!(r.acr_token, None);
        let watch = s.registries["s.azurecr.io"]
            .acr_token
            .as_ref()
            .expect("a readable watch loads");
        assert_eq!(watch.enabled, Some(false));
        assert_eq!(
            watch.passwords[&TokenPassword::Password2].notified_within_days,
            Some(14)
        );
    }
}
