//! # ACR Tray engine
//!
//! Keeps Docker logged in to Azure Container Registry: gets an Entra ID token, exchanges it at
//! each registry for an ACR refresh token (as `az acr login` does), and writes it where Docker
//! reads credentials. No GUI here: the CLI (`acr-tray-cli`), the tray app and the tests are thin
//! shells over this crate.
//!
//! ## Layout
//!
//! Folders name the wings; the shells see only what this file re-exports.
//!
//! - `engine/`: [`Engine`] (settings, clients, secrets, token cache, events in one value) and the
//!   token source of every kind of identity; `ops` (sign in/out, add/remove registries, the
//!   cloud), `discovery` (the registries an identity can read), `doctor`, `admin_watch`,
//!   `check` (what the credential Docker holds may do at its registry).
//! - `refresh/`: the pipeline that refreshes registries concurrently, and `scheduler`, the loop
//!   that runs it on time ([`Scheduler`]).
//! - `schedule/`: the pure refresh policy (when, and how long to back off) and the forecast of
//!   when a sign-in-frequency policy will end a session.
//! - `azure/`: clouds and their endpoints (`cloud`), Entra ID (`entra/`), certificates, federated
//!   tokens, managed identity and the Azure CLI (`credentials/`), ARM (`arm`), the registry's
//!   `/v2/` challenge and `/oauth2/exchange` (`acr`), login servers and the token allow-list
//!   (`login_server`), registry resource ids (`resource_id`).
//! - `store/`: the settings file (`config`), remembered state (`state`), the OS keyring
//!   (`secrets/`), cached tokens (`token_store`, `token_cache`), folders (`paths`), logs
//!   (`logfile`), the one-instance lock (`instance`).
//! - `docker/`: Docker's config.json, kept intact and written atomically, and credential helpers.
//! - `notify/`: which events become desktop notifications, and when (calm, exactly once).
//! - [`service`]: the engine as the tray app runs it, and the views its window shows.
//! - Plumbing: `browser` (the system browser and the sign-in redirect listener), `clock`, `env`,
//!   `error`, `events`, `fsutil` (private files, atomic writes), `hint` (what to do, as text and
//!   typed actions each shell words itself: [`Hint`]), `http`, `limits` (bounds on what servers
//!   send), `process` (asking another program, bounded in time and output), `secret` (the
//!   redacting [`Secret`]), `text` (server text made safe to show).
//!
//! Modules depend one way: none imports a module that imports it back (the test
//! `tests/architecture` fails on any cycle and names the imports that make it).

// The docs are for the engine's contributors as much as for the shells: CI builds them with
// `--document-private-items`, where a public item's link to a private one resolves.
#![allow(rustdoc::private_intra_doc_links)]

mod azure;
mod browser;
mod clock;
mod docker;
mod engine;
mod env;
mod error;
mod events;
mod fsutil;
mod hint;
mod http;
mod limits;
mod notify;
mod process;
mod refresh;
mod schedule;
mod secret;
pub mod service;
mod store;
mod text;

/// The property tests' settings: `cases` inputs each (the whole set runs in seconds in a debug
/// build), and no `proptest-regressions` files written into the source tree; a failure prints
/// its minimal input, which then becomes an ordinary test. The cases come from a fixed seed,
/// so every run (and CI) tests the same inputs and a red run can be replayed;
/// `PROPTEST_RNG_SEED=N` explores others.
#[cfg(test)]
pub(crate) fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    let default = proptest::test_runner::Config::default();
    proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        rng_seed: match default.rng_seed {
            proptest::test_runner::RngSeed::Random => PROPTEST_SEED,
            chosen => chosen,
        },
        ..default
    }
}

/// The seed of every property test's cases in the workspace (see [`proptest_config`]).
#[cfg(test)]
pub(crate) const PROPTEST_SEED: proptest::test_runner::RngSeed =
    proptest::test_runner::RngSeed::Fixed(0x4143_5254_7261_7931);

// The crate's public surface: what the shells (the CLI, the tray app, the tests) use, and no
// more. Everything else is private to the engine, so a change inside a wing cannot break a
// shell unless it changes one of these.

// The engine, its settings changes and reports.
pub use docker::HelmReads;
pub use engine::check::{CheckReport, CredentialSource, RepositoryAction};
pub use engine::discovery::{DiscoveredRegistry, DiscoveredTenant, Discovery, UnlistedRegistry};
pub use engine::doctor::{DoctorReport, HelmInstall, HelmSync, Severity};
pub use engine::ops::{
    AcrTokenSignIn, LoginPrompt, RegistrySignIn, SecretStorage, ServicePrincipalLogin,
    SpCredential, UserLogin,
};
pub use engine::tenants::AccountTenant;
pub use engine::{Account, Engine, EngineOptions};

// Refreshing, and when.
pub use refresh::scheduler::Scheduler;
pub use refresh::{AcrTokenStatus, Refreshed, RegistryOutcome, RegistryStatus};
pub use schedule::policy::Backoff;

// Azure: clouds, sign-in, registries.
pub use azure::acr::{RegistryRole, RoleAssignmentMode};
pub use azure::cloud::{Audience, Cloud, CloudName, CloudSettings};
/// Managed identity (IMDS), for callers that ask it for a token directly.
pub use azure::credentials::imds;
/// The interactive sign-ins (browser and device code), for callers that drive one directly.
pub use azure::entra::interactive;
pub use azure::entra::interactive::DeviceCodePrompt;
pub use azure::entra::{AZURE_CLI_CLIENT_ID, EntraClient};
pub use azure::login_server::HostPort;
pub use browser::{
    BrowserOpener, LoginMethod, SystemBrowser, default_login_method, which as find_program,
};

// What is kept on this machine.
pub use azure::resource_id::is_tenant_id;
pub use fsutil::{atomic_write, ensure_private_dir};
pub use store::config::{IdentityConfig, RegistryAuth, RegistryConfig, Settings, TokenPassword};
pub use store::logfile::DailyLog;
pub use store::paths::Paths;
pub use store::secrets::{
    KEYRING_SERVICE, KeyringStore, MemoryStore, SecretStore, SplitStore, WINDOWS_UNITS,
    acr_token_password_key, client_secret_key, legacy_client_secret_key, refresh_token_key,
};
pub use store::state::{
    AcrTokenWatchState, AdminWatchState, ClientFileState, StoredError, WatchedPassword,
};
pub use store::token_store::{CachedCredential, TokenStore};

// Docker's credentials.
pub use docker::helper::NOT_FOUND as CREDENTIALS_NOT_FOUND;
pub use docker::{
    BACKUPS_KEPT, DockerCredential, EntryForm, ZERO_GUID, update as update_docker_config,
    write_credentials,
};

// Events and desktop notifications.
pub use events::{Client, CollectEvents, Event, EventSink, NoEvents};
#[cfg(feature = "test-support")]
pub use notify::CollectNotifications;
pub use notify::text::{client_file_failure, escape_markup, local_time};
pub use notify::{LogNotifier, Notification, NotificationAction, Notifier, Urgency};

// Plumbing the shells share with the engine.
pub use clock::{Clock, FixedClock, TokioClock, system as system_clock};
pub use env::Env;
pub use error::{Error, ErrorKind, Result};
pub use hint::{Action, Hint, HintWords, SignInAs, SignInMethod};
pub use http::{HttpOptions, build_client, build_imds_client};
pub use limits::{DEVICE_CODE_INTERVAL_MAX, INLINE_RETRY_WAIT_MAX};
pub use secret::Secret;
pub use text::is_unsafe as unsafe_to_show;
