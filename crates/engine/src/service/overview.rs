//! Builds the [`Overview`] the tray and the settings window show, from the settings, the
//! remembered state and the scheduler's latest status. Pure apart from reading the state
//! file, so it is tested with planted files.

use std::path::PathBuf;

use chrono::{DateTime, TimeDelta, Utc};

use crate::azure::cloud::{Audience, Cloud};
use crate::docker::helm_registry_config;
use crate::engine::Engine;
use crate::engine::doctor::{DoctorReport, Severity};
use crate::env::Env;
use crate::notify::text::local_time;
use crate::refresh::scheduler::Status;
use crate::store::config::{IdentityKind, RegistryAuth, Settings};
use crate::store::state::{AdminWatchState, State};

use super::client_files::ClientFileView;
use super::view::{
    AccountHealth, AccountView, AdminAccountView, CloudView, DockerStoreView, DoctorView,
    EXPIRING_SOON, ErrorView, FindingSeverity, FindingView, GeneralSettings, IdentityKindName,
    Overview, RegistryHealth, RegistrySignInView, RegistryView, TenantView, TrayState,
};
use super::words::ADMIN_ENABLED_WARNING;

/// A credential with less than this left makes the tray ask for attention (the scheduler
/// renews it 75 minutes before it runs out, so this only happens when renewals fail).
const LOW: TimeDelta = TimeDelta::minutes(60);

/// What the admin-account watch last saw, with the warning an enabled one deserves.
pub(super) fn admin_view(a: &AdminWatchState) -> AdminAccountView {
    let enabled = a.enabled.filter(|_| a.not_watched.is_none());
    AdminAccountView {
        enabled,
        passwords_watched: a.passwords_readable == Some(true),
        not_watched: a.not_watched.clone(),
        checked_at: a.checked_at,
        warning: (enabled == Some(true)).then(|| ADMIN_ENABLED_WARNING.to_owned()),
    }
}

/// The overview at the engine's `now`.
pub fn build(engine: &Engine, status: &Status) -> Overview {
    let now = engine.now();
    let settings = engine.settings();
    let state = State::load(&engine.paths().state_file());
    let accounts: Vec<AccountView> = settings
        .identities
        .iter()
        .map(|i| {
            let mut s = state.identities.get(&i.id).cloned().unwrap_or_default();
            if s.sign_in_required.is_none() {
                // Bound to another cloud (settings edited by hand): no pass has tried it yet.
                s.sign_in_required = engine
                    .cloud_mismatch(i)
                    .map(|e| crate::store::state::StoredError::new(&e, now));
            }
            let expected_session_end =
                crate::schedule::forecast::session_end(&s).filter(|end| *end > now);
            let health = if s.sign_in_required.is_some() {
                AccountHealth::SignInRequired
            } else if expected_session_end.is_some_and(|end| end - now <= EXPIRING_SOON) {
                AccountHealth::ExpiringSoon
            } else {
                AccountHealth::Ok
            };
            AccountView {
                id: i.id.clone(),
                kind: kind_name(&i.kind),
                label: label(&i.id, &i.kind),
                tenant: i.kind.tenant().map(str::to_owned),
                health,
                sign_in_required: s.sign_in_required.as_ref().map(ErrorView::from_stored),
                interactive: i.kind.is_interactive(),
                last_sign_in: s.last_sign_in,
                expected_session_end,
                registry_count: u32::try_from(
                    settings
                        .registries
                        .iter()
                        .filter(|r| r.identity.as_deref() == Some(i.id.as_str()))
                        .count(),
                )
                .unwrap_or(u32::MAX),
                tenants: engine
                    .account_tenants(i, &state)
                    .into_iter()
                    .map(|t| TenantView {
                        name: t.name().to_owned(),
                        domain: t.default_domain.clone(),
                        sign_in_required: t.sign_in_required.as_ref().map(ErrorView::from_stored),
                        home: t.home,
                        id: t.id,
                    })
                    .collect(),
            }
        })
        .collect();
    let registries: Vec<RegistryView> = settings
        .registries
        .iter()
        .map(|r| {
            let ls = r.login_server.to_string();
            let s = state.registries.get(&ls).cloned().unwrap_or_default();
            let planned = status.registries.iter().find(|p| p.login_server == ls);
            let identity_ended = r.auth.needs_identity()
                && r.identity.as_deref().is_some_and(|id| {
                    accounts
                        .iter()
                        .any(|a| a.id == id && a.health == AccountHealth::SignInRequired)
                });
            let (tenant, tenant_name) = engine.tenant_of(r, &state);
            let tenant_ended = r.auth != RegistryAuth::AdminPassword
                && tenant.as_ref().is_some_and(|t| {
                    r.identity
                        .as_ref()
                        .and_then(|id| state.identities.get(id))
                        .and_then(|s| s.tenants.get(t))
                        .is_some_and(|t| t.sign_in_required.is_some())
                });
            let health = if status.refreshing.contains(&ls) {
                RegistryHealth::Refreshing
            } else if identity_ended
                || tenant_ended
                || planned.is_some_and(|p| p.waiting_for_sign_in.is_some())
            {
                RegistryHealth::SignInRequired
            } else if s.last_error.is_some() {
                RegistryHealth::Failing
            } else if s.last_refresh.is_some() {
                RegistryHealth::Ok
            } else {
                RegistryHealth::Pending
            };
            let identity = r.identity.clone().unwrap_or_default();
            RegistryView {
                name: r.name.clone(),
                login_server: ls,
                sign_in: match (r.auth, &r.admin_username) {
                    (RegistryAuth::AdminPassword, Some(user)) => {
                        RegistrySignInView::AdminPassword {
                            username: user.clone(),
                        }
                    }
                    (RegistryAuth::AdminArm, _) => RegistrySignInView::AdminArm { identity },
                    (RegistryAuth::AcrToken, _) => acr_token_view(r, s.acr_token.as_ref()),
                    _ => RegistrySignInView::Identity { identity },
                },
                health,
                last_refresh: s.last_refresh,
                expires_at: s.expires_at,
                next_refresh: planned.and_then(|p| p.due_at),
                last_error: s.last_error.as_ref().map(ErrorView::from_stored),
                audience: s.audience.map(|a| {
                    match a {
                        Audience::Acr => "acr",
                        Audience::Arm => "arm",
                    }
                    .to_owned()
                }),
                trusted_custom_domain: r.trusted_custom_domain,
                role: s.role,
                repository_permissions: s.role_assignment_mode().is_some_and(|m| m.is_abac()),
                role_name: s
                    .role
                    .map(|role| role.name_in(s.role_assignment_mode()).to_owned()),
                admin_account: s.admin.as_ref().map(admin_view),
                tenant: tenant_name.or_else(|| tenant.clone()),
                tenant_id: tenant,
            }
        })
        .collect();
    let soonest_expiry = registries.iter().filter_map(|r| r.expires_at).min();
    let client_files: Vec<ClientFileView> = engine
        .kept_client_files(state.client_files)
        .iter()
        .map(|(file, f)| ClientFileView::from_state(file, f))
        .collect();
    let state = tray_state(now, &accounts, &registries, &client_files);
    Overview {
        now,
        state,
        summary: summary(now, state, &accounts, &registries, &client_files),
        soonest_expiry,
        accounts,
        registries,
        client_files,
        cloud: cloud(engine.cloud()),
        general: general(settings, engine.env()),
    }
}

