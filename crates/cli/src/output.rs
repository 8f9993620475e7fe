//! Human and JSON rendering. Nothing rendered here ever holds a secret.

use std::io::Write;

use acr_tray_engine::Cloud;
use acr_tray_engine::Settings;
use acr_tray_engine::{DiscoveredRegistry, Discovery};
use acr_tray_engine::{Engine, RegistryOutcome};
use chrono::{DateTime, Local, Utc};
use serde::Serialize;

use crate::json;

pub(crate) type Out = Box<dyn Write + Send>;

/// One `--json` document, indented, and a newline.
fn print_json(out: &mut Out, value: &impl Serialize) {
    let _ = serde_json::to_writer_pretty(&mut *out, value);
    let _ = writeln!(out);
}

/// `2026-11-23 14:05 (in 2h 58m)` in local time.
pub fn when(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let local = t.with_timezone(&Local).format("%Y-%m-%d %H:%M");
    let delta = t - now;
    if delta.num_seconds().abs() < 60 {
        return format!("{local} (just now)");
    }
    let (mins, future) = if delta.num_seconds() >= 0 {
        (delta.num_minutes(), true)
    } else {
        (-delta.num_minutes(), false)
    };
    let span = if mins >= 60 {
        format!("{}h {}m", mins / 60, mins % 60)
    } else {
        format!("{mins}m")
    };
    if future {
        format!("{local} (in {span})")
    } else {
        format!("{local} ({span} ago)")
    }
}

pub fn cloud(out: &mut Out, cloud: &Cloud, as_json: bool) {
    if as_json {
        print_json(out, &json::CloudJson::from(cloud));
        return;
    }
    let _ = writeln!(out, "cloud:         {}", cloud.name);
    let _ = writeln!(
        out,
        "authority:     {}",
        cloud.authority.as_str().trim_end_matches('/')
    );
    let _ = writeln!(out, "arm:           {}", cloud.arm);
    let _ = writeln!(out, "arm audience:  {}", cloud.arm_audience);
    let _ = writeln!(out, "acr suffix:    .{}", cloud.acr_suffix);
    let _ = writeln!(out, "acr audience:  {}", cloud.acr_audience);
    if let Some(ca) = &cloud.ca_file {
        let _ = writeln!(out, "ca file:       {}", ca.display());
    }
    if let Some(imds) = &cloud.imds_endpoint {
        let _ = writeln!(out, "imds endpoint: {imds}");
    }
}

pub fn registries(out: &mut Out, settings: &Settings, as_json: bool) {
    if as_json {
        let list: Vec<json::RegistryJson<'_>> =
            settings.registries.iter().map(Into::into).collect();
        print_json(out, &list);
        return;
    }
    if settings.registries.is_empty() {
        let _ = writeln!(
            out,
            "No registries. Add one with `acr-tray-cli registry add NAME`."
        );
        return;
    }
    let width = settings
        .registries
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(out, "{:width$}  LOGIN SERVER / IDENTITY", "NAME");
    for r in &settings.registries {
        let custom = if r.trusted_custom_domain {
            "  (trusted custom domain)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "{:width$}  {}  as {}{custom}",
            r.name,
            r.login_server,
            r.signs_in_as()
        );
    }
}

