#!/usr/bin/env bash
# Runs the ACR Tray app on a fresh machine: installs the system libraries it needs, builds the
# settings UI and the app, and starts it in the tray. Arguments go to the app, e.g.
#   scripts/run.sh --demo        (a built-in fake Azure, to see it work without an account;
#                                 built with the `demo` feature, which packages leave out)
#   scripts/run.sh --settings    (open the settings window at start)
# The headless engine and CLI: `cargo run --release -p acr-tray-cli -- --help`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build-ui.sh
features=()
for arg in "$@"; do
  [[ $arg == --demo ]] && features=(--features demo)
done
cargo build --release --locked -p acr-tray ${features[@]+"${features[@]}"}
exec target/release/acr-tray "$@"
