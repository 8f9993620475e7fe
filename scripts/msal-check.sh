#!/usr/bin/env bash
# Checks fake-azure against a real client, Microsoft's MSAL for Python: creates a venv under
# target/msal-venv if missing, installs msal into it (PyPI), then runs the ignored acceptance
# test crates/fake-azure/tests/msal_acceptance.rs, which starts the fake and runs
# crates/fake-azure/tests/msal/msal_check.py with that interpreter.
# Extra arguments go to cargo test (e.g. --locked).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/msal-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'msal>=1.31,<2'
echo "msal $("$venv/bin/python" -c 'import msal; print(msal.__version__)')"

MSAL_PYTHON="$PWD/$venv/bin/python" \
  cargo test -p fake-azure --test msal_acceptance "$@" -- --ignored --nocapture
