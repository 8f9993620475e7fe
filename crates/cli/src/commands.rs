//! One function per command; each calls the engine and renders the result.

use std::io::{Read, Write};

use acr_tray_engine::AZURE_CLI_CLIENT_ID;
use acr_tray_engine::interactive::DeviceCodePrompt;
use acr_tray_engine::{
    AcrTokenSignIn, LoginPrompt, RegistrySignIn, SecretStorage, ServicePrincipalLogin,
    SpCredential, TokenPassword, UserLogin,
};
use acr_tray_engine::{CloudName, CloudSettings};
use acr_tray_engine::{Engine, EngineOptions, Error, Secret};
use acr_tray_engine::{LoginMethod, SystemBrowser, default_login_method};

use crate::args::{CloudCommand, CloudSetArgs, Command, DockerCommand, LoginArgs, RegistryCommand};
use crate::output;
use crate::{EXIT_FAILED, EXIT_OK, Io, exit_code, pass_exit_code};

/// Runs a command and returns the exit code.
pub async fn dispatch(command: Command, options: EngineOptions, io: &mut Io) -> i32 {
    if let Command::Run { once, json } = command {
        return crate::daemon::run(options, once, json, io).await;
    }
    if let Command::Service(command) = command {
        return crate::service::run(command, &options.env, io).await;
    }
    let mut engine = match Engine::open(options) {
        Ok(e) => e,
        Err(e) => {
            io.error(&e);
            return exit_code(&e);
        }
    };
    let result = match command {
        Command::Cloud(CloudCommand::Show { json }) => {
            output::cloud(&mut io.stdout, engine.cloud(), json);
            Ok(EXIT_OK)
        }
        Command::Cloud(CloudCommand::Set(args)) => cloud_set(&mut engine, args, io),
        Command::Login(args) => login(&mut engine, args, io).await,
        Command::Logout { identity } => logout(&mut engine, identity.as_deref(), io),
        Command::Registry(cmd) => registry(&mut engine, cmd, io).await,
        Command::Accounts { json } => {
            output::accounts(&mut io.stdout, &engine, json);
            Ok(EXIT_OK)
        }
        Command::Refresh { names, json } => refresh(&engine, &names, json, io).await,
        Command::Docker(cmd) => docker(&engine, cmd, io).await,
        Command::Doctor { json, fix } => doctor(&engine, json, fix, io).await,
        Command::Token { registry, json } => token(&engine, &registry, json, io).await,
        Command::Check {
            registry,
            repository,
            json,
        } => check(&engine, &registry, repository.as_deref(), json, io).await,
        Command::Exec(args) => {
            crate::exec::run(
                &engine,
                &args.registries,
                args.keep_going,
                &args.command,
                io,
            )
            .await
        }
        Command::Status { json } => {
            output::status(&mut io.stdout, &engine, json);
            Ok(EXIT_OK)
        }
        // Handled before an engine is opened (lib.rs, above).
        Command::Run { .. } | Command::CredentialHelper { .. } | Command::Service(_) => Ok(EXIT_OK),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            io.error(&e);
            exit_code(&e)
        }
    }
}

