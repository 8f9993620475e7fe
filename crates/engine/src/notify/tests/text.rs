//! Sentences and formats.

use chrono::{Local, TimeDelta};

use super::*;
use crate::notify::text::{and_list, client_file_failure, comma_list, escape_markup, local_time};

#[test]
fn markup_is_escaped_for_markup_servers() {
    assert_eq!(
        escape_markup("--scope <registry id> & more"),
        "--scope &lt;registry id&gt; &amp; more"
    );
}

#[test]
fn a_client_file_failure_names_the_file_once() {
    assert_eq!(
        client_file_failure("/h/auth.json", "/h/auth.json is not valid JSON"),
        "/h/auth.json is not valid JSON"
    );
    assert_eq!(
        client_file_failure("/h/auth.json", "permission denied"),
        "/h/auth.json: permission denied"
    );
}

#[test]
fn times_far_away_name_the_day() {
    let now = t0();
    let soon = now + mins(125);
    let far = now + TimeDelta::hours(30);
    assert_eq!(
        local_time(soon, now),
        soon.with_timezone(&Local).format("%H:%M").to_string()
    );
    assert_eq!(
        local_time(far, now),
        far.with_timezone(&Local).format("%a %H:%M").to_string()
    );
    assert_ne!(
        local_time(far, now),
        local_time(far - TimeDelta::days(1), now)
    );
}

#[test]
fn list_helpers() {
    let cases: [(&[&str], &str, &str); 5] = [
        (&[], "", ""),
        (&["a"], "a", "a"),
        (&["a", "b"], "a and b", "a, b"),
        (&["a", "b", "c"], "a, b and c", "a, b, c"),
        (
            &["a", "b", "c", "d", "e", "f"],
            "a, b, c, d, e and 1 more",
            "a, b, c, d, e and 1 more",
        ),
    ];
    for (names, and, comma) in cases {
        assert_eq!(and_list(names), and);
        assert_eq!(comma_list(names), comma);
    }
}
