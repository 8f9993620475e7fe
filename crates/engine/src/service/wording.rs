//! The engine's hints name `acr-tray-cli` commands: right in a terminal, but in the tray app the
//! user has a menu and a settings window. [`for_the_app`] rewrites the commands a hint names into
//! where the same thing is done in the app; commands without an app equivalent stay as they are
//! (the CLI ships with the app). Applied to what the service shows: error views and
//! notifications.

use std::sync::Arc;

use crate::notify::{Notification, Notifier};

/// Where the app does what a CLI command does (`None`: keep the command).
fn in_the_app(command: &str) -> Option<&'static str> {
    let mut words = command.split_ascii_whitespace();
    if words.next() != Some("acr-tray-cli") {
        return None;
    }
    match (words.next()?, words.next()) {
        ("login", _) => Some("“Sign in again…” in the tray menu, or Accounts in Settings"),
        ("logout", _) => Some("“Sign out” under Accounts in Settings"),
        ("registry", Some("add")) => Some("“Change…” next to the registry's sign-in in Settings"),
        ("registry", Some("list")) | ("status", _) => Some("the Registries page in Settings"),
        ("doctor", _) => Some("“Fix” under Docker in Settings → General"),
        ("cloud", _) => Some("the cloud under Settings → General"),
        ("refresh", _) => Some("“Refresh now” in the tray menu"),
        _ => None,
    }
}

/// `text` with each `` `acr-tray-cli ...` `` that has an app equivalent replaced by it, and the
/// CLI's flag advice ("(add --device-code without a browser)") left out: the app asks for a
/// sign-in method itself.
pub fn for_the_app(text: &str) -> String {
    without_flag_notes(&replace_commands(text))
}

/// Drops parentheticals that give bare CLI flags (`--x` outside backticks), and ", or use
/// --device-code".
fn without_flag_notes(text: &str) -> String {
    let text = text.replace(", or use --device-code", "");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(open) = rest.find(" (") {
        let Some(len) = rest[open..].find(')') else {
            break;
        };
        let inner = &rest[open + 2..open + len];
        out.push_str(&rest[..open]);
        if !inner.contains("--") || inner.contains('`') {
            out.push_str(&rest[open..=open + len]);
        }
        rest = &rest[open + len + 1..];
    }
    out.push_str(rest);
    out
}

fn replace_commands(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    // An odd number of backticks leaves the last one unpaired: it stays as it is.
    let paired = parts.len() % 2 == 1;
    let mut out = String::with_capacity(text.len());
    for (i, part) in parts.iter().enumerate() {
        let quoted = i % 2 == 1 && (paired || i + 1 < parts.len());
        if !quoted {
            if i % 2 == 1 {
                out.push('`');
            }
            out.push_str(part);
            continue;
        }
        match in_the_app(part) {
            Some(place) => {
                // "run `acr-tray-cli login` as bob" reads "use ... as bob".
                if out.ends_with("run ") {
                    out.truncate(out.len() - "run ".len());
                    out.push_str("use ");
                }
                out.push_str(place);
            }
            None => {
                out.push('`');
                out.push_str(part);
                out.push('`');
            }
        }
    }
    out
}

/// Shows notifications through `inner`, their text in the app's words.
pub struct AppWording(pub Arc<dyn Notifier>);

impl Notifier for AppWording {
    fn show(&self, n: &Notification) {
        let mut n = n.clone();
        n.title = for_the_app(&n.title);
        n.body = for_the_app(&n.body);
        self.0.show(&n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_commands_become_places_in_the_app() {
        assert_eq!(
            for_the_app(
                "sign bob in again with `acr-tray-cli login`; nothing is tried for it until then"
            ),
            "sign bob in again with “Sign in again…” in the tray menu, or Accounts in Settings; nothing is tried for it until then"
        );
        assert_eq!(
            for_the_app("run `acr-tray-cli login` as alice"),
            "use “Sign in again…” in the tray menu, or Accounts in Settings as alice"
        );
        assert_eq!(
            for_the_app(
                "switch it to an Entra identity first (`acr-tray-cli registry add beta --identity ID`)"
            ),
            "switch it to an Entra identity first (“Change…” next to the registry's sign-in in Settings)"
        );
        assert_eq!(
            for_the_app(
                "install x, or stop Docker from using it (`acr-tray-cli doctor --fix` can do that, with a backup)"
            ),
            "install x, or stop Docker from using it (“Fix” under Docker in Settings → General can do that, with a backup)"
        );
    }

    #[test]
    fn cli_flag_advice_is_left_out() {
        assert_eq!(
            for_the_app(
                "sign in again: `acr-tray-cli login` (add --device-code without a browser) for dev@contoso.example"
            ),
            "sign in again: “Sign in again…” in the tray menu, or Accounts in Settings for dev@contoso.example"
        );
        assert_eq!(
            for_the_app("run `acr-tray-cli login` again (or with --device-code)"),
            "use “Sign in again…” in the tray menu, or Accounts in Settings again"
        );
        assert_eq!(
            for_the_app("run `acr-tray-cli login` again, or use --device-code"),
            "use “Sign in again…” in the tray menu, or Accounts in Settings again"
        );
        // Commands in backticks stay, flags and all; so do other parentheticals.
        let az = "enable it (`az acr update -n a --admin-enabled true`) (the docs say so) (or --x)";
        assert_eq!(
            for_the_app(az),
            "enable it (`az acr update -n a --admin-enabled true`) (the docs say so)"
        );
    }

    #[test]
    fn other_commands_and_plain_text_stay() {
        let az = "enable it (`az acr update -n a --admin-enabled true`)";
        assert_eq!(for_the_app(az), az);
        let unknown = "`acr-tray-cli docker use-helper` writes credHelpers";
        assert_eq!(for_the_app(unknown), unknown);
        assert_eq!(for_the_app("no commands here"), "no commands here");
        assert_eq!(for_the_app("a stray ` backtick"), "a stray ` backtick");
        assert_eq!(for_the_app(""), "");
    }
}
