//! Every sentence a notification says, and the time formats they (and the tray) use.
//!
//! The functions here only put words together: which incidents a notification is about, how
//! urgent it is and what a click does are decided by the policy and the incident model (see
//! [`super`]). [`escape_markup`] and [`local_time`] are public for the shells: the
//! desktop notifiers escape bodies for servers that read markup, and the tray and the overview
//! show times as the notifications do.

use std::collections::BTreeSet;

use chrono::{DateTime, Local, TimeDelta, Utc};

use super::{Announcement, Incident, Subject};
use crate::events::Client;
use crate::hint::{Hint, HintWords};

/// Names listed in a coalesced notification before "and N more".
const MAX_NAMES: usize = 5;

/// The body of a notification for a server that reads markup (the freedesktop
/// `body-markup` capability): `<`, `>` and `&` escaped, so a hint such as
/// "`--scope <registry id>`" is shown as written instead of being swallowed as a tag.
pub fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    out
}

/// "14:05" in local time, with the weekday ("Tue 14:05") when 20 hours or more from `now`.
pub fn local_time(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let local = at.with_timezone(&Local);
    if (at - now).abs() >= TimeDelta::hours(20) {
        local.format("%a %H:%M").to_string()
    } else {
        local.format("%H:%M").to_string()
    }
}

/// "a", "a and b", "a, b and c", "a, b, c, d, e and 2 more".
pub(super) fn and_list(names: &[&str]) -> String {
    let shown = &names[..names.len().min(MAX_NAMES)];
    let more = names.len() - shown.len();
    match (shown, more) {
        ([], _) => String::new(),
        ([one], 0) => (*one).to_owned(),
        (_, 0) => {
            let (last, rest) = shown.split_last().unwrap_or((&"", &[]));
            format!("{} and {last}", rest.join(", "))
        }
        (_, more) => format!("{} and {more} more", shown.join(", ")),
    }
}

/// "a, b, c" (or "a, b, c, d, e and 2 more").
pub(super) fn comma_list(names: &[&str]) -> String {
    let shown = &names[..names.len().min(MAX_NAMES)];
    let more = names.len() - shown.len();
    if more == 0 {
        shown.join(", ")
    } else {
        format!("{} and {more} more", shown.join(", "))
    }
}

fn registry_name(incident: &Incident) -> &str {
    match &incident.subject {
        Subject::Registry { registry, .. } => registry,
        Subject::Identity { identity } | Subject::Session { identity, .. } => identity,
        Subject::ClientFile { file, .. } => file,
    }
}

/// A client's file as a sentence starts: "Helm's registry config", "An extra Docker config".
fn client_file_title(client: Client) -> &'static str {
    match client {
        Client::Podman => "podman's auth.json",
        Client::Helm => "Helm's registry config",
        Client::DockerExtra => "An extra Docker config",
    }
}

/// What failed with a client's file, naming the file (the writer's message names it already
/// when the file itself is at fault).
pub fn client_file_failure(file: &str, message: &str) -> String {
    if message.contains(file) {
        message.to_owned()
    } else {
        format!("{file}: {message}")
    }
}

/// What Docker's credential does meanwhile, for a failing registry.
fn consequence(incident: &Incident, now: DateTime<Utc>) -> Option<String> {
    let valid_until = incident.valid_until?;
    Some(if valid_until > now {
        format!(
            "Docker's login still works until {}.",
            local_time(valid_until, now)
        )
    } else {
        "Docker's login has run out.".to_owned()
    })
}

fn session_sentence(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    format!(
        "Sign-in will be needed around {} — sign in now?",
        local_time(at, now)
    )
}

/// The title and text of one problem, its hint in `words`.
pub(super) fn single_problem(
    now: DateTime<Utc>,
    incident: &Incident,
    words: &dyn HintWords,
) -> (String, String) {
    let hint = incident
        .hint
        .as_ref()
        .map(|h| h.render(words))
        .filter(|h| !h.is_empty());
    match &incident.subject {
        Subject::Registry { registry, .. } => {
            let lines: Vec<String> = [
                Some(incident.message.clone()).filter(|m| !m.is_empty()),
                consequence(incident, now),
                hint,
            ]
            .into_iter()
            .flatten()
            .collect();
            (format!("{registry} could not refresh"), lines.join("\n"))
        }
        Subject::Identity { identity } => (
            format!("{identity} must sign in again"),
            hint.unwrap_or_else(|| {
                format!("Sign in again as {identity} to keep Docker logged in.")
            }),
        ),
        Subject::Session { identity, at } => (
            format!("Sign-in needed soon for {identity}"),
            session_sentence(*at, now),
        ),
        Subject::ClientFile { file, client } => {
            let lines: Vec<String> = [
                Some(client_file_failure(file, &incident.message)),
                Some("Docker itself stays logged in.".to_owned()),
                hint,
            ]
            .into_iter()
            .flatten()
            .collect();
            (
                format!("{} could not be updated", client_file_title(*client)),
                lines.join("\n"),
            )
        }
    }
}

