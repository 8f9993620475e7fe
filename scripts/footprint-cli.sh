#!/usr/bin/env bash
# Idle footprint of `acr-tray-cli run` (issue #5): a measurement, not a test (CI does not run it).
#
# Builds the release acr-tray-cli and fake-azure, starts the fake with 10 registries, signs its
# service principal in (secret in a 0600 file, so no keyring is needed), adds the registries,
# starts `acr-tray-cli run`, waits for the first pass to settle, then samples the engine's RSS
# (VmRSS, and VmHWM at the end) and CPU time (utime+stime from /proc/PID/stat) once a second
# for FOOTPRINT_MINUTES (default 10) idle minutes. Prints max RSS and the CPU seconds used during
# the idle window. Targets: RSS <= 20 MiB, CPU <= 0.1 s.
#
#   scripts/footprint-cli.sh                      # 10 idle minutes
#   FOOTPRINT_MINUTES=1 scripts/footprint-cli.sh  # a quick trial
set -euo pipefail

cd "$(dirname "$0")/.."
MINUTES=${FOOTPRINT_MINUTES:-10}
REGISTRIES=${FOOTPRINT_REGISTRIES:-10}
TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}

cargo build --release -q -p acr-tray-cli -p fake-azure
CLI=$TARGET_DIR/release/acr-tray-cli
FAKE=$TARGET_DIR/release/fake-azure

WORK=$(mktemp -d)
FAKE_PID= RUN_PID=
cleanup() {
    [ -n "$RUN_PID" ] && kill "$RUN_PID" 2>/dev/null || true
    [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

names=$(seq -f 'idle%02g' 1 "$REGISTRIES" | paste -sd, -)
"$FAKE" --registries "$names" >"$WORK/fake.out" 2>"$WORK/fake.err" &
FAKE_PID=$!
for _ in $(seq 100); do
    grep -q 'Ctrl-C to stop' "$WORK/fake.out" 2>/dev/null && break
    sleep 0.1
done
field() { sed -n "s/^ *$1 *: *//p" "$WORK/fake.out" | head -1; }
AUTHORITY=$(field 'Entra authority')
ARM=$(field 'ARM')
SUFFIX=$(field 'ACR suffix')
CA=$(field 'CA certificate')
TENANT=$(field 'tenant')
SP_LINE=$(sed -n 's/^ *service principal: client id //p' "$WORK/fake.out")
CLIENT=${SP_LINE%% secret *}
SECRET=${SP_LINE##* secret }

export ACR_TRAY_HOME=$WORK/home DOCKER_CONFIG=$WORK/docker HOME=$WORK/home
mkdir -p "$ACR_TRAY_HOME" "$DOCKER_CONFIG"
"$CLI" cloud set custom --authority "$AUTHORITY" --arm "$ARM" --acr-suffix "$SUFFIX" --ca-file "$CA" >/dev/null
printf '%s\n' "$SECRET" | "$CLI" login --service-principal --tenant "$TENANT" --client-id "$CLIENT" \
    --secret-stdin --secret-file "$ACR_TRAY_HOME/sp-secret" >/dev/null
for n in ${names//,/ }; do "$CLI" registry add "$n" >/dev/null; done

"$CLI" run --json >"$WORK/events.jsonl" 2>"$WORK/run.err" &
RUN_PID=$!
# The first pass: every registry refreshed once.
for _ in $(seq 300); do
    [ "$(grep -c '"event":"refreshed"' "$WORK/events.jsonl" 2>/dev/null || true)" -ge "$REGISTRIES" ] && break
    sleep 0.1
done
refreshed=$(grep -c '"event":"refreshed"' "$WORK/events.jsonl" || true)
if [ "$refreshed" -lt "$REGISTRIES" ]; then
    echo "the first pass did not refresh every registry ($refreshed of $REGISTRIES):" >&2
    cat "$WORK/events.jsonl" "$WORK/run.err" >&2
    exit 1
fi
sleep 5 # let the pass settle (state saved, next wake planned)

TICK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$RUN_PID/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$RUN_PID/status"; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$RUN_PID/status"; }

start_ticks=$(cpu_ticks)
settled_hwm=$(hwm_kib)
max_rss=0
end=$((SECONDS + MINUTES * 60))
while [ $SECONDS -lt $end ]; do
    kill -0 "$RUN_PID" 2>/dev/null || { echo "acr-tray-cli run exited" >&2; cat "$WORK/run.err" >&2; exit 1; }
    r=$(rss_kib)
    [ "$r" -gt "$max_rss" ] && max_rss=$r
    sleep 1
done
end_ticks=$(cpu_ticks)
hwm=$(hwm_kib)
threads=$(awk '/^Threads:/ {print $2}' "/proc/$RUN_PID/status")
cpu=$(awk -v t=$((end_ticks - start_ticks)) -v hz="$TICK" 'BEGIN {printf "%.2f", t / hz}')
events=$(wc -l <"$WORK/events.jsonl")

echo "acr-tray-cli run, $REGISTRIES registries, $MINUTES idle minutes after the first pass"
echo "  max RSS while idle : $((max_rss / 1024)).$(((max_rss % 1024) * 10 / 1024)) MiB ($max_rss KiB; target <= 20 MiB)"
echo "  peak RSS (VmHWM)   : $((hwm / 1024)).$(((hwm % 1024) * 10 / 1024)) MiB (after the first pass: $settled_hwm KiB)"
echo "  CPU while idle     : $cpu s (utime+stime, $((end_ticks - start_ticks)) ticks at $TICK Hz; target <= 0.1 s)"
echo "  threads            : $threads"
echo "  events printed     : $events"