/// `registry discover`: per identity, what it can read in ARM and what it cannot.
pub fn discovery(
    out: &mut Out,
    err: &mut dyn Write,
    found: &[(String, acr_tray_engine::Result<Discovery>)],
    as_json: bool,
) {
    if as_json {
        let list: Vec<json::DiscoveryJson<'_>> = found.iter().map(Into::into).collect();
        print_json(out, &list);
        return;
    }
    for (n, (id, result)) in found.iter().enumerate() {
        if n > 0 {
            let _ = writeln!(out);
        }
        let d = match result {
            Ok(d) => d,
            Err(e) => {
                let _ = writeln!(err, "error: {id} could not list registries: {e}");
                if let Some(h) = e.hint().map(|h| crate::words::say(&h)) {
                    let _ = writeln!(err, "  hint: {h}");
                }
                continue;
            }
        };
        if d.registries.is_empty() {
            let _ = writeln!(out, "{id}: no registries listed.");
        } else if d.tenants.is_empty() {
            let _ = writeln!(out, "{id} can read {} registries:", d.registries.len());
            let all: Vec<&DiscoveredRegistry> = d.registries.iter().collect();
            registry_table(out, &all);
        } else {
            let _ = writeln!(
                out,
                "{id} can read {} registries in {} tenants:",
                d.registries.len(),
                d.tenants.len()
            );
        }
        for t in &d.tenants {
            let domain = t
                .domain
                .as_deref()
                .filter(|d| *d != t.name)
                .map(|d| format!(", {d}"))
                .unwrap_or_default();
            let home = if t.home { ", home" } else { "" };
            let _ = writeln!(out);
            let _ = writeln!(out, "Tenant {} ({}{domain}{home}):", t.name, t.id);
            if let Some(e) = &t.error {
                let _ = writeln!(out, "  cannot list its registries: {e}");
                if let Some(h) = t.hint.as_ref().map(crate::words::say) {
                    let _ = writeln!(out, "  hint: {h}");
                }
                continue;
            }
            let here: Vec<&DiscoveredRegistry> = d
                .registries
                .iter()
                .filter(|r| r.tenant.as_deref() == Some(t.id.as_str()))
                .collect();
            if here.is_empty() {
                let _ = writeln!(out, "  no registries listed.");
            } else {
                registry_table(out, &here);
            }
        }
        for u in &d.unlisted {
            let _ = writeln!(
                out,
                "Not listed: {} ({}): {}",
                u.name, u.login_server, u.reason
            );
        }
        if let Some(notice) = &d.notice {
            let _ = writeln!(out, "{notice}");
        }
        if d.registries.iter().any(|r| !r.added) {
            let _ = writeln!(
                out,
                "Add one with `acr-tray-cli registry add NAME --identity {id}`."
            );
        }
    }
}

/// Discovered registries as a table.
fn registry_table(out: &mut Out, registries: &[&DiscoveredRegistry]) {
    let flag = |v: Option<bool>, yes: &str, no: &str| match v {
        Some(true) => yes.to_owned(),
        Some(false) => no.to_owned(),
        None => "-".to_owned(),
    };
    let rows: Vec<[String; 7]> = registries
        .iter()
        .map(|r| {
            [
                r.name.clone(),
                r.login_server.clone(),
                r.resource_group.clone(),
                r.sku.clone().unwrap_or_else(|| "-".to_owned()),
                flag(r.admin_user_enabled, "enabled", "disabled"),
                flag(r.arm_audience_accepted, "accepted", "refused"),
                match (r.added, r.repository_permissions) {
                    (true, false) => "added".to_owned(),
                    (false, false) => String::new(),
                    (true, true) => "added, repository permissions (ABAC)".to_owned(),
                    (false, true) => "repository permissions (ABAC)".to_owned(),
                },
            ]
        })
        .collect();
    table(
        out,
        [
            "NAME",
            "LOGIN SERVER",
            "RESOURCE GROUP",
            "SKU",
            "ADMIN",
            "ARM TOKENS",
            "",
        ],
        &rows,
    );
}

/// Left-aligned columns, two spaces apart.
fn table<const N: usize>(out: &mut Out, header: [&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:w$}"))
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    let _ = writeln!(out, "{}", line(header.to_vec()));
    for row in rows {
        let _ = writeln!(out, "{}", line(row.iter().map(String::as_str).collect()));
    }
}

pub fn refresh(out: &mut Out, outcomes: &[RegistryOutcome], as_json: bool) {
    let now = Utc::now();
    if as_json {
        print_json(out, &json::RefreshJson::new(outcomes));
        return;
    }
    for o in outcomes {
        match &o.result {
            Ok(r) => {
                let until = r
                    .expires_at
                    .map(|t| format!(", valid until {}", when(t, now)))
                    .unwrap_or_default();
                let how = r
                    .audience
                    .map(|a| format!(" [{a} audience]"))
                    .unwrap_or_else(|| " [admin account]".to_owned());
                let _ = writeln!(
                    out,
                    "ok      {} ({}): Docker credential refreshed{until}{how}",
                    o.name, o.login_server
                );
            }
            Err(e) => {
                let _ = writeln!(out, "FAILED  {} ({}): {e}", o.name, o.login_server);
                if let Some(h) = e.hint().map(|h| crate::words::say(&h)) {
                    let _ = writeln!(out, "        hint: {h}");
                }
            }
        }
    }
    let ok = outcomes.iter().filter(|o| o.result.is_ok()).count();
    let _ = writeln!(out, "{ok} of {} registries refreshed.", outcomes.len());
}