/// The title and text of a notification about several problems, their hint in `words`.
pub(super) fn several_problems(
    now: DateTime<Utc>,
    incidents: &[&Incident],
    words: &dyn HintWords,
) -> (String, String) {
    let registries: Vec<&Incident> = incidents
        .iter()
        .copied()
        .filter(|i| matches!(i.subject, Subject::Registry { .. }))
        .collect();
    let names: Vec<&str> = registries.iter().map(|i| registry_name(i)).collect();
    let registries_line = match names.as_slice() {
        [] => None,
        [one] => Some(format!("{one} could not refresh.")),
        many => Some(format!(
            "{} registries could not refresh: {}.",
            many.len(),
            comma_list(many)
        )),
    };
    let hints: BTreeSet<Option<&Hint>> = incidents.iter().map(|i| i.hint.as_ref()).collect();
    let shared_hint = match hints.into_iter().collect::<Vec<_>>().as_slice() {
        [Some(hint)] => Some(hint.render(words)).filter(|h| !h.is_empty()),
        _ => None,
    }
    .unwrap_or_else(|| "Open ACR Tray for the details.".to_owned());
    if registries.len() == incidents.len() {
        let title = format!("{} registries could not refresh", registries.len());
        let line = registries_line.unwrap_or_default();
        (title, format!("{line}\n{shared_hint}"))
    } else {
        let mut lines = Vec::new();
        for incident in incidents {
            match &incident.subject {
                Subject::Identity { identity } => {
                    lines.push(format!("{identity} must sign in again."));
                }
                Subject::Session { identity, at } => lines.push(format!(
                    "Sign-in as {identity} will be needed around {}.",
                    local_time(*at, now)
                )),
                Subject::ClientFile { file, client } => lines.push(format!(
                    "{} could not be updated: {file}.",
                    client_file_title(*client)
                )),
                Subject::Registry { .. } => {}
            }
        }
        lines.extend(registries_line);
        lines.push(shared_hint);
        ("ACR Tray needs attention".to_owned(), lines.join("\n"))
    }
}

/// The title and text of "logged in again" for these (closed) incidents.
pub(super) fn recovery(incidents: &[&Incident]) -> (String, String) {
    match incidents {
        [one] => match &one.subject {
            Subject::Registry {
                registry,
                login_server,
                ..
            } => (
                format!("{registry} is logged in again"),
                format!("Docker is logged in to {login_server} again."),
            ),
            Subject::Identity { identity } | Subject::Session { identity, .. } => (
                format!("{identity} is signed in again"),
                format!("ACR Tray keeps Docker logged in with {identity} again."),
            ),
            Subject::ClientFile { file, client } => (
                format!("{} is written again", client_file_title(*client)),
                format!("ACR Tray keeps {file} up to date again."),
            ),
        },
        many => ("Logged in again".to_owned(), recovery_sentences(many)),
    }
}

/// "acr-a and acr-b are logged in again." and "alice is signed in again."
fn recovery_sentences(incidents: &[&Incident]) -> String {
    let mut registries = Vec::new();
    let mut identities = Vec::new();
    let mut files = Vec::new();
    for incident in incidents {
        match &incident.subject {
            Subject::Registry { registry, .. } => registries.push(registry.as_str()),
            Subject::ClientFile { file, .. } => files.push(file.as_str()),
            Subject::Identity { identity } | Subject::Session { identity, .. } => {
                if !identities.contains(&identity.as_str()) {
                    identities.push(identity.as_str());
                }
            }
        }
    }
    let verb = |names: &[&str]| if names.len() == 1 { "is" } else { "are" };
    let mut sentences = Vec::new();
    if !identities.is_empty() {
        sentences.push(format!(
            "{} {} signed in again.",
            and_list(&identities),
            verb(&identities)
        ));
    }
    if !registries.is_empty() {
        sentences.push(format!(
            "{} {} logged in again.",
            and_list(&registries),
            verb(&registries)
        ));
    }
    if !files.is_empty() {
        sentences.push(format!(
            "{} {} written again.",
            and_list(&files),
            verb(&files)
        ));
    }
    sentences.join(" ")
}