fn cloud_set(engine: &mut Engine, args: CloudSetArgs, io: &mut Io) -> Result<i32, Error> {
    let name = CloudName::parse(&args.name)?;
    let custom_flags = args.authority.is_some()
        || args.arm.is_some()
        || args.acr_suffix.is_some()
        || args.acr_audience.is_some();
    if name != CloudName::Custom && custom_flags {
        return Err(Error::invalid_input(
            format!(
                "{name} has fixed endpoints; --authority, --arm, --acr-suffix and --acr-audience are for custom clouds"
            ),
            "use `acr-tray-cli cloud set custom ...` for other endpoints",
        ));
    }
    let ca_file = match args.ca_file {
        Some(p) => Some(std::path::absolute(&p).map_err(|e| Error::io("find", &p, &e))?),
        None => None,
    };
    let settings = CloudSettings {
        name,
        authority: args.authority,
        arm: args.arm,
        acr_suffix: args.acr_suffix,
        acr_audience: args.acr_audience,
        ca_file,
        imds_endpoint: args.imds_endpoint,
    };
    let signs_out = engine.cloud_change_signs_out(&settings)?;
    if !signs_out.is_empty() {
        let listed: Vec<String> = signs_out
            .iter()
            .map(|i| format!("  {} ({})", i.id, i.kind.describe()))
            .collect();
        let intro = if signs_out.len() == 1 {
            "This identity signed in to another cloud. Its credentials are only ever sent to that cloud, so changing the cloud signs it out (sign it in again afterwards):"
        } else {
            "These identities signed in to another cloud. Their credentials are only ever sent to that cloud, so changing the cloud signs them out (sign them in again afterwards):"
        };
        let _ = writeln!(io.stderr, "{intro}\n{}", listed.join("\n"));
        if !args.yes {
            if !io.terminal {
                return Err(Error::invalid_input(
                    "changing the cloud would sign identities out, and there is no terminal to ask",
                    "run it again with --yes to sign them out and change the cloud",
                ));
            }
            if !ask_yes(io, "Sign them out and change the cloud? [y/N] ")? {
                let _ = writeln!(io.stderr, "The cloud was not changed.");
                return Ok(EXIT_FAILED);
            }
        }
    }
    let cloud = engine.set_cloud(settings)?;
    let _ = writeln!(io.stdout, "Cloud set to {}.", cloud.name);
    for identity in &signs_out {
        let _ = writeln!(io.stdout, "Signed out: {} (sign-in required).", identity.id);
    }
    output::cloud(&mut io.stdout, &cloud, false);
    let outside: Vec<String> = engine
        .settings()
        .registries
        .iter()
        .filter(|r| !r.trusted_custom_domain && !r.login_server.is_under(&cloud.acr_suffix))
        .map(|r| r.login_server.to_string())
        .collect();
    if !outside.is_empty() {
        let _ = writeln!(
            io.stderr,
            "warning: these registries are not under .{} and will not receive tokens: {}",
            cloud.acr_suffix.host(),
            outside.join(", ")
        );
    }
    Ok(EXIT_OK)
}

/// Asks a yes/no question on stderr and reads one line of stdin; only "y" or "yes" is a yes.
fn ask_yes(io: &mut Io, question: &str) -> Result<bool, Error> {
    let _ = write!(io.stderr, "{question}");
    let _ = io.stderr.flush();
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    // One line, at most a few bytes: the answer, not whatever else stdin holds.
    while answer.len() < 16 {
        match io.stdin.read(&mut byte) {
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) => answer.push(byte[0]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(Error::invalid_input(
                    format!("cannot read the answer: {e}"),
                    "answer y or n, or run it with --yes",
                ));
            }
        }
    }
    let answer = String::from_utf8_lossy(&answer).trim().to_ascii_lowercase();
    Ok(answer == "y" || answer == "yes")
}

async fn login(engine: &mut Engine, args: LoginArgs, io: &mut Io) -> Result<i32, Error> {
    let identity = if args.service_principal {
        login_service_principal(engine, args, io).await?
    } else if args.managed_identity {
        engine.login_managed_identity(args.client_id).await?
    } else if args.azure_cli {
        engine.login_azure_cli(args.tenant).await?
    } else if args.workload_identity {
        engine
            .login_workload_identity(args.tenant, args.client_id)
            .await?
    } else {
        let method = if args.browser {
            LoginMethod::Browser
        } else if args.device_code {
            LoginMethod::DeviceCode
        } else {
            default_login_method(engine.env(), std::env::consts::OS)
        };
        let login = UserLogin {
            tenant: args.tenant.unwrap_or_else(|| "organizations".to_owned()),
            client_id: args
                .client_id
                .unwrap_or_else(|| AZURE_CLI_CLIENT_ID.to_owned()),
            method,
            token_file: args.token_file,
            timeout: std::time::Duration::from_secs(args.timeout),
        };
        let asked = login.tenant.clone();
        let opener = SystemBrowser::from_env(engine.env());
        let mut prompt = Prompt(&mut io.stdout);
        let identity = engine.login_user(login, &opener, &mut prompt).await?;
        // The same person at another tenant of their account: a sign-in to that tenant only.
        if let Some(home) = identity.kind.tenant()
            && acr_tray_engine::is_tenant_id(&asked)
            && !home.eq_ignore_ascii_case(&asked)
        {
            let _ = writeln!(
                io.stdout,
                "Signed in {} to tenant {asked} (one tenant of the account; its other tenants are unchanged).",
                identity.id
            );
            return Ok(EXIT_OK);
        }
        identity
    };
    let _ = writeln!(
        io.stdout,
        "Signed in {} ({}{}).",
        identity.id,
        identity.kind.describe(),
        identity
            .kind
            .tenant()
            .map(|t| format!(", tenant {t}"))
            .unwrap_or_default()
    );
    Ok(EXIT_OK)
}

