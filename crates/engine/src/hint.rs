//! What the user can do about something: a [`Hint`] is plain text and typed [`Action`]s
//! ("sign alice in again", "run the doctor's fix"), never a command line of ACR Tray's own. Each
//! shell says an action in its own words through [`HintWords`]: the CLI names its commands
//! (`` `acr-tray-cli login` ``), the tray app the place in its menu or window where the same is
//! done. Commands of other tools (`az …`, `systemctl …`) are [`Action::Shell`]: the same in
//! every shell.
//!
//! Hints are kept in `state.json` and `notifications.json` as their parts; a hint written by an
//! older version as one string still loads, as text.

use serde::{Deserialize, Serialize};

// The Entra roles that hints about registries with repository permissions (ABAC) ask for
// (docs/protocol.md#acr-abac).

/// The Entra role that gives pulls on an ABAC registry.
pub const ROLE_REPOSITORY_READER: &str = "Container Registry Repository Reader";
/// The Entra role that gives pushes (and pulls) on an ABAC registry.
pub const ROLE_REPOSITORY_WRITER: &str = "Container Registry Repository Writer";
/// The Entra role that gives deletes (and pushes, pulls) on an ABAC registry.
pub const ROLE_REPOSITORY_CONTRIBUTOR: &str = "Container Registry Repository Contributor";
/// The Entra role that lists an ABAC registry's repositories.
pub const ROLE_CATALOG_LISTER: &str = "Container Registry Repository Catalog Lister";

/// What to do: text and actions, in reading order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Hint(Vec<Part>);

/// One piece of a [`Hint`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Part {
    /// Words every shell shows as they are.
    Text(String),
    /// An action, named where it is done ("sign in again with …").
    Do(Action),
    /// An action as an instruction ("run `…`" in a terminal, "use …" in the app).
    Run(Action),
    /// Advice about the CLI's flags ("(add --device-code without a browser)"): shown by the
    /// CLI only, since the app asks for these choices itself.
    CliNote(String),
}

/// Something the user can do in ACR Tray (or, [`Action::Shell`], with another tool).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    /// Sign an identity in (again).
    #[serde(rename_all = "camelCase")]
    SignIn {
        /// The identity, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        identity: Option<String>,
        /// How, as far as it matters.
        #[serde(default)]
        method: SignInMethod,
    },
    /// Change how a registry signs in.
    #[serde(rename_all = "camelCase")]
    ChangeRegistrySignIn {
        /// The registry's short name.
        registry: String,
        /// To what.
        to: SignInAs,
    },
    /// Add a registry.
    AddRegistry,
    /// Add a registry on a custom domain, trusting that domain with the identity's tokens (said
    /// as the way to add it, "with …", never as a command to copy: trusting is a choice).
    TrustCustomDomain {
        /// The custom domain's host (and port).
        host: String,
    },
    /// See the configured registries.
    ListRegistries,
    /// See the status of every registry and identity.
    Status,
    /// Look for problems with Docker's configuration.
    Doctor,
    /// Let the doctor fix Docker's configuration (with a backup).
    DoctorFix,
    /// See the cloud settings.
    ShowCloud,
    /// Set a custom cloud's endpoints.
    SetCustomCloud,
    /// Refresh now.
    RefreshNow,
    /// ACR Tray itself, as a program that runs.
    Program,
    /// A command of another tool, shown as it is written.
    Shell {
        /// The command line.
        command: String,
    },
}

/// How an identity signs in, where the hint depends on it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SignInMethod {
    /// However it signed in before (a person: browser or device code).
    #[default]
    Again,
    /// Some way, to be chosen (the CLI's options elided).
    Any,
    /// A person, with a device code (no browser needed).
    DeviceCode,
    /// A person, at one tenant of their account (the tenant demands it: MFA, Conditional
    /// Access); the account's other tenants are not touched.
    #[serde(rename_all = "camelCase")]
    AtTenant {
        /// The tenant's GUID.
        tenant: String,
        /// Its display name (or default domain), when ARM listed it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// A service principal.
    ServicePrincipal,
    /// A service principal whose secret is given on standard input.
    #[serde(rename_all = "camelCase")]
    ServicePrincipalSecret {
        /// The tenant, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tenant: Option<String>,
        /// The application (client) id, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
    },
    /// A service principal's secret piped in from a variable (never on the command line).
    PipedSecret,
    /// The machine's managed identity.
    ManagedIdentity,
    /// The Azure CLI's signed-in account.
    AzureCli,
    /// A workload identity's federated token.
    WorkloadIdentity,
}

