//! Docker's side: its config.json and its credential stores (helpers, ACR Tray's own, podman's),
//! and `check`, which uses the credential Docker holds as Docker would.

mod check;
mod client_files;
mod config_file;
mod credential_stores;
mod extra_configs;
mod helm;
mod helm_install;
