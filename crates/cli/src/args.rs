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
    /// Sign in: yourself (browser or device code), a service principal (secret or
    /// certificate), a managed identity, the Azure CLI, or a workload identity.
    #[command(after_help = EXIT_CODES)]
    Login(LoginArgs),
    /// List the signed-in identities, their kind, tenant and session health.
    Accounts {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
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
    /// Docker's credential helper docker-credential-acr-tray: use it, or stop using it.
    #[command(subcommand)]
    Docker(DockerCommand),
    /// Check where Docker finds each registry's credentials and whether they are fresh, and
    /// find what gets in the way (missing helpers, stale hidden entries, file permissions).
    #[command(
        after_help = "Exit codes: 0 nothing to fix (or all fixed), 1 problems remain, others as for every command."
    )]
    Doctor {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Repair what can be repaired, after a timestamped backup of config.json.
        #[arg(long)]
        fix: bool,
    },
    /// Print a registry's current ACR refresh token (like `az acr login --expose-token`), for
    /// podman, `az container create --registry-password` or CI. It is refreshed first when it
    /// has less than 75 minutes left.
    Token {
        /// Registry name or login server.
        registry: String,
        /// Print JSON: loginServer, username, accessToken, expiresOn.
        #[arg(long)]
        json: bool,
    },
    /// Check the credential Docker now holds for a registry, as Docker would use it: without
    /// --repository, that the registry's token endpoint and /v2/ accept it (what `docker login`
    /// proves); with --repository, which of pull, push and delete the registry grants on it.
    #[command(
        after_help = "Exit codes: 0 the credential works (with --repository: something was granted), 1 nothing was granted on the repository or the check failed, 3 Docker holds no credential, or an expired or refused one; others as for every command."
    )]
    Check {
        /// Registry name or login server.
        registry: String,
        /// A repository (e.g. team/app) to ask for pull, push and delete on.
        #[arg(long, value_name = "REPO")]
        repository: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Docker's credential-helper protocol (`get`, `store`, `erase`, `list` on stdin), as
    /// docker-credential-acr-tray speaks it; it hands a `get` that must refresh to this.
    #[command(hide = true, name = "credential-helper")]
    CredentialHelper {
        /// The helper action.
        action: String,
    },
    /// Run a command (a long build, a push) with tokens issued just before it starts.
    ///
    /// Refreshes the registries (all, or those named with --registry), then runs the command with stdio
    /// inherited and SIGINT, SIGTERM, SIGHUP and SIGQUIT passed to it, and exits with its exit
    /// code (128 + the signal's number when a signal ended it). Afterwards it says so on stderr
    /// if the command ran past the expiry of a token it started with.
    #[command(after_help = EXEC_HELP)]
    Exec(ExecArgs),
    /// Show every registry's login server, identity, last refresh, expiry and last error.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the engine in the foreground (VMs, CI, systemd user units): keeps every registry
    /// refreshed, retries with backoff, notifies on the desktop (or logs) when something needs
    /// you, and prints each event as it happens. Stops cleanly on SIGTERM or Ctrl+C. Only one
    /// engine runs per settings file (the tray app counts).
    #[command(after_help = EXIT_CODES)]
    Run {
        /// One pass over every registry, then exit (exit code as for `refresh`).
        #[arg(long)]
        once: bool,
        /// Print each event as one JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Run `acr-tray-cli run` as a systemd user service (Linux): install, uninstall, status.
    #[command(subcommand)]
    Service(crate::service::ServiceCommand),
}

const EXEC_HELP: &str = "\
When a registry cannot be refreshed, the command is not run and the exit code is the refresh's
(as for `refresh`): a build that starts without a fresh token fails late, after the work. With
--keep-going it runs anyway. The command reads Docker's config as usual: no token is put in its
arguments or environment, and only the program's name is logged. On Windows, Ctrl+C reaches
the command directly (every process of the console gets it) and acr-tray-cli waits for it.

Exit codes: the command's; 126 it cannot be run, 127 it is not found; when the refresh
failed (without --keep-going), as for `refresh`.";

/// `exec`'s arguments.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// A registry to refresh first (name or login server; repeat it for several). Default:
    /// every registry.
    #[arg(long = "registry", value_name = "REGISTRY")]
    pub registries: Vec<String>,
    /// Run the command even when a registry could not be refreshed.
    #[arg(long)]
    pub keep_going: bool,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Debug, Subcommand)]
