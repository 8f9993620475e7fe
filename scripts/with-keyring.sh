#!/usr/bin/env bash
# Inside a D-Bus session: starts an unlocked gnome-keyring (Secret Service) in throwaway
# folders, runs the command, and stops the keyring again.
set -euo pipefail
XDG_RUNTIME_DIR=$(mktemp -d /tmp/acr-tray-xdg-run.XXXXXX)
XDG_DATA_HOME=$(mktemp -d /tmp/acr-tray-xdg-data.XXXXXX)
chmod 700 "$XDG_RUNTIME_DIR"
export XDG_RUNTIME_DIR XDG_DATA_HOME
keyring_pid=
cleanup() {
  if [[ -n "$keyring_pid" ]]; then kill "$keyring_pid" 2>/dev/null || true; fi
  rm -rf "$XDG_RUNTIME_DIR" "$XDG_DATA_HOME"
}
trap cleanup EXIT
kr_env=$(printf '%s' 'acr-tray-test' | gnome-keyring-daemon --daemonize --unlock --components=secrets)
if [[ -n "$kr_env" ]]; then export $kr_env; fi
keyring_pid=$(pgrep -n -u "$(id -u)" gnome-keyring-d || true)
"$@"
