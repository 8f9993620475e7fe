//! A wrapper for secrets (tokens, client secrets, passwords) that never prints them.

use std::fmt;

/// A secret value. `Debug` prints a redaction marker and there is deliberately no `Display`,
/// so a secret cannot end up in a log line, an error message or the UI by accident. Code that
/// must send it somewhere calls [`Secret::expose`] at that one place.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one call that sends or stores it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is empty (an empty secret is always a usage error).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

/// Removes the query string and any user info from a URL before it is shown to anyone.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            parsed.set_query(None);
            parsed.set_fragment(None);
            // Setting these can only fail for URLs that cannot have them; nothing to redact then.
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        Err(_) => url.split(['?', '#']).next().unwrap_or_default().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        assert_eq!(format!("{:?}", Some(&s)), "Some(Secret(<redacted>))");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn urls_lose_query_and_user_info() {
        assert_eq!(
            redact_url("https://user:pw@example.com/a?token=abc#frag"),
            "https://example.com/a"
        );
        assert_eq!(redact_url("not a url?secret=1"), "not a url");
    }
}