/// The title and text of one notification for several admin-account changes (or ACR-token
/// news).
pub(super) fn admin_changes(news: &[Announcement]) -> (String, String) {
    let mut names: Vec<&str> = news.iter().map(|a| a.registry.as_str()).collect();
    names.dedup();
    let tokens = news
        .iter()
        .filter(|a| a.key.starts_with("acr-token:"))
        .count();
    let what = match tokens {
        0 => "Admin accounts changed",
        n if n == news.len() => "ACR tokens need attention",
        _ => "Admin accounts and ACR tokens changed",
    };
    (
        format!("{what}: {}", comma_list(&names)),
        news.iter()
            .map(|a| a.title.clone() + ".")
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// The title and text of "the admin account was enabled" (`admin_mode`: the registry signs in
/// with it).
pub(super) fn admin_enabled(
    registry: &str,
    login_server: &str,
    admin_mode: bool,
) -> (String, String) {
    (
        format!("Admin account enabled on {registry}"),
        if admin_mode {
            format!(
                "Docker is logged in to {login_server} with the admin account again. The ACR docs recommend keeping it disabled: consider signing {registry} in with an Entra identity in Settings."
            )
        } else {
            format!(
                "Anyone with its password can push to and pull from {login_server}. The ACR docs recommend keeping it disabled (az acr update -n {registry} --admin-enabled false)."
            )
        },
    )
}

/// The title and text of "the admin account was disabled".
pub(super) fn admin_disabled(
    registry: &str,
    login_server: &str,
    admin_mode: bool,
) -> (String, String) {
    if admin_mode {
        (
            format!("{registry}: admin account disabled"),
            format!(
                "Docker can no longer log in to {login_server}: {registry} signs in with the admin account. Switch it to an Entra identity in Settings."
            ),
        )
    } else {
        (
            format!("Admin account disabled on {registry}"),
            format!(
                "Its passwords no longer log in to {login_server}. ACR Tray signs {registry} in with an Entra identity, so Docker is not affected."
            ),
        )
    }
}

/// The title and text of "an admin password was regenerated" (`password`: which one, never
/// its value; `written_to_docker`: the new one is in Docker's config).
pub(super) fn admin_password_regenerated(
    registry: &str,
    login_server: &str,
    password: &str,
    admin_mode: bool,
    written_to_docker: bool,
) -> (String, String) {
    (
        format!("{registry}: admin {password} regenerated"),
        match (admin_mode, written_to_docker) {
            (true, true) => format!(
                "ACR Tray wrote the new {password} into Docker's config: Docker stays logged in to {login_server}. Anyone using the old one is locked out."
            ),
            (true, false) => format!(
                "ACR Tray signs in with the other admin password, so Docker is not affected. Anyone using the old {password} of {login_server} is locked out."
            ),
            (false, _) => format!(
                "Anyone logging in to {login_server} with the old {password} is locked out. ACR Tray signs {registry} in with an Entra identity, so Docker is not affected."
            ),
        },
    )
}

/// The date and time of an expiry, in local time (`19 Dec 2026 14:05`).
fn expiry_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono::Local)
        .format("%-d %b %Y %H:%M")
        .to_string()
}

/// The title and text of "an ACR token's password expires within `within_days`".
pub(super) fn acr_token_expiring(
    registry: &str,
    login_server: &str,
    token: &str,
    password: &str,
    expires_at: DateTime<Utc>,
    within_days: u32,
) -> (String, String) {
    let within = if within_days <= 1 {
        "within a day".to_owned()
    } else {
        format!("within {within_days} days")
    };
    (
        format!("{registry}: token {token}'s {password} expires {within}"),
        format!(
            "Docker logs in to {login_server} with the ACR token {token}; its {password} expires on {}. Generate a new one (az acr token credential generate -r {registry} -n {token} --{password}) and give it to ACR Tray in Settings.",
            expiry_time(expires_at)
        ),
    )
}

/// The title and text of "the ACR token a registry signs in with was disabled".
pub(super) fn acr_token_disabled(
    registry: &str,
    login_server: &str,
    token: &str,
) -> (String, String) {
    (
        format!("{registry}: ACR token {token} disabled"),
        format!(
            "Docker can no longer log in to {login_server} with it. Enable it again (az acr token update -r {registry} -n {token} --status enabled), or sign {registry} in another way in Settings."
        ),
    )
}