/// What a registry signs in with.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SignInAs {
    /// An Entra identity.
    Identity,
    /// The admin account, with this user name.
    Admin {
        /// The admin user name.
        username: String,
    },
    /// An ACR token, with a password the user gives again.
    AcrToken {
        /// The token's name.
        token: String,
    },
}

/// How a shell says actions.
pub trait HintWords: Send + Sync {
    /// The action named where it is done, as it completes "sign in again with …".
    fn action(&self, action: &Action) -> String;
    /// The action as an instruction ("run `…`", "use …").
    fn run(&self, action: &Action) -> String;
    /// Whether advice about the CLI's flags is shown.
    fn cli_notes(&self) -> bool;
}

impl Hint {
    /// A hint of words only.
    pub fn text(text: impl Into<String>) -> Self {
        Self(vec![Part::Text(text.into())])
    }

    /// No hint.
    pub fn none() -> Self {
        Self(Vec::new())
    }

    /// Followed by words.
    #[must_use]
    pub fn then(mut self, text: impl Into<String>) -> Self {
        self.0.push(Part::Text(text.into()));
        self
    }

    /// Followed by another hint's parts.
    #[must_use]
    pub fn then_hint(mut self, more: Hint) -> Self {
        self.0.extend(more.0);
        self
    }

    /// Followed by an action named where it is done.
    #[must_use]
    pub fn with(mut self, action: Action) -> Self {
        self.0.push(Part::Do(action));
        self
    }

    /// Followed by an action as an instruction ("run `…`" / "use …").
    #[must_use]
    pub fn run(mut self, action: Action) -> Self {
        self.0.push(Part::Run(action));
        self
    }

    /// Followed by advice that only the CLI shows.
    #[must_use]
    pub fn cli_note(mut self, text: impl Into<String>) -> Self {
        self.0.push(Part::CliNote(text.into()));
        self
    }

    /// Every action it names.
    pub fn actions(&self) -> impl Iterator<Item = &Action> {
        self.0.iter().filter_map(|p| match p {
            Part::Do(a) | Part::Run(a) => Some(a),
            Part::Text(_) | Part::CliNote(_) => None,
        })
    }

    /// Nothing to say.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|p| match p {
            Part::Text(t) | Part::CliNote(t) => t.is_empty(),
            Part::Do(_) | Part::Run(_) => false,
        })
    }

    /// `Some(self)` unless it says nothing.
    pub fn non_empty(self) -> Option<Self> {
        Some(self).filter(|h| !h.is_empty())
    }

    /// The hint in `words`.
    pub fn render(&self, words: &dyn HintWords) -> String {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Do(a) => out.push_str(&words.action(a)),
                Part::Run(a) => out.push_str(&words.run(a)),
                Part::CliNote(t) if words.cli_notes() => out.push_str(t),
                Part::CliNote(_) => {}
            }
        }
        out
    }
}

#[cfg(test)]
impl Hint {
    /// The text, CLI notes included, with each action as its `Debug` form (`DoctorFix`): for
    /// tests that look at what a hint says without a shell's words.
    pub(crate) fn plain(&self) -> String {
        self.0
            .iter()
            .map(|p| match p {
                Part::Text(t) | Part::CliNote(t) => t.clone(),
                Part::Do(a) | Part::Run(a) => format!("{a:?}"),
            })
            .collect()
    }
}

/// Words for tests that need a shell's words but not a shell: each action as its `Debug` form,
/// CLI notes shown (what [`Hint::plain`] reads).
#[cfg(test)]
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PlainWords;

#[cfg(test)]
impl HintWords for PlainWords {
    fn action(&self, action: &Action) -> String {
        format!("{action:?}")
    }

    fn run(&self, action: &Action) -> String {
        format!("{action:?}")
    }

    fn cli_notes(&self) -> bool {
        true
    }
}

impl Action {
    /// Sign `identity` in again, as before.
    pub fn sign_in(identity: impl Into<String>) -> Self {
        Self::SignIn {
            identity: Some(identity.into()),
            method: SignInMethod::Again,
        }
    }

    /// Sign in (an identity not known here), as before.
    pub fn sign_in_again() -> Self {
        Self::SignIn {
            identity: None,
            method: SignInMethod::Again,
        }
    }

