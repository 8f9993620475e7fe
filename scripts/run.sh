#!/usr/bin/env bash
# Runs ACR Tray on a fresh machine: installs the system libraries it needs, builds it, and runs
# `acr-tray-cli` with the arguments given (default: `status`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --release --locked -p acr-tray-cli
if (($# == 0)); then set -- status; fi
exec target/release/acr-tray-cli "$@"