/// The tray's state: the most urgent thing first. Another client's file that cannot be
/// written asks for attention too (Docker itself is fine).
pub fn tray_state(
    now: DateTime<Utc>,
    accounts: &[AccountView],
    registries: &[RegistryView],
    client_files: &[ClientFileView],
) -> TrayState {
    if registries.is_empty() {
        return TrayState::Empty;
    }
    let used = |a: &&AccountView| a.registry_count > 0;
    if accounts
        .iter()
        .filter(used)
        .any(|a| a.health == AccountHealth::SignInRequired)
        || registries
            .iter()
            .any(|r| r.health == RegistryHealth::SignInRequired)
    {
        return TrayState::SignInRequired;
    }
    if registries
        .iter()
        .any(|r| r.health == RegistryHealth::Refreshing)
    {
        return TrayState::Refreshing;
    }
    let failing = registries
        .iter()
        .any(|r| r.health == RegistryHealth::Failing);
    let low = registries
        .iter()
        .any(|r| r.expires_at.is_some_and(|e| e - now < LOW));
    let expiring = accounts
        .iter()
        .filter(used)
        .any(|a| a.health == AccountHealth::ExpiringSoon);
    if failing || low || expiring || !client_files.is_empty() {
        TrayState::Attention
    } else {
        TrayState::Ok
    }
}

/// One line for the tray tooltip and the window's header.
fn summary(
    now: DateTime<Utc>,
    state: TrayState,
    accounts: &[AccountView],
    registries: &[RegistryView],
    client_files: &[ClientFileView],
) -> String {
    let soonest = registries.iter().filter_map(|r| r.expires_at).min();
    let n = registries.len();
    let plural = |n: usize| if n == 1 { "registry" } else { "registries" };
    let expiry = soonest
        .map(|at| {
            if at <= now {
                " · a token has expired".to_owned()
            } else {
                format!(" · next expiry {}", local_time(at, now))
            }
        })
        .unwrap_or_default();
    match state {
        TrayState::Empty => "No registries yet: add one in Settings".to_owned(),
        TrayState::Ok => format!("{n} {} logged in{expiry}", plural(n)),
        TrayState::Refreshing => format!("Refreshing…{expiry}"),
        TrayState::SignInRequired => {
            let who: Vec<&str> = accounts
                .iter()
                .filter(|a| a.health == AccountHealth::SignInRequired)
                .map(|a| a.label.as_str())
                .collect();
            if who.is_empty() {
                format!("Sign-in required{expiry}")
            } else {
                format!("Sign-in required: {}{expiry}", who.join(", "))
            }
        }
        TrayState::Attention => {
            let failing = registries
                .iter()
                .filter(|r| r.health == RegistryHealth::Failing)
                .count();
            if failing > 0 {
                format!("{failing} of {n} {} failing{expiry}", plural(n))
            } else if let Some(a) = accounts
                .iter()
                .find(|a| a.health == AccountHealth::ExpiringSoon)
            {
                let at = a
                    .expected_session_end
                    .map(|e| local_time(e, now))
                    .unwrap_or_default();
                format!("Sign-in needed around {at} for {}", a.label)
            } else if let [one] = client_files {
                format!("{} could not be updated", one.client.file_title())
            } else if !client_files.is_empty() {
                format!("{} client files could not be updated", client_files.len())
            } else {
                format!("A token runs out soon{expiry}")
            }
        }
    }
}

