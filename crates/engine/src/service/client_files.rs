//! Other clients' files (podman's auth.json, Helm's registry config, `[docker] extra_configs`)
//! that the last refresh could not write, as the window and the tray show them.

use chrono::{DateTime, Utc};
use serde::Serialize;

#[cfg(test)]
use ts_rs::TS;

use super::words::AppWords;
use crate::events::Client;
use crate::store::state::ClientFileState;

/// A client's file ACR Tray could not write: Docker's own config was written, this one was
/// left as it was (its client's login runs out with its last token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct ClientFileView {
    /// The file (or the path as configured, when it names no usable file).
    pub file: String,
    /// Whose file it is.
    pub client: Client,
    /// What the file is, in words: "Helm's registry config".
    pub what: String,
    /// Why it was not written.
    pub message: String,
    /// What to do.
    pub hint: Option<String>,
    /// When it was last tried.
    pub at: DateTime<Utc>,
}

impl ClientFileView {
    /// A remembered failure, its hint in the app's words.
    pub fn from_state(file: &str, state: &ClientFileState) -> Self {
        let error = &state.last_error;
        Self {
            file: file.to_owned(),
            client: state.client,
            what: state.client.file_name().to_owned(),
            message: error.message.clone(),
            hint: error
                .hint
                .as_ref()
                .map(|h| h.render(&AppWords))
                .filter(|h| !h.is_empty()),
            at: error.at,
        }
    }
}