/// `check`: what the credential Docker holds may do. An error is printed here only as JSON
/// (as text it goes to stderr like every command's).
pub fn check(
    out: &mut Out,
    registry: &str,
    repository: Option<&str>,
    result: &Result<acr_tray_engine::CheckReport, acr_tray_engine::Error>,
    as_json: bool,
) {
    if as_json {
        print_json(out, &json::CheckJson::new(registry, repository, result));
        return;
    }
    let Ok(r) = result else {
        return;
    };
    let valid = r
        .expires_at
        .map(|t| format!(", valid until {}", when(t, Utc::now())))
        .unwrap_or_default();
    let what = if r.username == acr_tray_engine::ZERO_GUID {
        "an ACR token".to_owned()
    } else {
        format!("user {} and password", r.username)
    };
    let _ = writeln!(
        out,
        "Docker's credential for {} ({}): {what} in {}{valid}",
        r.name,
        r.login_server,
        r.source.describe()
    );
    match &r.repository {
        None => {
            let _ = writeln!(
                out,
                "ok      authenticated: the registry issued a token and /v2/ accepted it"
            );
        }
        Some(repo) => {
            let names = |actions: &mut dyn Iterator<Item = acr_tray_engine::RepositoryAction>| {
                actions.map(|a| a.name()).collect::<Vec<_>>().join(", ")
            };
            let all = [
                acr_tray_engine::RepositoryAction::Pull,
                acr_tray_engine::RepositoryAction::Push,
                acr_tray_engine::RepositoryAction::Delete,
            ];
            let denied = names(&mut all.into_iter().filter(|a| !r.granted.contains(a)));
            let granted = names(&mut r.granted.iter().copied());
            if granted.is_empty() {
                let _ = writeln!(
                    out,
                    "DENIED  {repo}: nothing granted (asked for pull, push, delete)"
                );
                if r.advice.is_none() {
                    let _ = writeln!(
                        out,
                        "        hint: the credential's role or scope map does not cover this repository; ask the registry's owner for one that does"
                    );
                }
            } else {
                let _ = writeln!(out, "ok      {repo}: granted {granted}");
                if !denied.is_empty() {
                    let _ = writeln!(out, "        not granted: {denied}");
                }
            }
            if let Some(h) = r.advice.as_ref().map(crate::words::say) {
                let _ = writeln!(out, "        hint: {h}");
            }
        }
    }
}

/// `check`'s exit code for a report: 1 when a repository was asked about and nothing was
/// granted there (the credential works, but not for it), else 0.
pub fn check_code(report: &acr_tray_engine::CheckReport) -> i32 {
    if report.repository.is_some() && report.granted.is_empty() {
        crate::EXIT_FAILED
    } else {
        crate::EXIT_OK
    }
}