    /// Sign in with `method` (`identity` when known).
    pub fn sign_in_with(identity: Option<&str>, method: SignInMethod) -> Self {
        Self::SignIn {
            identity: identity.map(str::to_owned),
            method,
        }
    }

    /// Switch `registry` to an Entra identity.
    pub fn registry_to_identity(registry: impl Into<String>) -> Self {
        Self::ChangeRegistrySignIn {
            registry: registry.into(),
            to: SignInAs::Identity,
        }
    }

    /// A command of another tool.
    pub fn shell(command: impl Into<String>) -> Self {
        Self::Shell {
            command: command.into(),
        }
    }
}

impl From<&str> for Hint {
    fn from(text: &str) -> Self {
        Self::text(text)
    }
}

impl From<String> for Hint {
    fn from(text: String) -> Self {
        Self::text(text)
    }
}

impl From<Action> for Hint {
    fn from(action: Action) -> Self {
        Self(vec![Part::Do(action)])
    }
}

/// Reads both forms: the parts, and a plain string (older files), which becomes text. A part
/// this version does not know (written by a newer one) is left out rather than making the
/// whole file unreadable.
impl<'de> Deserialize<'de> for Hint {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Parts(Vec<StoredPart>),
            Text(String),
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum StoredPart {
            Known(Part),
            Unknown(serde::de::IgnoredAny),
        }
        Ok(match Stored::deserialize(deserializer)? {
            Stored::Parts(parts) => Self(
                parts
                    .into_iter()
                    .filter_map(|p| match p {
                        StoredPart::Known(p) => Some(p),
                        StoredPart::Unknown(_) => None,
                    })
                    .collect(),
            ),
            Stored::Text(text) => Self::text(text),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Says actions by their serde names, to see where they land.
    struct Names(bool);

    impl HintWords for Names {
        fn action(&self, action: &Action) -> String {
            format!(
                "<{}>",
                serde_json::to_value(action).expect("json")["action"]
            )
        }
        fn run(&self, action: &Action) -> String {
            format!("run {}", self.action(action))
        }
        fn cli_notes(&self) -> bool {
            self.0
        }
    }

    #[test]
    fn parts_render_in_order_and_cli_notes_only_where_wanted() {
        let hint = Hint::text("sign in again with ")
            .with(Action::sign_in("bob"))
            .cli_note(" (add --device-code without a browser)")
            .then(", or ")
            .run(Action::DoctorFix);
        assert_eq!(
            hint.render(&Names(true)),
            "sign in again with <\"sign-in\"> (add --device-code without a browser), or run <\"doctor-fix\">"
        );
        assert_eq!(
            hint.render(&Names(false)),
            "sign in again with <\"sign-in\">, or run <\"doctor-fix\">"
        );
        assert_eq!(
            hint.actions().collect::<Vec<_>>(),
            [&Action::sign_in("bob"), &Action::DoctorFix]
        );
    }

    #[test]
    fn stored_as_parts_and_old_strings_load_as_text() {
        let hint = Hint::text("run ")
            .run(Action::SignIn {
                identity: Some("alice".into()),
                method: SignInMethod::ServicePrincipalSecret {
                    tenant: Some("t".into()),
                    client_id: None,
                },
            })
            .with(Action::shell("az login"))
            .cli_note(" (x)");
        let json = serde_json::to_string(&hint).expect("json");
        assert_eq!(serde_json::from_str::<Hint>(&json).expect("back"), hint);
        let old: Hint = serde_json::from_str("\"run `something` again\"").expect("old");
        assert_eq!(old, Hint::text("run `something` again"));
        assert!(serde_json::from_str::<Hint>("42").is_err());
        // Parts a newer version wrote are left out; the rest still reads.
        let newer: Hint = serde_json::from_str(
            r#"[{"text":"see "},{"do":{"action":"open-the-moon"}},{"hologram":1},{"do":{"action":"status"}}]"#,
        )
        .expect("newer");
        assert_eq!(newer, Hint::text("see ").with(Action::Status));
    }

    #[test]
    fn empty_hints() {
        assert!(Hint::none().is_empty());
        assert!(Hint::text("").is_empty());
        assert_eq!(Hint::text("").non_empty(), None);
        assert!(!Hint::from(Action::Status).is_empty());
    }
}
