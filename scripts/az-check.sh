#!/usr/bin/env bash
# Checks fake-azure against a real client, Microsoft's Azure CLI: creates a venv under
# target/az-venv if missing, installs azure-cli into it (PyPI), then runs the ignored acceptance
# test crates/fake-azure/tests/az_acceptance.rs, which starts the fake and drives that `az`
# through `az cloud register --endpoint-resource-manager`, `az cloud set`,
# `az login --service-principal --certificate` and `az acr login --expose-token`, with a
# configuration directory of its own (never ~/.azure). CI does not run it.
#   scripts/az-check.sh [CARGO TEST ARGS]   e.g. --locked
#   scripts/az-check.sh --install-only      only the venv and azure-cli
#
# az resolves host names through the OS. The fake's names (below; the test's HOSTS) must reach
# 127.0.0.1: where they do not (glibc does not resolve *.localhost by itself), on Linux the
# script re-runs itself in a private mount namespace (`unshare --mount`, plus
# `--map-root-user` when not root) and bind-mounts there a copy of /etc/hosts with one more
# line; the machine's /etc/hosts is never written. Elsewhere it says which line to add.
set -euo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$self")/.."

hosts=(login.localhost management.localhost azcheck.azurecr.localhost)

venv=target/az-venv
if [ ! -x "$venv/bin/az" ]; then
  if [ ! -x "$venv/bin/python" ]; then
    mkdir -p target
    python3 -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'azure-cli>=2.60,<3'
fi
[[ -n "${AZ_CHECK_NAMESPACE:-}" ]] || echo "azure-cli $("$venv/bin/python" -c 'from importlib.metadata import version; print(version("azure-cli"))')"
if [[ "${1:-}" == "--install-only" ]]; then
  exit 0
fi

# Whether every name resolves to 127.0.0.1 (and only to loopback), as the test demands.
resolve_ok() {
  "$venv/bin/python" - "${hosts[@]}" <<'EOF'
import ipaddress, socket, sys
for host in sys.argv[1:]:
    try:
        ips = {ai[4][0] for ai in socket.getaddrinfo(host, 443)}
    except OSError:
        sys.exit(1)
    if "127.0.0.1" not in ips or not all(ipaddress.ip_address(ip).is_loopback for ip in ips):
        sys.exit(1)
EOF
}

if ! resolve_ok; then
  if [[ -n "${AZ_CHECK_NAMESPACE:-}" ]]; then
    # Inside the private mount namespace: this copy of /etc/hosts is seen by this process
    # tree only, and goes away with it.
    mapped="$(mktemp)"
    trap 'rm -f "$mapped"' EXIT
    cat /etc/hosts >"$mapped"
    printf '\n127.0.0.1 %s\n' "${hosts[*]}" >>"$mapped"
    mount --bind "$mapped" /etc/hosts
    resolve_ok || { echo "az-check: the names still do not resolve inside the namespace" >&2; exit 1; }
  elif [[ "$(uname -s)" == Linux ]] && command -v unshare >/dev/null; then
    as_root=()
    [[ "$(id -u)" -eq 0 ]] || as_root=(--map-root-user)
    exec unshare --mount "${as_root[@]}" env AZ_CHECK_NAMESPACE=1 bash "$self" "$@"
  else
    echo "az-check: ${hosts[*]} must resolve to 127.0.0.1; add this line to your hosts file:" >&2
    echo "127.0.0.1 ${hosts[*]}" >&2
    exit 1
  fi
fi

# --workspace: the feature set every other cargo command builds with.
AZ_CLI="$PWD/$venv/bin/az" \
  cargo test --workspace --test az_acceptance "$@" -- --ignored --nocapture