pub fn status(out: &mut Out, engine: &Engine, as_json: bool) {
    let now = Utc::now();
    let statuses = engine.status();
    let failing = engine.failing_client_files();
    let docker = engine
        .docker_config_path()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|e| e.to_string());
    if as_json {
        let status = json::StatusJson {
            cloud: engine.cloud().name.to_string(),
            docker_config: docker,
            identities: engine
                .settings()
                .identities
                .iter()
                .map(|i| json::IdentityJson {
                    id: &i.id,
                    kind: i.kind.describe(),
                    tenant: i.kind.tenant(),
                })
                .collect(),
            registries: statuses.iter().map(Into::into).collect(),
            failing_client_files: failing.iter().map(Into::into).collect(),
        };
        print_json(out, &status);
        return;
    }
    let _ = writeln!(
        out,
        "Cloud: {}    Docker config: {docker}",
        engine.cloud().name
    );
    if engine.settings().identities.is_empty() {
        let _ = writeln!(out, "Identities: none signed in");
    }
    for i in &engine.settings().identities {
        let tenant = i
            .kind
            .tenant()
            .map(|t| format!(", tenant {t}"))
            .unwrap_or_default();
        let _ = writeln!(out, "Identity: {} ({}{tenant})", i.id, i.kind.describe());
    }
    if statuses.is_empty() {
        let _ = writeln!(
            out,
            "No registries. Add one with `acr-tray-cli registry add NAME`."
        );
        return;
    }
    for s in &statuses {
        let _ = writeln!(out);
        let _ = writeln!(out, "{} ({})", s.name, s.login_server);
        let _ = writeln!(out, "  identity:      {}", s.identity);
        match (&s.tenant, &s.tenant_name) {
            (Some(id), Some(name)) => {
                let _ = writeln!(out, "  tenant:        {name} ({id})");
            }
            (Some(id), None) => {
                let _ = writeln!(out, "  tenant:        {id}");
            }
            _ => {}
        }
        let audience = s
            .audience
            .map(|a| a.to_string())
            .unwrap_or_else(|| "-".to_owned());
        let _ = writeln!(out, "  audience:      {audience}");
        let last = s
            .last_refresh
            .map(|t| when(t, now))
            .unwrap_or_else(|| "never".to_owned());
        let _ = writeln!(out, "  last refresh:  {last}");
        let exp = s
            .expires_at
            .map(|t| when(t, now))
            .unwrap_or_else(|| "-".to_owned());
        let _ = writeln!(out, "  token expires: {exp}");
        if s.repository_permissions() {
            let _ = writeln!(
                out,
                "  permissions:   repository permissions (ABAC): AcrPull and AcrPush are not honoured"
            );
        }
        if let (Some(role), Some(name)) = (s.role, s.role_name()) {
            let per_repository = if s.repository_permissions() && role.can() != "none" {
                ", per repository"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  can:           {} ({name}{per_repository})",
                role.can()
            );
        }
        if let Some(admin) = &s.admin {
            let line = match (&admin.not_watched, admin.enabled) {
                (Some(why), _) => format!("not watched: {why}"),
                (None, Some(true)) if admin.passwords_readable == Some(true) => {
                    "enabled (watched, with its passwords)".to_owned()
                }
                (None, Some(true)) => "enabled (watched)".to_owned(),
                (None, Some(false)) => "disabled (watched)".to_owned(),
                (None, None) => "-".to_owned(),
            };
            let _ = writeln!(out, "  admin account: {line}");
        }
        if let Some(token) = &s.acr_token {
            let _ = writeln!(out, "  acr token:     {}", acr_token_line(token, now));
        }
        if let Some(e) = &s.last_error {
            let _ = writeln!(out, "  last error:    {} ({})", e.message, when(e.at, now));
            if let Some(h) = e.hint.as_ref().map(crate::words::say) {
                let _ = writeln!(out, "  hint:          {h}");
            }
        }
    }
    client_files::status(out, &failing, now);
}

/// An ACR token and what its watch saw: status, the soonest password expiry, or why it is not
/// watched and what would watch it.
fn acr_token_line(token: &acr_tray_engine::AcrTokenStatus, now: DateTime<Utc>) -> String {
    let name = &token.token;
    let Some(by) = &token.watched_by else {
        return format!(
            "{name} (expiry not watched: add the registry again with --identity ID, an identity with Reader on it)"
        );
    };
    let Some(watch) = &token.watch else {
        return format!("{name} (watched by {by}; not read yet)");
    };
    if let Some(why) = &watch.not_watched {
        return format!("{name} (not watched: {why})");
    }
    let status = match watch.enabled {
        Some(true) => "enabled",
        Some(false) => "disabled",
        None => "status unknown",
    };
    let expiry = match watch.soonest_expiry() {
        Some((password, at)) => format!("{password} expires {}", when(at, now)),
        None => "no password expires".to_owned(),
    };
    format!("{name}, {status}; {expiry} (watched by {by})")
}

pub fn doctor(out: &mut Out, report: &acr_tray_engine::DoctorReport, as_json: bool, fixed: bool) {
    if as_json {
        print_json(out, report);
        return;
    }
    let now = Utc::now();
    let _ = writeln!(out, "Docker config: {}", report.config.display());
    for r in &report.registries {
        let state = match (r.present, r.expires_at) {
            (false, _) => "no credentials".to_owned(),
            (true, Some(t)) => format!("token valid until {}", when(t, now)),
            (true, None) => "credentials present".to_owned(),
        };
        let _ = writeln!(
            out,
            "  {} ({}): {} — {state}",
            r.name, r.login_server, r.store
        );
    }
    if let Some(helm) = &report.helm {
        helm_install(out, helm);
    }
    if report.findings.is_empty() {
        let _ = writeln!(out, "No problems found.");
        return;
    }
    for f in &report.findings {
        let mark = match f.severity {
            acr_tray_engine::Severity::Problem => "problem",
            acr_tray_engine::Severity::Warning => "warning",
        };
        let scope = f
            .registry
            .as_deref()
            .map(|r| format!("{r}: "))
            .unwrap_or_default();
        let _ = writeln!(out, "{mark}: {scope}{} [{}]", f.message, f.code);
        if let Some(fix) = &f.fix {
            let _ = writeln!(out, "  fix: {fix}");
        }
    }
    if !fixed && report.findings.iter().any(|f| f.fix.is_some()) {
        let _ = writeln!(
            out,
            "Run `acr-tray-cli doctor --fix` to repair (config.json is backed up first)."
        );
    }
}