/// Shows the device code or the browser URL on stdout.
struct Prompt<'a>(&'a mut Box<dyn Write + Send>);

impl LoginPrompt for Prompt<'_> {
    fn device_code(&mut self, p: &DeviceCodePrompt) {
        let _ = writeln!(
            self.0,
            "To sign in, open {} and enter the code:\n\n    {}\n",
            p.verification_uri, p.user_code
        );
        if let Some(message) = &p.message {
            let _ = writeln!(self.0, "({message})");
        }
        let minutes = p.expires_in.as_secs().div_ceil(60);
        let unit = if minutes == 1 { "minute" } else { "minutes" };
        let _ = writeln!(
            self.0,
            "Waiting for the sign-in (the code expires in {minutes} {unit})..."
        );
        let _ = self.0.flush();
    }

    fn browser_url(&mut self, url: &str) {
        let _ = writeln!(
            self.0,
            "Opening the browser to sign in. If it does not open, visit:\n\n    {url}\n"
        );
        let _ = self.0.flush();
    }
}

async fn login_service_principal(
    engine: &mut Engine,
    args: LoginArgs,
    io: &mut Io,
) -> Result<acr_tray_engine::IdentityConfig, Error> {
    let required = |v: Option<String>, flag: &str| {
        v.filter(|s| !s.trim().is_empty()).ok_or_else(|| {
            Error::invalid_input(
                format!("{flag} is required with --service-principal"),
                "use `acr-tray-cli login --service-principal --tenant TENANT --client-id ID --secret-stdin` (or --certificate PEM)",
            )
        })
    };
    let tenant = required(args.tenant, "--tenant")?;
    let client_id = required(args.client_id, "--client-id")?;
    let credential = if let Some(pem) = args.certificate {
        SpCredential::Certificate(pem)
    } else if args.secret_from_env {
        let secret = engine
            .env()
            .var("AZURE_CLIENT_SECRET")
            .map(Secret::new)
            .ok_or_else(|| {
                Error::invalid_input(
                    "--secret-from-env needs AZURE_CLIENT_SECRET in the environment",
                    "export AZURE_CLIENT_SECRET, or pipe the secret into --secret-stdin",
                )
            })?;
        SpCredential::Secret {
            secret,
            storage: SecretStorage::Env,
        }
    } else if args.secret_stdin {
        let storage = match args.secret_file {
            Some(p) => {
                SecretStorage::File(std::path::absolute(&p).map_err(|e| Error::io("find", &p, &e))?)
            }
            None => SecretStorage::Keyring,
        };
        SpCredential::Secret {
            secret: read_secret(&mut io.stdin)?,
            storage,
        }
    } else {
        return Err(Error::invalid_input(
            "no client secret or certificate given",
            "pipe the secret into --secret-stdin (secrets on the command line are visible to other users), use --secret-from-env, or give --certificate PEM",
        ));
    };
    engine
        .login_service_principal(ServicePrincipalLogin {
            tenant,
            client_id,
            credential,
        })
        .await
}

/// Reads a secret from stdin, dropping one trailing line break as `docker login` does.
fn read_secret(stdin: &mut Box<dyn Read + Send>) -> Result<Secret, Error> {
    let mut text = String::new();
    stdin.read_to_string(&mut text).map_err(|e| {
        Error::invalid_input(
            format!("cannot read the secret from stdin: {e}"),
            "pipe the secret in as text",
        )
    })?;
    let trimmed = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .or_else(|| text.strip_suffix('\r'))
        .unwrap_or(&text);
    Ok(Secret::new(trimmed))
}

fn logout(engine: &mut Engine, identity: Option<&str>, io: &mut Io) -> Result<i32, Error> {
    let removed = engine.logout(identity)?;
    if removed.is_empty() {
        let _ = writeln!(io.stdout, "No identity was signed in.");
    }
    for id in &removed {
        let _ = writeln!(io.stdout, "Signed out {} and forgot its secret.", id.id);
        let users: Vec<&str> = engine
            .settings()
            .registries
            .iter()
            .filter(|r| {
                r.identity
                    .as_deref()
                    .is_some_and(|i| i.eq_ignore_ascii_case(&id.id))
            })
            .map(|r| r.name.as_str())
            .collect();
        if !users.is_empty() {
            let _ = writeln!(
                io.stdout,
                "  {} will not be refreshed until {} signs in again; Docker keeps the current credentials until they expire.",
                users.join(", "),
                id.id
            );
        }
    }
    Ok(EXIT_OK)
}

