//! The command line, as clap sees it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  the operation failed (e.g. a registry could not be refreshed; see the message)
  2  invalid usage or input: a bad argument, an unknown registry, a refused login server
  3  sign-in required: credentials are missing, wrong or expired; sign in again
  4  Docker's config.json cannot be used as it is (malformed, or a credential helper
     would hide the entry); ACR Tray left it untouched
When several registries fail for different reasons, the exit code is 1.";

/// Keeps Docker logged in to Azure Container Registry.
///
/// Signs in to Entra ID, exchanges the token at each registry for an ACR refresh token (as
/// `az acr login` does) and writes it into Docker's config.json.
#[derive(Debug, Parser)]
#[command(name = "acr-tray-cli", version, after_help = EXIT_CODES, max_term_width = 100)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug). ACR_TRAY_LOG takes a filter instead.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show or choose the Azure cloud (public Azure, a sovereign cloud, or custom endpoints).
    #[command(subcommand)]
    Cloud(CloudCommand),
    /// Sign in an identity.
    Login(LoginArgs),
    /// Sign out an identity (all identities when none is named) and forget its secret.
    Logout {
        /// The identity's id (for a service principal, its client id).
        identity: Option<String>,
    },
    /// Add, remove or list the registries kept logged in.
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Refresh Docker's credentials now (all registries, or the ones named).
    #[command(after_help = EXIT_CODES)]
    Refresh {
        /// Registry names or login servers.
        names: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show every registry's login server, identity, last refresh, expiry and last error.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CloudCommand {
    /// Show the cloud in use and its endpoints.
    Show {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Choose a cloud: AzureCloud, AzureChinaCloud, AzureUSGovernment, or custom.
    Set(CloudSetArgs),
}

#[derive(Debug, Args)]
pub struct CloudSetArgs {
    /// AzureCloud, AzureChinaCloud, AzureUSGovernment or custom.
    pub name: String,
    /// Entra ID authority host (custom only), e.g. https://login.microsoftonline.com
    #[arg(long)]
    pub authority: Option<String>,
    /// ARM endpoint (custom only); also used as the ARM token audience.
    #[arg(long)]
    pub arm: Option<String>,
    /// ACR login-server suffix (custom only), e.g. azurecr.io
    #[arg(long)]
    pub acr_suffix: Option<String>,
    /// ACR token audience (custom only); default https://containerregistry.azure.net
    #[arg(long)]
    pub acr_audience: Option<String>,
    /// Extra CA certificates (PEM) to trust, e.g. your proxy's or Azure Stack's CA.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Sign in an app registration (service principal) with a client secret.
    #[arg(long)]
    pub service_principal: bool,
    /// Tenant id or domain.
    #[arg(long, short = 't')]
    pub tenant: Option<String>,
    /// Application (client) id.
    #[arg(long)]
    pub client_id: Option<String>,
    /// Read the client secret from stdin (never from the command line, where other users can
    /// see it). It is checked with Entra ID, then kept in the OS keyring.
    #[arg(long)]
    pub secret_stdin: bool,
    /// With --secret-stdin: keep the secret in this file (created readable by you only)
    /// instead of the OS keyring, for machines without a keyring.
    #[arg(long, value_name = "PATH", requires = "secret_stdin")]
    pub secret_file: Option<PathBuf>,
    /// Keep no secret: read AZURE_CLIENT_SECRET from the environment every time, as the Azure
    /// SDKs do.
    #[arg(long, conflicts_with_all = ["secret_stdin", "secret_file"])]
    pub secret_from_env: bool,
}

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Add a registry by name (myregistry) or login server (myregistry.azurecr.io).
    Add {
        /// Registry name or login server.
        name_or_login_server: String,
        /// The identity that signs in for it (needed when several are signed in).
        #[arg(long)]
        identity: Option<String>,
        /// Allow a login server outside the cloud's ACR suffix (a custom domain you own):
        /// Entra tokens will be sent to it.
        #[arg(long)]
        trust_custom_domain: bool,
    },
    /// Stop keeping a registry logged in (Docker's entry is left as it is).
    Remove {
        /// Registry name or login server.
        name: String,
    },
    /// List the registries.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}
