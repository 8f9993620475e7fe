//! Another client's file a pass could not write: told once per incident, beside the registries
//! when they fail in the same pass, and "written again" once when it is.

use super::*;
use crate::events::Client;

const HELM: &str = "/home/dev/.config/helm/registry/config.json";

fn file_failed(file: &str, client: Client) -> Event {
    Event::ClientFileFailed {
        file: file.into(),
        client,
        kind: ErrorKind::DockerConfig,
        message: format!("{file} is not valid: EOF; ACR Tray left it untouched"),
        hint: Some(Hint::text(
            "fix the JSON by hand; or set [clients] helm = false",
        )),
    }
}

fn file_written(file: &str, client: Client) -> Event {
    Event::ClientFileWritten {
        file: file.into(),
        client,
    }
}

#[test]
fn a_failing_client_file_is_told_once_and_its_return_once() {
    let mut p = policy();
    let shown = p.on_events(t0(), &[refreshed("one"), file_failed(HELM, Client::Helm)]);
    let [n] = shown.as_slice() else {
        panic!("one notification: {shown:#?}");
    };
    assert_eq!(n.title, "Helm's registry config could not be updated");
    assert!(n.body.contains(HELM), "{n:#?}");
    assert!(n.body.contains("Docker itself stays logged in."), "{n:#?}");
    assert!(n.body.contains("fix the JSON by hand"), "{n:#?}");
    assert_eq!(n.urgency, Urgency::Normal);
    assert_eq!(n.action, Some(NotificationAction::OpenSettings));
    assert_eq!(n.incident, format!("client-file:{HELM}"));
    for m in [60, 120, 180, 240] {
        let again = p.on_events(t0() + mins(m), &[file_failed(HELM, Client::Helm)]);
        assert!(again.is_empty(), "after {m} min: {again:#?}");
    }
    let back = p.on_events(t0() + mins(300), &[file_written(HELM, Client::Helm)]);
    let [n] = back.as_slice() else {
        panic!("one note: {back:#?}");
    };
    assert_eq!(n.title, "Helm's registry config is written again");
    assert_eq!(n.urgency, Urgency::Normal);
    // Broken again: a new incident.
    let again = p.on_events(t0() + mins(400), &[file_failed(HELM, Client::Helm)]);
    assert_eq!(again.len(), 1, "{again:#?}");
}

#[test]
fn a_client_file_switched_off_closes_its_incident_silently() {
    let mut p = policy();
    assert_eq!(
        p.on_events(t0(), &[file_failed(HELM, Client::Helm)]).len(),
        1
    );
    let dropped = Event::ClientFileDropped {
        file: HELM.into(),
        client: Client::Helm,
    };
    assert!(p.on_events(t0() + mins(60), &[dropped]).is_empty());
    // Switched on again and failing again: a new incident, told again.
    let again = p.on_events(t0() + mins(120), &[file_failed(HELM, Client::Helm)]);
    assert_eq!(again.len(), 1, "{again:#?}");
}

#[test]
fn a_failing_client_file_and_a_failing_registry_share_one_notification() {
    let mut p = policy();
    let ci = "/ci/docker/config.json";
    let shown = p.on_events(t0(), &[denied("one"), file_failed(ci, Client::DockerExtra)]);
    let [n] = shown.as_slice() else {
        panic!("one notification: {shown:#?}");
    };
    assert_eq!(n.title, "ACR Tray needs attention");
    assert!(
        n.body.contains(&format!(
            "An extra Docker config could not be updated: {ci}."
        )),
        "{n:#?}"
    );
    assert!(n.body.contains("one could not refresh."), "{n:#?}");
    assert_eq!(n.covers.len(), 2);
    let back = p.on_events(
        t0() + mins(60),
        &[refreshed("one"), file_written(ci, Client::DockerExtra)],
    );
    let [n] = back.as_slice() else {
        panic!("one note: {back:#?}");
    };
    assert_eq!(
        n.body,
        format!("one is logged in again. {ci} is written again.")
    );
}
