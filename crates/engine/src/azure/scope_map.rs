//! ACR tokens with scope maps (docs/protocol.md#acr-tokens): what ACR Tray knows of them
//! without asking anyone — a token's two password names, and which names a token may have.

use serde::{Deserialize, Serialize};

/// One of an ACR token's two passwords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenPassword {
    /// `password1`.
    Password1,
    /// `password2`.
    Password2,
}

impl TokenPassword {
    /// ARM's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password1 => "password1",
            Self::Password2 => "password2",
        }
    }

    /// `password1` or `password2` (any case); `None` for anything else.
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "password1" => Some(Self::Password1),
            "password2" => Some(Self::Password2),
            _ => None,
        }
    }
}

impl std::fmt::Display for TokenPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `name` can be an ACR token's name: 5 to 50 letters, digits and hyphens, as ACR
/// allows (it goes into ARM URLs and is the user name of Basic credentials).
pub fn valid_token_name(name: &str) -> bool {
    (5..=50).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}
