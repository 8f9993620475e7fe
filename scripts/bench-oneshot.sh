#!/usr/bin/env bash
# One-shot command figures (a measurement, not a test; CI does not run it): builds the release
# acr-tray-cli and docker-credential-acr-tray, then runs tests/benches/oneshot.rs inside a
# private D-Bus session with an unlocked gnome-keyring (Secret Service), which times
# `acr-tray-cli refresh REG` and `docker-credential-acr-tray get` against the fake Azure with the
# secret in the keyring and in a file, next to /bin/true. Needs scripts/install-deps.sh --test.
#
#   scripts/bench-oneshot.sh                  one round
#   BENCH_ROUNDS=3 scripts/bench-oneshot.sh   three rounds
#   BENCH_BEFORE=/other/checkout/target/release scripts/bench-oneshot.sh
#                                             also an older build's binaries, round by round
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p acr-tray-cli
bench=$(cargo bench --locked --no-run -p acr-tray-tests --bench oneshot 2>&1 |
  sed -n 's/.*Executable .*(\(.*\))$/\1/p' | tail -1)
ours=${CARGO_TARGET_DIR:-$PWD/target}/release
echo "$(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
for round in $(seq "${BENCH_ROUNDS:-1}"); do
  for dir in ${BENCH_BEFORE:-} "$ours"; do
    echo "== round $round: $dir (load $(cut -d' ' -f1-3 /proc/loadavg))"
    ACR_TRAY_BENCH_BIN=$dir dbus-run-session -- scripts/with-keyring.sh "$bench" 2>&1 |
      grep -v 'dbus-daemon'
  done
done
