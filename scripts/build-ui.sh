#!/usr/bin/env bash
# Builds the settings UI into ui/dist (the Tauri shell embeds it at compile time).
# Installs the exact npm packages of ui/package-lock.json when they are missing or stale.
set -euo pipefail
cd "$(dirname "$0")/../ui"
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
