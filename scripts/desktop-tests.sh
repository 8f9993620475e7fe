#!/usr/bin/env bash
# The real tray app end to end (tests/desktop): `acr-tray` under Xvfb, in a private D-Bus session
# with a notification daemon (dunst) and an unlocked Secret Service (gnome-keyring), driven through
# WebDriver (WebKitGTK's WebKitWebDriver) and its tray menu over D-Bus, against the fake Azure.
# Run after scripts/test.sh has installed the packages and built the UI (or run
# scripts/install-deps.sh --test and scripts/build-ui.sh first).
#   scripts/desktop-tests.sh                 the test alone
#   scripts/desktop-tests.sh --screenshots   also screenshots of the window, to
#                                            docs/screenshots/app-*.png
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--inner" ]]; then
  # Inside xvfb-run + dbus-run-session: throwaway runtime and data folders (the keyring lives
  # there), dunst, an unlocked gnome-keyring; everything started here is stopped at exit.
  XDG_RUNTIME_DIR=$(mktemp -d /tmp/acr-tray-desktop-run.XXXXXX)
  XDG_DATA_HOME=$(mktemp -d /tmp/acr-tray-desktop-data.XXXXXX)
  chmod 700 "$XDG_RUNTIME_DIR"
  export XDG_RUNTIME_DIR XDG_DATA_HOME NO_AT_BRIDGE=1
  pids=()
  cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$XDG_RUNTIME_DIR" "$XDG_DATA_HOME"
  }
  trap cleanup EXIT
  dunst >"$XDG_RUNTIME_DIR/dunst.log" 2>&1 &
  pids+=($!)
  kr_env=$(printf '%s' 'acr-tray-test' | gnome-keyring-daemon --daemonize --unlock --components=secrets)
  if [[ -n "$kr_env" ]]; then export $kr_env; fi
  # --daemonize forks: find it by the control folder it was given (ours alone).
  for p in $(pgrep -u "$(id -u)" gnome-keyring-d || true); do
    if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR"; then
      pids+=("$p")
    fi
  done
  # dunst answers on the bus before the first notification arrives.
  for _ in $(seq 1 600); do dunstctl count displayed >/dev/null 2>&1 && break; sleep 0.1; done
  cargo test --locked --workspace --test desktop -- --ignored --test-threads=1 --nocapture
  exit
fi

if [[ "${1:-}" == "--screenshots" ]]; then
  export ACR_TRAY_SCREENSHOT_DIR=$PWD/docs/screenshots
fi
if [[ ! -f ui/dist/index.html ]]; then
  scripts/build-ui.sh
fi
# The app and the test, built as scripts/test.sh builds everything (one feature set for the
# whole workspace, so nothing is compiled twice): nothing to do after it.
cargo build --locked --workspace --lib --bins --tests
# Export DISPLAY before the bus starts, so the helpers it activates get it.
xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- "$PWD/scripts/desktop-tests.sh" --inner
