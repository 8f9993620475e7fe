//! The CLI's words for what the user can do: a hint's actions as `acr-tray-cli` commands, in
//! backticks, and its flag advice.

use acr_tray_engine::{Action, Hint, HintWords, SignInAs, SignInMethod};

/// The program, as a user types it.
const PROGRAM: &str = "acr-tray-cli";

/// Says a hint's actions as this CLI's commands.
#[derive(Debug, Clone, Copy, Default)]
pub struct CliWords;

impl CliWords {
    /// The command line that does `action` (without backticks).
    pub fn command(action: &Action) -> String {
        match action {
            Action::SignIn { method, .. } => match method {
                SignInMethod::Again => format!("{PROGRAM} login"),
                SignInMethod::Any => format!("{PROGRAM} login ..."),
                SignInMethod::DeviceCode => format!("{PROGRAM} login --device-code"),
                SignInMethod::AtTenant { tenant, .. } => {
                    format!("{PROGRAM} login --tenant {tenant}")
                }
                SignInMethod::ServicePrincipal => {
                    format!("{PROGRAM} login --service-principal ...")
                }
                SignInMethod::ServicePrincipalSecret {
                    tenant: Some(tenant),
                    client_id: Some(client),
                } => format!(
                    "{PROGRAM} login --service-principal --tenant {tenant} --client-id {client} --secret-stdin"
                ),
                SignInMethod::ServicePrincipalSecret { .. } => {
                    format!("{PROGRAM} login --service-principal ... --secret-stdin")
                }
                SignInMethod::PipedSecret => format!("printf %s \"$SECRET\" | {PROGRAM} login ..."),
                SignInMethod::ManagedIdentity => format!("{PROGRAM} login --managed-identity"),
                SignInMethod::AzureCli => format!("{PROGRAM} login --azure-cli"),
                SignInMethod::WorkloadIdentity => format!("{PROGRAM} login --workload-identity"),
            },
            Action::ChangeRegistrySignIn { registry, to } => match to {
                SignInAs::Identity => {
                    format!("{PROGRAM} registry add {registry} --identity ID")
                }
                SignInAs::Admin { username } => format!(
                    "{PROGRAM} registry add {registry} --admin --username {username} --password-stdin"
                ),
                SignInAs::AcrToken { token } => format!(
                    "{PROGRAM} registry add {registry} --acr-token {token} --password-stdin"
                ),
            },
            Action::AddRegistry => format!("{PROGRAM} registry add NAME"),
            Action::TrustCustomDomain { host } => {
                format!("{PROGRAM} registry add {host} --trust-custom-domain")
            }
            Action::ListRegistries => format!("{PROGRAM} registry list"),
            Action::Status => format!("{PROGRAM} status"),
            Action::Doctor => format!("{PROGRAM} doctor"),
            Action::DoctorFix => format!("{PROGRAM} doctor --fix"),
            Action::ShowCloud => format!("{PROGRAM} cloud show"),
            Action::SetCustomCloud => {
                format!("{PROGRAM} cloud set custom --authority URL --arm URL --acr-suffix SUFFIX")
            }
            Action::RefreshNow => format!("{PROGRAM} refresh"),
            Action::Program => PROGRAM.to_owned(),
            Action::Shell { command } => command.clone(),
        }
    }
}

impl HintWords for CliWords {
    fn action(&self, action: &Action) -> String {
        match action {
            Action::Program => PROGRAM.to_owned(),
            // A flag, not a command to copy: trusting a domain is a choice to make, not a fix.
            Action::TrustCustomDomain { .. } => "with --trust-custom-domain".to_owned(),
            other => format!("`{}`", Self::command(other)),
        }
    }

    fn run(&self, action: &Action) -> String {
        format!("run {}", self.action(action))
    }

    fn cli_notes(&self) -> bool {
        true
    }
}

/// `hint` in the CLI's words.
pub(crate) fn say(hint: &Hint) -> String {
    hint.render(&CliWords)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusting_a_custom_domain_is_named_as_a_flag_never_a_command_to_copy() {
        let refused = acr_tray_engine::Error::HostNotAllowed {
            host: "azurecr.io.attacker.example".into(),
            suffix: "azurecr.io".into(),
        };
        assert_eq!(
            say(&refused.hint().expect("a hint")),
            "check the name; if this is your registry's custom domain, add it with --trust-custom-domain"
        );
    }

    #[test]
    fn hints_read_as_commands_to_type() {
        let hint = Hint::text("sign in again: ")
            .with(Action::sign_in("dev@contoso.example"))
            .cli_note(" (add --device-code without a browser)")
            .then(" for dev@contoso.example");
        assert_eq!(
            hint.render(&CliWords),
            "sign in again: `acr-tray-cli login` (add --device-code without a browser) for dev@contoso.example"
        );
        let hint = Hint::text("")
            .run(Action::sign_in_with(None, SignInMethod::DeviceCode))
            .then(" again");
        assert_eq!(
            hint.render(&CliWords),
            "run `acr-tray-cli login --device-code` again"
        );
        let hint = Hint::text("set AZURE_CLIENT_SECRET in the environment that runs ")
            .with(Action::Program);
        assert_eq!(
            hint.render(&CliWords),
            "set AZURE_CLIENT_SECRET in the environment that runs acr-tray-cli"
        );
        let hint = Hint::text("enable it (")
            .with(Action::shell("az acr update -n a --admin-enabled true"))
            .then(") or (")
            .with(Action::ChangeRegistrySignIn {
                registry: "a".into(),
                to: SignInAs::Admin {
                    username: "u".into(),
                },
            })
            .then(")");
        assert_eq!(
            hint.render(&CliWords),
            "enable it (`az acr update -n a --admin-enabled true`) or (`acr-tray-cli registry add a --admin --username u --password-stdin`)"
        );
    }
}
