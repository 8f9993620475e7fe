//! Human and JSON rendering. Nothing rendered here ever holds a secret.

use std::io::Write;

use acr_tray_engine::cloud::Cloud;
use acr_tray_engine::config::Settings;
use acr_tray_engine::discovery::Discovery;
use acr_tray_engine::{Engine, RegistryOutcome};
use chrono::{DateTime, Local, Utc};
use serde_json::{Value, json};

type Out = Box<dyn Write + Send>;

fn print_json(out: &mut Out, value: &Value) {
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
        print_json(
            out,
            &json!({
                "name": cloud.name.to_string(),
                "authority": cloud.authority.as_str().trim_end_matches('/'),
                "arm": cloud.arm.as_str(),
                "armAudience": cloud.arm_audience,
                "acrSuffix": cloud.acr_suffix.to_string(),
                "acrAudience": cloud.acr_audience,
                "caFile": cloud.ca_file,
                "imdsEndpoint": cloud.imds_endpoint,
            }),
        );
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
        let list: Vec<Value> = settings
            .registries
            .iter()
            .map(|r| {
                json!({
                    "name": r.name,
                    "loginServer": r.login_server.to_string(),
                    "identity": r.identity,
                    "auth": r.auth,
                    "adminUsername": r.admin_username,
                    "trustedCustomDomain": r.trusted_custom_domain,
                })
            })
            .collect();
        print_json(out, &Value::Array(list));
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
        let list: Vec<Value> = found
            .iter()
            .map(|(id, r)| match r {
                Ok(d) => serde_json::to_value(d).unwrap_or_default(),
                Err(e) => json!({
                    "identity": id,
                    "error": {"kind": e.kind(), "message": e.to_string(), "hint": e.hint()},
                }),
            })
            .collect();
        print_json(out, &Value::Array(list));
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
                if let Some(h) = e.hint() {
                    let _ = writeln!(err, "hint: {h}");
                }
                continue;
            }
        };
        if d.registries.is_empty() {
            let _ = writeln!(out, "{id}: no registries listed.");
        } else {
            let _ = writeln!(out, "{id} can read {} registries:", d.registries.len());
            let rows: Vec<[String; 7]> = d
                .registries
                .iter()
                .map(|r| {
                    let flag = |v: Option<bool>, yes: &str, no: &str| match v {
                        Some(true) => yes.to_owned(),
                        Some(false) => no.to_owned(),
                        None => "-".to_owned(),
                    };
                    [
                        r.name.clone(),
                        r.login_server.clone(),
                        r.resource_group.clone(),
                        r.sku.clone().unwrap_or_else(|| "-".to_owned()),
                        flag(r.admin_user_enabled, "enabled", "disabled"),
                        flag(r.arm_audience_accepted, "accepted", "refused"),
                        if r.added {
                            "added".to_owned()
                        } else {
                            String::new()
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
        let results: Vec<Value> = outcomes
            .iter()
            .map(|o| match &o.result {
                Ok(r) => json!({
                    "name": o.name, "loginServer": o.login_server, "identity": o.identity,
                    "ok": true, "audience": r.audience, "expiresAt": r.expires_at,
                }),
                Err(e) => json!({
                    "name": o.name, "loginServer": o.login_server, "identity": o.identity,
                    "ok": false,
                    "error": {"kind": e.kind(), "message": e.to_string(), "hint": e.hint()},
                }),
            })
            .collect();
        print_json(out, &json!({ "results": results }));
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
                if let Some(h) = e.hint() {
                    let _ = writeln!(out, "        hint: {h}");
                }
            }
        }
    }
    let ok = outcomes.iter().filter(|o| o.result.is_ok()).count();
    let _ = writeln!(out, "{ok} of {} registries refreshed.", outcomes.len());
}

pub fn status(out: &mut Out, engine: &Engine, as_json: bool) {
    let now = Utc::now();
    let statuses = engine.status();
    let docker = engine
        .docker_config_path()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|e| e.to_string());
    let identities: Vec<Value> = engine
        .settings()
        .identities
        .iter()
        .map(|i| json!({"id": i.id, "kind": i.kind.describe(), "tenant": i.kind.tenant()}))
        .collect();
    if as_json {
        let regs: Vec<Value> = statuses
            .iter()
            .map(|s| {
                json!({
                    "name": s.name, "loginServer": s.login_server, "identity": s.identity,
                    "audience": s.audience, "lastRefresh": s.last_refresh, "expiresAt": s.expires_at,
                    "role": s.role, "can": s.role.map(|r| r.can()),
                    "adminAccount": s.admin.as_ref().map(|a| json!({
                        "enabled": a.enabled, "checkedAt": a.checked_at,
                        "passwordsWatched": a.passwords_readable, "notWatched": a.not_watched,
                    })),
                    "lastError": s.last_error.as_ref().map(|e| json!({
                        "at": e.at, "kind": e.kind, "message": e.message, "hint": e.hint,
                    })),
                })
            })
            .collect();
        print_json(
            out,
            &json!({
                "cloud": engine.cloud().name.to_string(),
                "dockerConfig": docker,
                "identities": identities,
                "registries": regs,
            }),
        );
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
        if let Some(role) = s.role {
            let _ = writeln!(out, "  can:           {} ({})", role.can(), role.name());
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
        if let Some(e) = &s.last_error {
            let _ = writeln!(out, "  last error:    {} ({})", e.message, when(e.at, now));
            if let Some(h) = &e.hint {
                let _ = writeln!(out, "  hint:          {h}");
            }
        }
    }
}

pub fn doctor(
    out: &mut Out,
    report: &acr_tray_engine::doctor::DoctorReport,
    as_json: bool,
    fixed: bool,
) {
    if as_json {
        print_json(out, &serde_json::to_value(report).unwrap_or_default());
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
    if report.findings.is_empty() {
        let _ = writeln!(out, "No problems found.");
        return;
    }
    for f in &report.findings {
        let mark = match f.severity {
            acr_tray_engine::doctor::Severity::Problem => "problem",
            acr_tray_engine::doctor::Severity::Warning => "warning",
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

pub fn accounts(out: &mut Out, engine: &Engine, as_json: bool) {
    let now = Utc::now();
    let accounts = engine.accounts();
    if as_json {
        print_json(out, &serde_json::to_value(&accounts).unwrap_or_default());
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
                if let Some(h) = &e.hint {
                    let _ = writeln!(out, "  hint:      {h}");
                }
            }
            None => {
                let _ = writeln!(out, "  session:   ok");
            }
        }
        if let Some(t) = a.last_sign_in {
            let _ = writeln!(out, "  signed in: {}", when(t, now));
        }
        if let Some(t) = a.last_token {
            let _ = writeln!(out, "  last used: {}", when(t, now));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_says_in_or_ago() {
        let now = Utc::now();
        assert!(when(now + chrono::TimeDelta::minutes(179), now).ends_with("(in 2h 59m)"));
        assert!(when(now - chrono::TimeDelta::minutes(5), now).ends_with("(5m ago)"));
        assert!(when(now - chrono::TimeDelta::milliseconds(500), now).ends_with("(just now)"));
    }
}
