#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what the tests need, checks formatting and lints,
# runs the unit and end-to-end tests, real clients (skopeo, docker) through a real registry, then
# the tests that need a real D-Bus session with a Secret Service keyring (gnome-keyring inside
# dbus-run-session), and checks the fake Azure against Microsoft's own MSAL for Python.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test

export CARGO_TERM_COLOR=never
cargo fmt --all --check
cargo clippy --locked --workspace --all-targets -- -D warnings
cargo clippy --locked -p acr-tray-tests --test real -- -D warnings
cargo test --locked --workspace
# Real clients nobody here wrote (skopeo, the docker CLI) through a real registry (distribution).
cargo test --locked -p acr-tray-tests --test real
# The real keyring: gnome-keyring's Secret Service inside a private D-Bus session...
dbus-run-session -- scripts/with-keyring.sh \
  cargo test --locked -p acr-tray-tests --test e2e -- --ignored \
    secret_service::secret_service secret_service::login secret_service::user_refresh_token
# ...and a machine with no session bus at all (a headless VM).
env -u DBUS_SESSION_BUS_ADDRESS -u DISPLAY \
  cargo test --locked -p acr-tray-tests --test e2e -- --ignored secret_service::no_secret_service
# A real client nobody here wrote (Python MSAL, from PyPI) against the fake's Entra endpoints.
scripts/msal-check.sh --locked
