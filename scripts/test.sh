#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what the tests need, checks formatting and lints,
# builds the settings UI, runs the unit and end-to-end tests (the tray app's included), checks
# that the UI's TypeScript bindings match the Rust types, runs the UI's tests in Chromium, real
# clients (skopeo, docker) through a real registry, then the tests that need a real D-Bus session
# with a Secret Service keyring (gnome-keyring inside dbus-run-session), and checks the fake
# Azure against Microsoft's own MSAL for Python.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test

export CARGO_TERM_COLOR=never
cargo fmt --all --check
# The tray app embeds the built UI.
scripts/build-ui.sh
cargo clippy --locked --workspace --all-targets -- -D warnings
cargo clippy --locked -p acr-tray-tests --test real -- -D warnings
cargo test --locked --workspace
# ui/src/bindings.ts is generated from the Rust view types: fail when they drift apart.
cargo test --locked -p acr-tray-engine --features ts --lib service::bindings
# The settings UI in a real browser (Debian's Chromium), with Tauri's IPC mocked.
npm --prefix ui run --silent check
npm --prefix ui test
# The real app end to end: Xvfb, D-Bus, dunst, gnome-keyring, WebDriver and the tray menu over D-Bus.
scripts/desktop-tests.sh
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
