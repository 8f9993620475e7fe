#!/usr/bin/env bash
# Checks fake-azure against a real client, Microsoft's MSAL for Python: creates a venv under
# target/msal-venv if missing, installs msal into it (PyPI), then runs the ignored acceptance
# test crates/fake-azure/tests/msal_acceptance.rs, which starts the fake and runs
# crates/fake-azure/tests/msal/msal_check.py with that interpreter.
#   scripts/msal-check.sh [CARGO TEST ARGS]   e.g. --locked
#   scripts/msal-check.sh --install-only      only the venv and msal (scripts/test.sh runs this
#                                             while other steps compile)
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/msal-venv
if [ ! -x "$venv/bin/python" ]; then
  mkdir -p target
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import msal' 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'msal>=1.31,<2'
fi
echo "msal $("$venv/bin/python" -c 'import msal; print(msal.__version__)')"
if [[ "${1:-}" == "--install-only" ]]; then
  exit 0
fi

# --workspace: the feature set every other cargo command of scripts/test.sh builds with.
MSAL_PYTHON="$PWD/$venv/bin/python" \
  cargo test --workspace --test msal_acceptance "$@" -- --ignored --nocapture