fn kind_name(kind: &IdentityKind) -> IdentityKindName {
    match kind {
        IdentityKind::ServicePrincipal {
            certificate: Some(_),
            ..
        } => IdentityKindName::ServicePrincipalCertificate,
        IdentityKind::ServicePrincipal { .. } => IdentityKindName::ServicePrincipal,
        IdentityKind::User { .. } => IdentityKindName::User,
        IdentityKind::ManagedIdentity { .. } => IdentityKindName::ManagedIdentity,
        IdentityKind::AzureCli { .. } => IdentityKindName::AzureCli,
        IdentityKind::WorkloadIdentity { .. } => IdentityKindName::WorkloadIdentity,
    }
}

fn label(id: &str, kind: &IdentityKind) -> String {
    match kind {
        IdentityKind::User { username, .. } => username.clone(),
        IdentityKind::ServicePrincipal { client_id, .. } => {
            format!("Service principal {client_id}")
        }
        IdentityKind::ManagedIdentity { client_id: Some(c) } => format!("Managed identity {c}"),
        IdentityKind::ManagedIdentity { client_id: None } => {
            "Managed identity (system-assigned)".to_owned()
        }
        IdentityKind::AzureCli { tenant: Some(t) } => format!("Azure CLI ({t})"),
        IdentityKind::AzureCli { tenant: None } => "Azure CLI".to_owned(),
        IdentityKind::WorkloadIdentity { .. } => format!("Workload identity {id}"),
    }
}

/// The cloud as the General page shows it.
pub fn cloud(cloud: &Cloud) -> CloudView {
    CloudView {
        name: cloud.name.to_string(),
        authority: cloud.authority.to_string(),
        arm: cloud.arm.to_string(),
        acr_suffix: cloud.acr_suffix.to_string(),
        acr_audience: cloud.acr_audience.clone(),
        ca_file: cloud.ca_file.as_ref().map(|p| p.display().to_string()),
    }
}

/// The General page's settings.
pub fn general(settings: &Settings, env: &Env) -> GeneralSettings {
    GeneralSettings {
        refresh_interval_minutes: settings.refresh.interval_minutes,
        start_at_login: settings.app.start_at_login,
        log_level: settings.app.log_level,
        helm: settings.clients.helm,
        helm_registry_config: helm_registry_config(env).map(|p| p.display().to_string()),
    }
}

/// The doctor's report as the General page shows it.
pub fn doctor_view(report: DoctorReport, backup: Option<PathBuf>) -> DoctorView {
    DoctorView {
        config_path: report.config.display().to_string(),
        registries: report
            .registries
            .into_iter()
            .map(|r| DockerStoreView {
                name: r.name,
                login_server: r.login_server,
                store: r.store,
                present: r.present,
                expires_at: r.expires_at,
            })
            .collect(),
        findings: report
            .findings
            .into_iter()
            .map(|f| FindingView {
                code: f.code.to_owned(),
                severity: match f.severity {
                    Severity::Problem => FindingSeverity::Problem,
                    Severity::Warning => FindingSeverity::Warning,
                },
                registry: f.registry,
                message: f.message,
                fix: f.fix,
            })
            .collect(),
        backup: backup.map(|p| p.display().to_string()),
    }
}

/// How a registry that signs in with an ACR token is shown: the token, and what its watch saw.
fn acr_token_view(
    r: &crate::store::config::RegistryConfig,
    watch: Option<&crate::store::state::AcrTokenWatchState>,
) -> RegistrySignInView {
    let watch = watch.filter(|w| w.token == r.acr_token);
    let soonest = watch.and_then(|w| w.soonest_expiry());
    RegistrySignInView::AcrToken {
        token: r.acr_token.clone().unwrap_or_default(),
        watched_by: r.identity.clone(),
        enabled: watch.and_then(|w| w.enabled),
        password_expiry: soonest.map(|(_, at)| at),
        expiring_password: soonest.map(|(name, _)| name.to_string()),
        not_watched: match (&r.identity, watch.and_then(|w| w.not_watched.clone())) {
            (None, _) => Some(ACR_TOKEN_UNWATCHED.to_owned()),
            (Some(_), why) => why,
        },
    }
}

/// Why a token without an identity is not watched, and what would watch it.
pub const ACR_TOKEN_UNWATCHED: &str = "No identity reads this token in Azure, so its password expiry and status are not watched. Add the registry again with an identity that has Reader on it.";