/// Which file the installed Helm reads registry logins from, and whether ACR Tray keeps it.
fn helm_install(out: &mut Out, helm: &acr_tray_engine::HelmInstall) {
    use acr_tray_engine::{HelmReads, HelmSync};
    let program = helm.program.display();
    let (Some(version), Some(reads)) = (&helm.version, helm.reads) else {
        let why = helm.version_unknown.as_deref().unwrap_or_default();
        let _ = writeln!(
            out,
            "Helm ({program}): could not tell its version ({why}), so cannot say which file it reads registry logins from."
        );
        return;
    };
    let file = helm
        .registry_config
        .as_ref()
        .map(|f| f.display().to_string())
        .unwrap_or_else(|| "its registry config".to_owned());
    let kept = match helm.sync {
        HelmSync::On => " ACR Tray keeps that file in sync.",
        HelmSync::OtherFile => " ACR Tray keeps another file for Helm (see below).",
        HelmSync::Off => "",
    };
    let _ = match reads {
        HelmReads::NoRegistryLogins => writeln!(
            out,
            "Helm {version} ({program}) has no registry logins (they came with Helm 3)."
        ),
        HelmReads::OwnConfigThenDocker => writeln!(
            out,
            "Helm {version} ({program}) reads registry logins from {file}, and from Docker's config for a registry that file has no entry for.{kept}"
        ),
        HelmReads::OwnConfigOnly => writeln!(
            out,
            "Helm {version} ({program}) reads registry logins only from {file}, not from Docker's config.{kept}"
        ),
    };
    if reads == HelmReads::OwnConfigOnly && helm.sync == HelmSync::Off {
        let _ = writeln!(
            out,
            "  hint: to keep Helm logged in too, set `helm = true` under `[clients]` in ACR Tray's config.toml."
        );
    }
}

pub fn accounts(out: &mut Out, engine: &Engine, as_json: bool) {
    let now = Utc::now();
    let accounts = engine.accounts();
    if as_json {
        print_json(out, &accounts);
        return;
    }
    if accounts.is_empty() {
        let _ = writeln!(
            out,
            "No identity is signed in. Sign in with `acr-tray-cli login`."
        );
        return;
    }
    for a in &accounts {
        let tenant = a
            .tenant
            .as_deref()
            .map(|t| format!(", tenant {t}"))
            .unwrap_or_default();
        let _ = writeln!(out, "{} ({}{tenant})", a.id, a.kind);
        match &a.sign_in_required {
            Some(e) => {
                let _ = writeln!(
                    out,
                    "  session:   SIGN-IN REQUIRED since {}: {}",
                    when(e.at, now),
                    e.message
                );
                if let Some(h) = e.hint.as_ref().map(crate::words::say) {
                    let _ = writeln!(out, "  hint:      {h}");
                }
            }
            None => {
                let _ = writeln!(out, "  session:   ok");
            }
        }
        if a.tenants.len() > 1 {
            account_tenants(out, &a.tenants, now);
        }
        if let Some(t) = a.last_sign_in {
            let _ = writeln!(out, "  signed in: {}", when(t, now));
        }
        if let Some(t) = a.last_token {
            let _ = writeln!(out, "  last used: {}", when(t, now));
        }
    }
}

/// The tenants of one account: each named, home marked, and what each demands.
fn account_tenants(out: &mut Out, tenants: &[acr_tray_engine::AccountTenant], now: DateTime<Utc>) {
    let _ = writeln!(out, "  tenants:");
    for t in tenants {
        let domain = t
            .default_domain
            .as_deref()
            .filter(|d| Some(*d) != t.display_name.as_deref())
            .map(|d| format!(", {d}"))
            .unwrap_or_default();
        let home = if t.home { ", home" } else { "" };
        let health = match &t.sign_in_required {
            None => "ok".to_owned(),
            Some(e) => format!("SIGN-IN REQUIRED since {}: {}", when(e.at, now), e.message),
        };
        let _ = writeln!(out, "    {} ({}{domain}{home}): {health}", t.name(), t.id);
        if let Some(h) = t
            .sign_in_required
            .as_ref()
            .and_then(|e| e.hint.as_ref())
            .map(crate::words::say)
        {
            let _ = writeln!(out, "      hint: {h}");
        }
    }
}

mod client_files;
pub use client_files::warnings as client_file_warnings;

#[cfg(test)]
mod tests;
