//! Docker's side: its config.json and its credential stores (helpers, ACR Tray's own, podman's).

mod config_file;
mod credential_stores;