async fn registry(engine: &mut Engine, cmd: RegistryCommand, io: &mut Io) -> Result<i32, Error> {
    match cmd {
        RegistryCommand::Add {
            name_or_login_server,
            identity,
            trust_custom_domain,
            admin,
            username,
            password_stdin,
            acr_token,
            password_name,
        } => {
            if password_stdin && username.is_none() && acr_token.is_none() {
                return Err(Error::invalid_input(
                    "--password-stdin goes with --admin --username or with --acr-token",
                    "",
                ));
            }
            let sign_in = match (admin, username, acr_token) {
                (_, _, Some(token)) => RegistrySignIn::AcrToken(AcrTokenSignIn {
                    token,
                    password: read_secret(&mut io.stdin)?,
                    password_name: password_name.as_deref().and_then(TokenPassword::parse),
                    identity,
                }),
                (false, _, None) => RegistrySignIn::Identity(identity),
                (true, None, None) => RegistrySignIn::AdminArm(identity),
                (true, Some(username), None) => RegistrySignIn::AdminPassword {
                    username,
                    password: read_secret(&mut io.stdin)?,
                },
            };
            let r = engine
                .add_registry(&name_or_login_server, sign_in, trust_custom_domain)
                .await?;
            if name_or_login_server.chars().any(|c| c.is_ascii_uppercase()) {
                let _ = writeln!(
                    io.stderr,
                    "warning: login servers are lower case; use {} in image names",
                    r.login_server
                );
            }
            if r.auth == acr_tray_engine::RegistryAuth::AcrToken && r.identity.is_none() {
                let _ = writeln!(
                    io.stderr,
                    "note: the token's password expiry is not watched; add it with --identity ID (an identity with Reader on the registry) to be warned 14 days and 1 day before it expires"
                );
            } else if !matches!(
                r.auth,
                acr_tray_engine::RegistryAuth::Identity | acr_tray_engine::RegistryAuth::AcrToken
            ) {
                let _ = writeln!(
                    io.stderr,
                    "note: the admin account is shared by everyone who has its password; Microsoft recommends keeping it disabled and using Entra identities"
                );
            }
            let _ = writeln!(
                io.stdout,
                "Added {} ({}) signing in as {}. Run `acr-tray-cli refresh {}` to log Docker in now.",
                r.name,
                r.login_server,
                r.signs_in_as(),
                r.name
            );
            Ok(EXIT_OK)
        }
        RegistryCommand::Remove { name } => {
            let r = engine.remove_registry(&name)?;
            let _ = writeln!(
                io.stdout,
                "Removed {} ({}). Docker's entry for it is left as it is (`docker logout {}` removes it).",
                r.name, r.login_server, r.login_server
            );
            Ok(EXIT_OK)
        }
        RegistryCommand::List { json } => {
            output::registries(&mut io.stdout, engine.settings(), json);
            Ok(EXIT_OK)
        }
        RegistryCommand::AdminAccount { name, enable, .. } => {
            engine.set_admin_account(&name, enable).await?;
            let reg = engine.settings().registry(&name)?;
            let line = if enable {
                format!(
                    "Enabled the admin account of {}. Anyone with its password can push and pull; the ACR docs recommend keeping it disabled.",
                    reg.name
                )
            } else {
                format!(
                    "Disabled the admin account of {}: its passwords no longer log in. Docker keeps signing in with {}.",
                    reg.name,
                    reg.signs_in_as()
                )
            };
            let _ = writeln!(io.stdout, "{line}");
            Ok(EXIT_OK)
        }
        RegistryCommand::Discover { identity, json } => {
            let identities: Vec<String> = match identity {
                Some(id) => vec![engine.settings().identity(&id)?.id.clone()],
                None => engine
                    .settings()
                    .identities
                    .iter()
                    .map(|i| i.id.clone())
                    .collect(),
            };
            if identities.is_empty() {
                return Err(Error::invalid_input(
                    "no identity is signed in",
                    "sign in first with `acr-tray-cli login`",
                ));
            }
            let mut found = Vec::new();
            for id in &identities {
                found.push((id.clone(), engine.discover(id).await));
            }
            output::discovery(&mut io.stdout, &mut io.stderr, &found, json);
            // Every identity failing is a failure (its code); some listing is a success.
            let errors: Vec<&Error> = found.iter().filter_map(|(_, r)| r.as_ref().err()).collect();
            if errors.len() == found.len()
                && let Some(first) = errors.first()
            {
                return Ok(exit_code(first));
            }
            Ok(EXIT_OK)
        }
    }
}

