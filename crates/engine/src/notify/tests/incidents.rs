//! The persisted state.

use super::*;

#[test]
fn the_state_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("state/notifications.json");
    assert_eq!(load_incidents(&path), Incidents::default(), "missing");
    let mut p = policy();
    p.on_events(t0(), &[denied("acr-a"), sign_in_required("bob")]);
    p.on_events(t0() + mins(1), &[offline("acr-c", Some(t0() + mins(300)))]);
    p.snooze("identity:bob", t0() + mins(60));
    save_incidents(&path, p.incidents()).expect("save");
    let loaded = load_incidents(&path);
    assert_eq!(&loaded, p.incidents());
    let mut again = NotificationPolicy::new(loaded, std::sync::Arc::new(Kinds));
    assert!(
        again
            .on_events(t0() + mins(2), &[denied("acr-a"), sign_in_required("bob")])
            .is_empty(),
        "nothing twice across a restart"
    );
    let back = again.on_events(t0() + mins(3), &[refreshed("acr-a")]);
    assert_eq!(back.len(), 1, "the recovery is still owed");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn a_garbage_state_file_starts_fresh() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("notifications.json");
    for garbage in ["{garbage", "[]", "", "{\"open\": 5}", "\u{0}\u{1}"] {
        std::fs::write(&path, garbage).expect("write");
        assert_eq!(load_incidents(&path), Incidents::default(), "{garbage:?}");
    }
    // A folder where the file should be: reading fails, still no panic.
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).expect("mkdir");
    assert_eq!(load_incidents(&folder), Incidents::default());
    assert!(save_incidents(&folder, &Incidents::default()).is_err());
    // An older file with fewer fields loads.
    std::fs::write(&path, "{}").expect("write");
    assert_eq!(load_incidents(&path), Incidents::default());
}

#[test]
fn an_incident_file_with_plain_string_hints_still_loads() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("notifications.json");
    // As versions before typed hints wrote it.
    std::fs::write(
        &path,
        r#"{"open":{"identity:bob":{"subject":{"type":"identity","identity":"bob"},"seq":0,
        "since":"2026-03-02T09:00:00Z","kind":"sign-in-required","message":"ended",
        "hint":"sign bob in again","shown":true}},"recovered":{},"shown":[],"nextSeq":1}"#,
    )
    .expect("write");
    let loaded = load_incidents(&path);
    let bob = &loaded.open["identity:bob"];
    assert_eq!(bob.hint, Some(Hint::text("sign bob in again")));
    assert!(bob.shown);
    // Written back as parts, and read again.
    save_incidents(&path, &loaded).expect("save");
    assert_eq!(load_incidents(&path), loaded);
}
