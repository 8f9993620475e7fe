//! The tray app's words for what the user can do: where in its menu and window the same is done
//! (a [`Hint`](crate::hint::Hint)'s actions as the app says them), and the sentences its views
//! show. A terminal's words are the CLI's own.

use crate::hint::{Action, HintWords, SignInMethod};

/// Where in the app a hint's actions are done. Commands of other tools stay as written; the
/// CLI's flag advice is left out (the app asks for a sign-in method itself).
#[derive(Debug, Clone, Copy, Default)]
pub struct AppWords;

impl HintWords for AppWords {
    fn action(&self, action: &Action) -> String {
        match action {
            Action::SignIn {
                method: SignInMethod::PipedSecret,
                ..
            } => "enter the client secret under Accounts in Settings".to_owned(),
            Action::SignIn {
                method: SignInMethod::AtTenant { tenant, name },
                ..
            } => format!(
                "“Sign in to tenant {}…” under Accounts in Settings",
                name.as_deref().unwrap_or(tenant)
            ),
            Action::SignIn { .. } => {
                "“Sign in again…” in the tray menu, or Accounts in Settings".to_owned()
            }
            Action::ChangeRegistrySignIn { .. } => {
                "“Change…” next to the registry's sign-in in Settings".to_owned()
            }
            Action::AddRegistry => "“Add registry” on the Registries page in Settings".to_owned(),
            Action::TrustCustomDomain { host } => {
                format!("with “Trust {host}” ticked, on the Registries page in Settings")
            }
            Action::ListRegistries | Action::Status => "the Registries page in Settings".to_owned(),
            Action::Doctor | Action::DoctorFix => {
                "“Fix” under Docker in Settings → General".to_owned()
            }
            Action::ShowCloud | Action::SetCustomCloud => {
                "the cloud under Settings → General".to_owned()
            }
            Action::RefreshNow => "“Fresh tokens now” in the tray menu".to_owned(),
            Action::Program => "ACR Tray".to_owned(),
            Action::Shell { command } => format!("`{command}`"),
        }
    }

    fn run(&self, action: &Action) -> String {
        match action {
            Action::Shell { .. } => format!("run {}", self.action(action)),
            _ => format!("use {}", self.action(action)),
        }
    }

    fn cli_notes(&self) -> bool {
        false
    }
}

