//! Other clients' files a refresh also writes (podman's auth.json, Helm's registry config, the
//! `[docker] extra_configs`): what each write did, remembered in `state.json` per file, logged
//! at info (the shells say it, with what to do), and told as events:
//! [`Event::ClientFileFailed`] on every pass while it fails, [`Event::ClientFileWritten`] once
//! when it is written again, [`Event::ClientFileDropped`] when it is no longer kept in sync.
//! A failing file never fails the registries' refresh: Docker's own config is written as usual.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::docker;
use crate::engine::Engine;
use crate::error::Result;
use crate::events::{Client, Event};
use crate::hint::Hint;
use crate::store::state::{ClientFileState, MAX_CLIENT_FILES, State, StoredError};

impl Engine {
    /// The other clients' files the last pass that tried them could not write, by file: those
    /// the settings still keep in sync (a file switched off since is not listed).
    pub fn failing_client_files(&self) -> BTreeMap<String, ClientFileState> {
        self.kept_client_files(State::load(&self.paths.state_file()).client_files)
    }

    /// Of the remembered failures in `failing`, those whose files the settings still keep in
    /// sync.
    pub(crate) fn kept_client_files(
        &self,
        mut failing: BTreeMap<String, ClientFileState>,
    ) -> BTreeMap<String, ClientFileState> {
        let settings = &self.settings;
        let extras: Vec<String> = settings
            .docker
            .extra_configs
            .iter()
            .flat_map(|configured| {
                let resolved = docker::extra_config_file(configured, &self.env).ok();
                [Some(configured.clone()), resolved]
            })
            .flatten()
            .map(|p| p.display().to_string())
            .collect();
        failing.retain(|file, f| match f.client {
            Client::Podman => settings.docker.podman,
            Client::Helm => settings.clients.helm,
            Client::DockerExtra => extras.contains(file),
        });
        failing
    }
}

/// What writing one client file did.
#[derive(Debug, Clone)]
pub(super) struct ClientFileOutcome {
    /// The file (or the path as configured, when it names no usable file).
    pub(super) file: String,
    /// Whose file it is.
    pub(super) client: Client,
    /// Whether it was written.
    pub(super) result: Result<()>,
}

/// Records this pass's client-file outcomes into `state` and returns the events they make.
/// `outcomes` is every file the pass kept in sync (`None`: none was tried, as when no
/// credential was written): a remembered failure of a file no longer among them is dropped.
pub(super) fn record_client_files(
    state: &mut State,
    outcomes: Option<&[ClientFileOutcome]>,
    now: DateTime<Utc>,
) -> Vec<Event> {
    let Some(outcomes) = outcomes else {
        return Vec::new();
    };
    let mut events = Vec::new();
    state.client_files.retain(|file, f| {
        let kept = outcomes.iter().any(|o| &o.file == file);
        if !kept {
            events.push(Event::ClientFileDropped {
                file: file.clone(),
                client: f.client,
            });
        }
        kept
    });
    for outcome in outcomes {
        let file = &outcome.file;
        match &outcome.result {
            Ok(()) => {
                if state.client_files.remove(file).is_some() {
                    tracing::info!(file = %file, "{} is written again", outcome.client.file_name());
                    events.push(Event::ClientFileWritten {
                        file: file.clone(),
                        client: outcome.client,
                    });
                }
            }
            Err(e) => {
                let hint = failure_hint(e.hint(), outcome.client);
                let error = StoredError {
                    hint: Some(hint.clone()),
                    ..StoredError::new(e, now)
                };
                // Said by the shells (notification, `status`, the window, `refresh`'s
                // warning) with its hint; for the log, once a pass.
                tracing::info!(file = %file, error = %error.message, "could not update {}; Docker's config and the other files are written as usual", outcome.client.file_name());
                if state.client_files.contains_key(file)
                    || state.client_files.len() < MAX_CLIENT_FILES
                {
                    state.client_files.insert(
                        file.clone(),
                        ClientFileState {
                            client: outcome.client,
                            last_error: error.clone(),
                        },
                    );
                }
                events.push(Event::ClientFileFailed {
                    file: file.clone(),
                    client: outcome.client,
                    kind: error.kind,
                    message: error.message,
                    hint: error.hint,
                });
            }
        }
    }
    events
}

/// What to do about a client file that cannot be written: the error's own hint (fix or move
/// the malformed file, install the helper it names, …), or stop keeping it in sync.
fn failure_hint(hint: Option<Hint>, client: Client) -> Hint {
    let stop = client.how_to_stop();
    match hint {
        Some(h) => h.then(format!("; or {stop}")),
        None => Hint::text(stop),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn failed(file: &str, client: Client) -> ClientFileOutcome {
        ClientFileOutcome {
            file: file.to_owned(),
            client,
            result: Err(Error::DockerConfigMalformed {
                path: file.into(),
                detail: "EOF".to_owned(),
            }),
        }
    }

    fn written(file: &str, client: Client) -> ClientFileOutcome {
        ClientFileOutcome {
            file: file.to_owned(),
            client,
            result: Ok(()),
        }
    }

    #[test]
    fn a_failure_is_remembered_until_the_file_is_written_again() {
        let now = Utc::now();
        let mut state = State::default();
        let pass = [failed("/h/helm.json", Client::Helm)];
        let events = record_client_files(&mut state, Some(&pass), now);
        assert!(
            matches!(&events[..], [Event::ClientFileFailed { file, client: Client::Helm, hint: Some(h), .. }]
                if file == "/h/helm.json" && h.plain().contains("[clients] helm = false")),
            "{events:?}"
        );
        let stored = &state.client_files["/h/helm.json"];
        assert!(stored.last_error.message.contains("left it untouched"));
        assert!(
            stored
                .last_error
                .hint
                .as_ref()
                .is_some_and(|h| h.plain().starts_with("fix the JSON by hand")),
            "{stored:?}"
        );
        // Nothing tried: nothing changes.
        assert!(record_client_files(&mut state, None, now).is_empty());
        assert_eq!(state.client_files.len(), 1);

        let pass = [written("/h/helm.json", Client::Helm)];
        let events = record_client_files(&mut state, Some(&pass), now);
        assert_eq!(
            events,
            [Event::ClientFileWritten {
                file: "/h/helm.json".to_owned(),
                client: Client::Helm
            }]
        );
        assert!(state.client_files.is_empty());
        // Written again: no further event.
        assert!(record_client_files(&mut state, Some(&pass), now).is_empty());
    }

    #[test]
    fn a_file_no_longer_kept_in_sync_is_forgotten_and_the_list_is_bounded() {
        let now = Utc::now();
        let mut state = State::default();
        let many: Vec<ClientFileOutcome> = (0..MAX_CLIENT_FILES + 10)
            .map(|i| failed(&format!("/ci/{i:03}/config.json"), Client::DockerExtra))
            .collect();
        let events = record_client_files(&mut state, Some(&many), now);
        assert_eq!(events.len(), many.len(), "each failure is told");
        assert_eq!(state.client_files.len(), MAX_CLIENT_FILES);

        let pass = [written("/h/podman.json", Client::Podman)];
        let events = record_client_files(&mut state, Some(&pass), now);
        assert_eq!(events.len(), MAX_CLIENT_FILES, "each forgotten one is told");
        assert!(
            events.iter().all(|e| matches!(
                e,
                Event::ClientFileDropped {
                    client: Client::DockerExtra,
                    ..
                }
            )),
            "{events:?}"
        );
        assert!(state.client_files.is_empty());
    }
}
