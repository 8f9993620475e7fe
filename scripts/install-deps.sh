#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages ACR Tray needs to build and test. Safe to run again.
#   scripts/install-deps.sh          what building and running the app and the CLI need
#                                    (WebKitGTK, the tray's appindicator, D-Bus, Node for the UI)
#   scripts/install-deps.sh --test   also what the tests start: a D-Bus session with a keyring
#                                    and a notification daemon, Xvfb, WebKitWebDriver, Chromium
#                                    (UI tests), the registry, skopeo, htpasswd, a docker CLI
#                                    and daemon, podman and buildah
#   scripts/install-deps.sh --footprint  also what scripts/footprint-app.sh drives the app with
#                                    (xdotool, xprop, gdbus, ImageMagick's import, Xvfb, D-Bus)
set -euo pipefail

test=false
footprint=false
for arg in "$@"; do
  case "$arg" in
    --test) test=true ;;
    --footprint) footprint=true ;;
    *)
      echo "install-deps.sh: unknown option $arg (use --test and/or --footprint)" >&2
      exit 2
      ;;
  esac
done

packages=(build-essential pkg-config cmake libdbus-1-dev libssl-dev ca-certificates curl
  libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libsoup-3.0-dev libxdo-dev)
# The settings UI is built with npm (any Node >= 18 will do; Debian's only if there is none).
if ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi
if $test; then
  packages+=(dbus dbus-daemon dbus-x11 gnome-keyring python3 python3-venv)
  # The app under a real X server, WebDriver, a notification daemon, Chromium for the UI tests.
  packages+=(xvfb xauth webkit2gtk-driver dunst chromium imagemagick)
  # tests/real: distribution 2.8, skopeo, htpasswd, podman and buildah (which pull rootful into
  # a store of the test's own); unshare and mount come with util-linux/mount.
  packages+=(docker-registry skopeo apache2-utils util-linux mount podman buildah)
  # `systemd-analyze verify` checks the user unit `acr-tray-cli service install` writes.
  packages+=(systemd)
  # A Docker daemon the tests start themselves, and a docker CLI: any will do (Docker's own
  # docker-ce included); Debian's docker.io only if either is missing.
  if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
    packages+=(docker.io)
  fi
fi
if $footprint; then
  packages+=(xvfb xauth dbus dbus-daemon dbus-x11 libglib2.0-bin xdotool x11-utils imagemagick python3)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "Please install: ${missing[*]} (this script knows apt-get only)" >&2
  exit 1
fi
sudo=()
if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
echo "Installing ${missing[*]}" >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