async fn refresh(engine: &Engine, names: &[String], json: bool, io: &mut Io) -> Result<i32, Error> {
    if engine.settings().registries.is_empty() {
        return Err(Error::invalid_input(
            "no registry is configured",
            "add one with `acr-tray-cli registry add NAME`",
        ));
    }
    let outcomes = engine.refresh_on_demand(names).await?;
    output::refresh(&mut io.stdout, &outcomes, json);
    let mut stderr: output::Out = Box::new(io.stderr.clone());
    output::client_file_warnings(&mut stderr, engine);
    Ok(pass_exit_code(&outcomes))
}

fn report_backup(io: &mut Io, backup: Option<&std::path::Path>) {
    if let Some(b) = backup {
        let _ = writeln!(
            io.stdout,
            "Backup of config.json: {} (it holds the same credentials, so only you can read it; ACR Tray keeps the newest {})",
            b.display(),
            acr_tray_engine::BACKUPS_KEPT
        );
    }
}

async fn doctor(engine: &Engine, json: bool, fix: bool, io: &mut Io) -> Result<i32, Error> {
    let report = if fix {
        let (backup, applied, report) = engine.doctor_fix().await?;
        if !json {
            report_backup(io, backup.as_deref());
            for a in &applied {
                let _ = writeln!(io.stdout, "fixed: {a}");
            }
        }
        report
    } else {
        engine.doctor()?
    };
    output::doctor(&mut io.stdout, &report, json, fix);
    let problems = report
        .findings
        .iter()
        .any(|f| f.severity == acr_tray_engine::Severity::Problem);
    Ok(if problems { EXIT_FAILED } else { EXIT_OK })
}

async fn token(engine: &Engine, registry: &str, json: bool, io: &mut Io) -> Result<i32, Error> {
    let (reg, cred) = engine
        .credential(registry, chrono::TimeDelta::minutes(75))
        .await?;
    if json {
        let token = crate::json::Token {
            login_server: reg.login_server.to_string(),
            username: &cred.username,
            access_token: cred.secret.expose(),
            expires_on: cred.expires_at,
        };
        let _ = serde_json::to_writer_pretty(&mut io.stdout, &token);
        let _ = writeln!(io.stdout);
    } else {
        let _ = writeln!(io.stdout, "{}", cred.secret.expose());
        let _ = writeln!(
            io.stderr,
            "Use it as the password for user {} at {}, e.g. `acr-tray-cli token {} | docker login {} -u {} --password-stdin`",
            cred.username, reg.login_server, reg.name, reg.login_server, cred.username
        );
    }
    Ok(EXIT_OK)
}

async fn check(
    engine: &Engine,
    registry: &str,
    repository: Option<&str>,
    json: bool,
    io: &mut Io,
) -> Result<i32, Error> {
    let result = engine.check(registry, repository).await;
    output::check(&mut io.stdout, registry, repository, &result, json);
    match result {
        Ok(report) => Ok(output::check_code(&report)),
        // As JSON the error is in the report; as text it goes to stderr like every error.
        Err(e) if json => Ok(exit_code(&e)),
        Err(e) => Err(e),
    }
}

async fn docker(engine: &Engine, cmd: DockerCommand, io: &mut Io) -> Result<i32, Error> {
    match cmd {
        DockerCommand::UseHelper { registries } => {
            let backup = engine.use_helper(&registries).await?;
            report_backup(io, backup.as_deref());
            if acr_tray_engine::find_program(engine.env(), "docker-credential-acr-tray").is_none() {
                let _ = writeln!(
                    io.stderr,
                    "warning: docker-credential-acr-tray is not on PATH; Docker needs it there (install it next to acr-tray-cli)"
                );
            }
            let _ = writeln!(
                io.stdout,
                "Docker now asks docker-credential-acr-tray for these registries; config.json holds no token for them."
            );
        }
        DockerCommand::StopHelper { registries } => {
            let backup = engine.stop_helper(&registries).await?;
            report_backup(io, backup.as_deref());
            let _ = writeln!(
                io.stdout,
                "Docker reads these registries' credentials from config.json again."
            );
        }
    }
    Ok(EXIT_OK)
}