pub enum DockerCommand {
    /// Let docker-credential-acr-tray serve these registries (all when none is named): sets
    /// "credHelpers" in config.json (after a backup) and removes their plaintext entries.
    UseHelper {
        /// Registry names or login servers.
        registries: Vec<String>,
    },
    /// Go back to writing the registries' credentials into config.json.
    StopHelper {
        /// Registry names or login servers.
        registries: Vec<String>,
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
// The field docs are `--help` text, where a URL reads best as typed.
#[allow(rustdoc::bare_urls)]
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
    /// The managed-identity endpoint (IMDS), where it is not http://169.254.169.254
    /// (ACR_TRAY_IMDS_ENDPOINT overrides it).
    #[arg(long, value_name = "URL")]
    pub imds_endpoint: Option<String>,
    /// Sign out, without asking, the identities signed in to another cloud (credentials are
    /// only used with the cloud they were given for). Needed without a terminal.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// Sign in. Without a mode flag, you sign in yourself: with the browser where a desktop
/// session exists, with a device code over SSH or without a display.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("mode").args(["service_principal", "managed_identity", "azure_cli", "workload_identity"]))]
pub struct LoginArgs {
    /// Sign in yourself in the browser (authorization code with PKCE).
    #[arg(long, conflicts_with_all = ["device_code", "mode"])]
    pub browser: bool,
    /// Sign in yourself with a code entered on another device.
    #[arg(long, conflicts_with = "mode")]
    pub device_code: bool,
    /// With --browser/--device-code: keep the refresh token in this file (created readable by
    /// you only) instead of the OS keyring.
    #[arg(long, value_name = "PATH", conflicts_with = "mode")]
    pub token_file: Option<PathBuf>,
    /// Seconds to wait for the browser sign-in.
    #[arg(
        long,
        default_value_t = 300,
        value_name = "SECONDS",
        conflicts_with = "mode"
    )]
    pub timeout: u64,
    /// Sign in an app registration (service principal) with a client secret or certificate.
    #[arg(long)]
    pub service_principal: bool,
    /// Sign in this machine's managed identity (an Azure VM's, through IMDS).
    #[arg(long)]
    pub managed_identity: bool,
    /// Use the Azure CLI's session (`az account get-access-token`).
    #[arg(long)]
    pub azure_cli: bool,
    /// Workload identity federation: AZURE_FEDERATED_TOKEN_FILE as a client assertion.
    #[arg(long)]
    pub workload_identity: bool,
    /// Tenant id or domain (for your own sign-in the default is `organizations`). Signed in
    /// already, a sign-in of the same account to another of its tenants is kept for that
    /// tenant's registries (when it demands MFA or a Conditional Access sign-in there).
    #[arg(long, short = 't')]
    pub tenant: Option<String>,
    /// Application (client) id: the service principal's, a user-assigned managed identity's,
    /// or the public client for your own sign-in (default: the Azure CLI's).
    #[arg(long)]
    pub client_id: Option<String>,
    /// Read the client secret from stdin (never from the command line, where other users can
    /// see it). It is checked with Entra ID, then kept in the OS keyring.
    #[arg(long, requires = "service_principal")]
    pub secret_stdin: bool,
    /// With --secret-stdin: keep the secret in this file (created readable by you only)
    /// instead of the OS keyring, for machines without a keyring.
    #[arg(long, value_name = "PATH", requires = "secret_stdin")]
    pub secret_file: Option<PathBuf>,
    /// Keep no secret: read AZURE_CLIENT_SECRET from the environment every time, as the Azure
    /// SDKs do.
    #[arg(long, requires = "service_principal", conflicts_with_all = ["secret_stdin", "secret_file", "certificate"])]
    pub secret_from_env: bool,
    /// A PEM file with the service principal's certificate and its private key (mode 600).
    #[arg(long, value_name = "PEM", requires = "service_principal", conflicts_with_all = ["secret_stdin", "secret_file"])]
    pub certificate: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Add a registry by name (myregistry) or login server (myregistry.azurecr.io).
    Add {
        /// Registry name or login server.
        name_or_login_server: String,
        /// The identity that signs in for it (needed when several are signed in). With
        /// --admin, the identity that reads the admin password through ARM.
        #[arg(long)]
        identity: Option<String>,
        /// Sign in with the registry's admin account: its password is read through ARM with the
        /// identity (Contributor or Owner), or given with --username and --password-stdin.
        #[arg(long)]
        admin: bool,
        /// With --admin: the admin user name (the password comes from --password-stdin).
        #[arg(long, requires = "admin", requires = "password_stdin")]
        username: Option<String>,
        /// With --admin --username, or --acr-token: read the password from stdin (kept in the
        /// OS keyring).
        #[arg(long)]
        password_stdin: bool,
        /// Sign in with an ACR token (a scope map's repository permissions, `az acr token`):
        /// its name; one of its passwords comes from --password-stdin. With --identity, that
        /// identity (Reader on the registry) reads the token in Azure to warn before its
        /// password expires and when it is disabled.
        #[arg(
            long,
            value_name = "TOKEN_NAME",
            conflicts_with = "admin",
            requires = "password_stdin"
        )]
        acr_token: Option<String>,
        /// With --acr-token: which of the token's passwords is given (password1 or password2);
        /// without it, every password that expires is watched.
        #[arg(long, value_name = "NAME", requires = "acr_token", value_parser = ["password1", "password2"])]
        password_name: Option<String>,
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
    /// Enable or disable a registry's admin account in Azure (as `az acr update
    /// --admin-enabled` does), with the identity that signs in for it (Contributor or Owner).
    /// The ACR docs recommend keeping it disabled.
    AdminAccount {
        /// Registry name or login server.
        name: String,
        /// Disable it: its passwords stop working for everyone.
        #[arg(long, conflicts_with = "enable", required_unless_present = "enable")]
        disable: bool,
        /// Enable it.
        #[arg(long)]
        enable: bool,
    },
    /// List the registries an identity can read through Azure Resource Manager (every
    /// subscription it sees), to add them by name.
    Discover {
        /// The identity that looks (default: every signed-in identity).
        #[arg(long)]
        identity: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}
