#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what the tests need, checks formatting and lints,
# builds the settings UI, the whole workspace and its API docs (no warning allowed), runs the
# unit and end-to-end tests (the tray app's included, and the check that the UI's TypeScript
# bindings match the Rust types), the UI's tests in Chromium, the real app under Xvfb, real
# clients (skopeo, docker) through a real registry, the tests that need a real D-Bus session
# with a Secret Service keyring (gnome-keyring inside dbus-run-session), and checks the fake
# Azure against Microsoft's own MSAL for Python. Prints each step's wall time at the end.
#
# Every cargo command names --workspace: one feature set for the whole workspace, so each crate
# is compiled once (a `-p` build unifies features differently and compiles much again). Steps
# that do not compile run beside the ones that do where they do not need their output.
set -euo pipefail
cd "$(dirname "$0")/.."

# Milliseconds since the epoch (bash's own clock: nothing to install).
now_ms() {
  local t=${EPOCHREALTIME/./}
  echo $((t / 1000))
}
seconds() { printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100)); }
run_started=$(now_ms)
step_lines=()
running=""
running_started=0
logs=target/test-logs
mkdir -p "$logs"
print_times() {
  local status=$? now
  now=$(now_ms)
  if [[ -n "$running" ]]; then
    step_lines+=("$(printf '%9s s  %s (FAILED)' "$(seconds $((now - running_started)))" "$running")")
  fi
  # Background steps still running when something failed: stopped, and said so.
  for name in "${!bg_pid[@]}"; do
    kill -- "${bg_pid[$name]}" 2>/dev/null || true
    step_lines+=("$(printf '%9s s  %s (stopped)' "$(seconds $((now - bg_started[$name])))" "$name")")
  done
  echo
  echo "== scripts/test.sh: wall time per step (side by side: [bg]) =="
  printf '%s\n' "${step_lines[@]}"
  printf '%9s s  total\n' "$(seconds $((now - run_started)))"
  exit "$status"
}
declare -A bg_pid=() bg_started=() bg_log=()
trap print_times EXIT

# step NAME COMMAND...: runs the command as one timed step.
step() {
  running=$1
  shift
  running_started=$(now_ms)
  echo "== $running"
  "$@"
  step_lines+=("$(printf '%9s s  %s' "$(seconds $(($(now_ms) - running_started)))" "$running")")
  running=""
}

# background NAME COMMAND...: starts the command beside the next steps (its output goes to a
# log, printed when it is waited for).
background() {
  local name=$1
  shift
  bg_log[$name]="$logs/$(echo "$name" | tr -c 'a-zA-Z0-9\n' '-').log"
  bg_started[$name]=$(now_ms)
  echo "== $name (started beside the next steps)"
  rm -f "${bg_log[$name]}.end"
  {
    status=0
    "$@" || status=$?
    now_ms >"${bg_log[$name]}.end"
    exit "$status"
  } >"${bg_log[$name]}" 2>&1 &
  bg_pid[$name]=$!
}

# await NAME: waits for a background step; fails the run if it failed.
await() {
  local name=$1 status=0
  wait "${bg_pid[$name]}" || status=$?
  unset 'bg_pid[$name]'
  echo "== $name (output)"
  cat "${bg_log[$name]}"
  local ended
  ended=$(cat "${bg_log[$name]}.end" 2>/dev/null || now_ms)
  local took=$((ended - bg_started[$name]))
  if ((status != 0)); then
    step_lines+=("$(printf '%9s s  [bg] %s (FAILED)' "$(seconds "$took")" "$name")")
    echo "$name failed (exit $status)" >&2
    exit "$status"
  fi
  step_lines+=("$(printf '%9s s  [bg] %s' "$(seconds "$took")" "$name")")
}

export CARGO_TERM_COLOR=never
# Snapshot assertions (insta) compare only: a missing or changed snapshot fails the run and
# nothing is written (tests/README.md says how to review and update snapshots).
export INSTA_UPDATE=no
unset INSTA_FORCE_PASS INSTA_FORCE_UPDATE
# The settings UI (npm packages, vite) needs only Node: built while the Debian packages install.
background "build the settings UI" scripts/build-ui.sh
step "install Debian packages" scripts/install-deps.sh --test
# MSAL for Python (from PyPI) into its own venv, while the workspace compiles.
background "install MSAL for Python" scripts/msal-check.sh --install-only
step "cargo fmt --check" cargo fmt --all --check
# The tray app embeds the built UI (its build reads ui/dist).
await "build the settings UI"
step "clippy" cargo clippy --locked --workspace --all-targets --test real -- -D warnings
step "build the workspace and its tests" cargo build --locked --workspace --lib --bins --tests --test real
# The API docs, private items included (they are for contributors too), build without a
# warning (broken links, stray HTML): cargo doc takes the build lock, so it cannot run beside
# the builds; about 20 s on two cores, as it only checks and documents the workspace's own
# crates (the dependencies are checked by now).
step "cargo doc (warnings denied)" env RUSTDOCFLAGS="-D warnings" cargo doc --locked --workspace --no-deps --document-private-items
await "install MSAL for Python"

# The settings UI in a real browser (Debian's Chromium), with Tauri's IPC mocked: beside the
# Rust tests, which leave a core idle while their longest test finishes. It tests the ui/dist
# built above and leaves it alone (`test:built`): cargo compiles it into the app meanwhile.
background "UI type check and tests (Chromium)" bash -c 'npm --prefix ui run --silent check && npm --prefix ui run test:built'
step "cargo test (workspace)" cargo test --locked --workspace
await "UI type check and tests (Chromium)"
# A real client nobody here wrote (Python MSAL) against the fake's Entra endpoints, and real
# clients nobody here wrote (skopeo, the docker CLI and a docker daemon, podman, buildah) through
# a real registry (distribution).
background "MSAL for Python against the fake" scripts/msal-check.sh --locked
step "real clients (registry, skopeo, docker, dockerd, podman, buildah)" cargo test --locked --workspace --test real
await "MSAL for Python against the fake"
# The real app end to end: Xvfb, D-Bus, dunst, gnome-keyring, WebDriver and the tray menu over D-Bus.
step "desktop test (real app)" scripts/desktop-tests.sh
# The real keyring: gnome-keyring's Secret Service inside a private D-Bus session...
step "Secret Service keyring" dbus-run-session -- scripts/with-keyring.sh \
  cargo test --locked --workspace --test e2e -- --ignored \
    secrets::keyring::secret_service secrets::keyring::login secrets::keyring::user_refresh_token
# ...and a machine with no session bus at all (a headless VM).
step "no session bus" env -u DBUS_SESSION_BUS_ADDRESS -u DISPLAY \
  cargo test --locked --workspace --test e2e -- --ignored secrets::keyring::no_secret_service