/// Why an enabled admin account is worth a warning (the registry's admin line).
pub const ADMIN_ENABLED_WARNING: &str = "Anyone with its password can push and pull. The ACR docs recommend keeping the admin account disabled.";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hint::{Hint, SignInAs};

    /// One of every action, every sign-in method and every registry sign-in (the `match` fails
    /// to compile when a variant is added and not listed here).
    fn every_action() -> Vec<Action> {
        let methods = [
            SignInMethod::Again,
            SignInMethod::Any,
            SignInMethod::DeviceCode,
            SignInMethod::AtTenant {
                tenant: "t".into(),
                name: None,
            },
            SignInMethod::ServicePrincipal,
            SignInMethod::ServicePrincipalSecret {
                tenant: Some("t".into()),
                client_id: Some("c".into()),
            },
            SignInMethod::ServicePrincipalSecret {
                tenant: None,
                client_id: None,
            },
            SignInMethod::PipedSecret,
            SignInMethod::ManagedIdentity,
            SignInMethod::AzureCli,
            SignInMethod::WorkloadIdentity,
        ];
        for m in &methods {
            match m {
                SignInMethod::Again
                | SignInMethod::Any
                | SignInMethod::DeviceCode
                | SignInMethod::AtTenant { .. }
                | SignInMethod::ServicePrincipal
                | SignInMethod::ServicePrincipalSecret { .. }
                | SignInMethod::PipedSecret
                | SignInMethod::ManagedIdentity
                | SignInMethod::AzureCli
                | SignInMethod::WorkloadIdentity => {}
            }
        }
        let mut all: Vec<Action> = methods
            .into_iter()
            .flat_map(|method| {
                [None, Some("alice".to_owned())].map(|identity| Action::SignIn {
                    identity,
                    method: method.clone(),
                })
            })
            .collect();
        all.extend([
            Action::registry_to_identity("beta"),
            Action::ChangeRegistrySignIn {
                registry: "beta".into(),
                to: SignInAs::Admin {
                    username: "beta".into(),
                },
            },
            Action::ChangeRegistrySignIn {
                registry: "beta".into(),
                to: SignInAs::AcrToken {
                    token: "pull-token".into(),
                },
            },
            Action::AddRegistry,
            Action::TrustCustomDomain {
                host: "registry.contoso.example".into(),
            },
            Action::ListRegistries,
            Action::Status,
            Action::Doctor,
            Action::DoctorFix,
            Action::ShowCloud,
            Action::SetCustomCloud,
            Action::RefreshNow,
            Action::Program,
            Action::shell("az acr update -n beta --admin-enabled true"),
        ]);
        for a in &all {
            match a {
                Action::SignIn { .. }
                | Action::ChangeRegistrySignIn { .. }
                | Action::AddRegistry
                | Action::TrustCustomDomain { .. }
                | Action::ListRegistries
                | Action::Status
                | Action::Doctor
                | Action::DoctorFix
                | Action::ShowCloud
                | Action::SetCustomCloud
                | Action::RefreshNow
                | Action::Program
                | Action::Shell { .. } => {}
            }
        }
        all
    }

    #[test]
    fn no_action_is_said_as_a_cli_command_or_flag() {
        for action in every_action() {
            for said in [
                AppWords.action(&action),
                AppWords.run(&action),
                Hint::text("x ")
                    .with(action.clone())
                    .cli_note(" (add --device-code without a browser)")
                    .render(&AppWords),
            ] {
                assert!(!said.contains("acr-tray-cli"), "{action:?}: {said}");
                if !matches!(action, Action::Shell { .. }) {
                    assert!(!said.contains("--"), "{action:?}: {said}");
                    assert!(!said.contains('`'), "{action:?}: {said}");
                }
            }
        }
    }

    #[test]
    fn trusting_a_custom_domain_is_the_add_form_s_checkbox() {
        let refused = crate::error::Error::HostNotAllowed {
            host: "registry.contoso.example".into(),
            suffix: "azurecr.io".into(),
        };
        assert_eq!(
            refused.hint().expect("a hint").render(&AppWords),
            "check the name; if this is your registry's custom domain, add it with “Trust registry.contoso.example” ticked, on the Registries page in Settings"
        );
    }

    #[test]
    fn actions_are_places_in_the_app() {
        let hint = Hint::text("sign bob in again with ")
            .with(Action::sign_in("bob"))
            .then("; nothing is tried for it until then");
        assert_eq!(
            hint.render(&AppWords),
            "sign bob in again with “Sign in again…” in the tray menu, or Accounts in Settings; nothing is tried for it until then"
        );
        let hint = Hint::text("")
            .run(Action::sign_in("alice"))
            .then(" again")
            .cli_note(", or use --device-code");
        assert_eq!(
            hint.render(&AppWords),
            "use “Sign in again…” in the tray menu, or Accounts in Settings again"
        );
        let hint = Hint::text("switch it to an Entra identity first (")
            .with(Action::registry_to_identity("beta"))
            .then(")");
        assert_eq!(
            hint.render(&AppWords),
            "switch it to an Entra identity first (“Change…” next to the registry's sign-in in Settings)"
        );
        let hint = Hint::text("install x, or stop Docker from using it (")
            .with(Action::DoctorFix)
            .then(" can do that, with a backup)");
        assert_eq!(
            hint.render(&AppWords),
            "install x, or stop Docker from using it (“Fix” under Docker in Settings → General can do that, with a backup)"
        );
        // A secret is typed into a form, not piped.
        let hint = Hint::none()
            .cli_note("pipe the secret into --secret-stdin, e.g. ")
            .with(Action::sign_in_with(None, SignInMethod::PipedSecret));
        assert_eq!(
            hint.render(&AppWords),
            "enter the client secret under Accounts in Settings"
        );
        // Other tools' commands stay as written, flags and all.
        let hint = Hint::text("enable it (")
            .with(Action::shell("az acr update -n a --admin-enabled true"))
            .then(")");
        assert_eq!(
            hint.render(&AppWords),
            "enable it (`az acr update -n a --admin-enabled true`)"
        );
    }
}
