#!/usr/bin/env bash
# Footprint of the tray app, `acr-tray` (issue #6): a measurement, not a test (CI does not run it).
#
# Builds the UI and the release acr-tray, then, on a private X server (Xvfb) and session bus
# (dbus-run-session), with a throwaway HOME/XDG folders:
#
#   1. `acr-tray --demo --hidden`: startup to tray ready; after FOOTPRINT_SETTLE s the memory of
#      the app's processes with no window ever opened; Quit from the tray menu.
#   2. `acr-tray --demo --settings`: startup to tray ready; after FOOTPRINT_SETTLE s the memory
#      with the window open; the window is closed as a window manager closes it (WM_DELETE_WINDOW,
#      so the app's CloseRequested path runs); after FOOTPRINT_AFTER s the memory again and which
#      processes remain; then "Settings…" from the tray menu opens the window again (a fresh
#      WebKit network process must start and the page must render: a screenshot is kept), it is
#      closed again, and the app quits from the tray menu.
#
# "Tray ready" is measured twice, from the moment the app is spawned:
#   - log:   the app's `tray ready` log line (written right after the tray icon and its menu are
#            built; timestamp from the log);
#   - D-Bus: the first time the app's tray menu (com.canonical.dbusmenu at
#            /org/ayatana/NotificationItem/<id>/Menu) answers GetLayout with its "Settings…" entry,
#            i.e. when a StatusNotifier host could show it (polled every ~20 ms).
# Memory per process: VmRSS (/proc/PID/status), Pss and private = Private_Clean + Private_Dirty
# (/proc/PID/smaps_rollup), for the app and every descendant process (WebKitWebProcess,
# WebKitNetworkProcess, ...). RSS counts shared pages once per process; PSS splits them.
# Targets: window closed within 10 % of the tray-only figure (RSS over all the app's processes;
# the window runs in a process of its own, which ends when it closes) and no WebKit process
# left; window open <= 450 MiB.
#
#   scripts/footprint-app.sh                                     # settle 15 s, after-close 30 s
#   FOOTPRINT_SETTLE=5 FOOTPRINT_AFTER=5 scripts/footprint-app.sh  # a quick trial
#   FOOTPRINT_KEEP=1 ...                                         # keep the work folder (logs, shots)
#   FOOTPRINT_BIN=/path/to/acr-tray ...                          # measure that build (with the
#                                                                #   `demo` feature), no build step
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
# FOOTPRINT_BIN: measure that binary instead of building (e.g. an older build, to compare).
BIN=${FOOTPRINT_BIN:-$TARGET_DIR/release/acr-tray}

if [ "${1:-}" != "--inside" ]; then
    # What it builds and drives the app with (Debian's packages; a no-op when they are there).
    scripts/install-deps.sh --footprint
    if [ -z "${FOOTPRINT_BIN:-}" ]; then
        scripts/build-ui.sh
        # It measures `--demo`, which only a build with the `demo` feature has (a package,
        # without the fake Azure inside, is that much smaller).
        cargo build --release --locked -q -p acr-tray --features demo
    fi
    for tool in xvfb-run dbus-run-session gdbus xdotool xprop python3 import; do
        command -v "$tool" >/dev/null || {
            echo "footprint-app: $tool is missing: install it (scripts/install-deps.sh --footprint does, with apt-get)" >&2
            exit 1
        }
    done
    # xvfb-run exports DISPLAY before dbus-run-session starts, so D-Bus-activated helpers see it.
    exec xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" \
        dbus-run-session -- "$0" --inside
fi

# ---------------------------------------------------------------------------------------------
# Inside Xvfb and the session bus.

SETTLE=${FOOTPRINT_SETTLE:-15}
AFTER=${FOOTPRINT_AFTER:-30}
WORK=$(mktemp -d /tmp/acr-tray-footprint.XXXXXX)
export HOME=$WORK/home XDG_RUNTIME_DIR=$WORK/run XDG_DATA_HOME=$WORK/data \
    XDG_CONFIG_HOME=$WORK/config XDG_CACHE_HOME=$WORK/cache TMPDIR=$WORK/tmp
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$TMPDIR"
chmod 700 "$XDG_RUNTIME_DIR"
export NO_AT_BRIDGE=1 ACR_TRAY_LOG=${ACR_TRAY_LOG:-info}

APP_PID=
cleanup() {
    if [ -n "$APP_PID" ]; then
        local p
        for p in $(descendants "$APP_PID") "$APP_PID"; do kill "$p" 2>/dev/null || true; done
    fi
    wait 2>/dev/null || true
    if [ -n "${FOOTPRINT_KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

now_ms() { echo $(($(date +%s%N) / 1000000)); }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

# Every descendant of $1 (children first, in /proc order).
descendants() {
    local kids k
    kids=$(awk -v p="$1" '$1 == "PPid:" && $2 == p {split(FILENAME, f, "/"); print f[3]}' \
        /proc/[0-9]*/status 2>/dev/null || true)
    for k in $kids; do
        echo "$k"
        descendants "$k"
    done
}

# One line per process of the app: pid name rss pss private (KiB), then a total line.
measure() {
    local label=$1 pid name rss pss priv trss=0 tpss=0 tpriv=0
    printf '\n%s\n' "$label"
    printf '  %-8s %-22s %10s %10s %10s\n' PID PROCESS 'RSS MiB' 'PSS MiB' 'PRIV MiB'
    for pid in "$APP_PID" $(descendants "$APP_PID"); do
        [ -r "/proc/$pid/smaps_rollup" ] || continue
        name=$(tr '\0' ' ' <"/proc/$pid/cmdline" | awk '{n = $1; sub(".*/", "", n); print n}')
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
        read -r pss priv < <(awk '/^Pss:/ {p = $2} /^Private_(Clean|Dirty):/ {v += $2}
            END {print p + 0, v + 0}' "/proc/$pid/smaps_rollup")
        printf '  %-8s %-22s %10s %10s %10s\n' "$pid" "$name" "$(mib "$rss")" "$(mib "$pss")" "$(mib "$priv")"
        trss=$((trss + rss)) tpss=$((tpss + pss)) tpriv=$((tpriv + priv))
        echo "$label|$pid|$name|$rss|$pss|$priv" >>"$WORK/samples"
    done
    printf '  %-8s %-22s %10s %10s %10s\n' '' 'all processes' "$(mib $trss)" "$(mib $tpss)" "$(mib $tpriv)"
    echo "$label|total|all|$trss|$tpss|$tpriv" >>"$WORK/samples"
}

# FOOTPRINT_SMAPS=1: the app's 15 largest mappings by RSS (KiB: rss private name), to see what
# stays after the window is closed.
top_mappings() {
    [ -n "${FOOTPRINT_SMAPS:-}" ] || return 0
    echo "  largest mappings of the app (RSS KiB, private KiB, mapping):"
    awk '/^[0-9a-f]+-[0-9a-f]+ / {name = ($6 == "" ? "[anon]" : $6)}
         /^Rss:/ {rss[name] += $2}
         /^Private_(Clean|Dirty):/ {priv[name] += $2}
         END {for (n in rss) printf "%8d %8d %s\n", rss[n], priv[n], n}' "/proc/$APP_PID/smaps" |
        sort -rn | head -15 | sed 's/^/    /'
}

# The app's descendants whose command line contains $1.
descendants_running() {
    local pid
    for pid in $(descendants "$APP_PID"); do
        grep -q "$1" "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
    done
    return 0
}
webkit_pids() { descendants_running WebKit; }
network_pid() { descendants_running WebKitNetworkProcess; }

dbus() { gdbus call --session --dest "$1" --object-path "$2" --method "$3" "${@:4}" 2>/dev/null; }

# The unique bus name of the app's connection that exports the tray menu, and the menu's path.
MENU_DEST= MENU_PATH=
declare -A OWNER=() # unique name -> pid, so each poll asks only about new connections
find_menu() {
    local names n pid node
    names=$(dbus org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.ListNames |
        grep -o "':[0-9.]*'" | tr -d "'") || return 1
    for n in $names; do
        if [ -z "${OWNER[$n]:-}" ]; then
            OWNER[$n]=$(dbus org.freedesktop.DBus /org/freedesktop/DBus \
                org.freedesktop.DBus.GetConnectionUnixProcessID "$n" | grep -o '[0-9]\+' | tail -1) || true
        fi
        pid=${OWNER[$n]:=-}
        [ "$pid" = "$APP_PID" ] || continue
        node=$(gdbus introspect --session --dest "$n" --object-path /org/ayatana/NotificationItem \
            2>/dev/null | sed -n 's/^ \+node \([^ /]*\) {.*/\1/p' | head -1)
        [ -n "$node" ] || continue
        if dbus "$n" "/org/ayatana/NotificationItem/$node/Menu" com.canonical.dbusmenu.GetLayout \
            -- 0 -1 '[]' | grep -q 'Settings'; then
            MENU_DEST=$n MENU_PATH=/org/ayatana/NotificationItem/$node/Menu
            return 0
        fi
    done
    return 1
}

# Clicks the tray menu entry whose label starts with $1 (over D-Bus, as a tray host would).
click_menu() {
    local layout id
    layout=$(dbus "$MENU_DEST" "$MENU_PATH" com.canonical.dbusmenu.GetLayout -- 0 -1 '[]')
    id=$(grep -o "<([0-9]*, {[^}]*'label': <'$1" <<<"$layout" | grep -o '^<([0-9]*' | tr -d '<(' | head -1)
    [ -n "$id" ] || { echo "no tray menu entry '$1' in: $layout" >&2; return 1; }
    dbus "$MENU_DEST" "$MENU_PATH" com.canonical.dbusmenu.Event "$id" clicked '<0>' 0 >/dev/null
}

# Starts the app with "$@"; sets APP_PID, prints the startup-to-tray-ready times.
start_app() {
    local log=$1 t0 t_dbus= t_log line
    shift
    MENU_DEST= MENU_PATH=
    t0=$(date +%s%N)
    "$BIN" "$@" >"$log" 2>&1 &
    APP_PID=$!
    for _ in $(seq 1500); do
        kill -0 "$APP_PID" 2>/dev/null || { echo "acr-tray exited:" >&2; cat "$log" >&2; exit 1; }
        if find_menu; then
            t_dbus=$(date +%s%N)
            break
        fi
        sleep 0.02
    done
    [ -n "$t_dbus" ] || { echo "the tray menu never appeared on D-Bus" >&2; cat "$log" >&2; exit 1; }
    line=$(grep -m1 'tray ready' "$log" || true)
    if [ -n "$line" ]; then
        t_log=$(date -d "$(awk '{print $1}' <<<"$line" | sed 's/\x1b\[[0-9;]*m//g')" +%s%N)
        STARTUP_LOG_MS=$(((t_log - t0) / 1000000))
    else
        STARTUP_LOG_MS=n/a
    fi
    STARTUP_DBUS_MS=$(((t_dbus - t0) / 1000000))
    echo "  startup to tray ready: ${STARTUP_LOG_MS} ms (log line), ${STARTUP_DBUS_MS} ms (menu on D-Bus)"
    echo "startup|$*|$STARTUP_LOG_MS|$STARTUP_DBUS_MS" >>"$WORK/samples"
}

# The settings window's X id (the visible toplevel named "ACR Tray").
window_id() { xdotool search --onlyvisible --name '^ACR Tray$' 2>/dev/null | head -1; }

wait_window() {
    local w=
    for _ in $(seq 300); do
        w=$(window_id)
        [ -n "$w" ] && break
        sleep 0.1
    done
    [ -n "$w" ] || echo "the settings window did not appear" >&2
    echo "$w"
}

# Closes a window as a window manager does when its close button is clicked: an ICCCM
# WM_PROTOCOLS/WM_DELETE_WINDOW client message (GTK then emits delete-event -> CloseRequested).
# xdotool windowclose would XDestroyWindow it behind the toolkit's back instead.
wm_close() {
    xprop -id "$1" WM_PROTOCOLS | grep -q WM_DELETE_WINDOW ||
        { echo "window $1 does not speak WM_DELETE_WINDOW" >&2; exit 1; }
    python3 - "$1" <<'EOF'
import ctypes, sys
x = ctypes.CDLL("libX11.so.6")
x.XOpenDisplay.restype = ctypes.c_void_p
x.XOpenDisplay.argtypes = [ctypes.c_char_p]
x.XInternAtom.restype = ctypes.c_ulong
x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
class ClientMessage(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                ("display", ctypes.c_void_p), ("window", ctypes.c_ulong),
                ("message_type", ctypes.c_ulong), ("format", ctypes.c_int),
                ("l", ctypes.c_long * 5)]
class XEvent(ctypes.Union):
    _fields_ = [("xclient", ClientMessage), ("pad", ctypes.c_long * 24)]
x.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long,
                         ctypes.POINTER(XEvent)]
x.XFlush.argtypes = [ctypes.c_void_p]
x.XCloseDisplay.argtypes = [ctypes.c_void_p]
d = x.XOpenDisplay(None)
if not d:
    sys.exit("cannot open the display")
win = int(sys.argv[1])
ev = XEvent()
ev.xclient.type = 33  # ClientMessage
ev.xclient.window = win
ev.xclient.message_type = x.XInternAtom(d, b"WM_PROTOCOLS", 0)
ev.xclient.format = 32
ev.xclient.l[0] = x.XInternAtom(d, b"WM_DELETE_WINDOW", 0)
ev.xclient.l[1] = 0  # CurrentTime
x.XSendEvent(d, win, 0, 0, ctypes.byref(ev))
x.XFlush(d)
x.XCloseDisplay(d)
EOF
}

quit_app() {
    click_menu Quit
    for _ in $(seq 100); do
        kill -0 "$APP_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$APP_PID" 2>/dev/null; then
        echo "acr-tray did not quit from the tray menu" >&2
        exit 1
    fi
    wait "$APP_PID" 2>/dev/null || true
    APP_PID=
}

webkit_line() {
    local left
    left=$(for p in $(webkit_pids); do tr '\0' ' ' <"/proc/$p/cmdline" | awk -v p="$p" '{n = $1; sub(".*/", "", n); printf "%s (%s) ", n, p}'; done)
    echo "  WebKit processes left: ${left:-none}"
}

echo "acr-tray footprint: $(uname -srm), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
echo "  binary: $BIN ($(stat -c %s "$BIN") bytes); WebKitGTK $(pkg-config --modversion webkit2gtk-4.1 2>/dev/null || echo '?')"
echo "  settle ${SETTLE} s, after close ${AFTER} s"

# 1. Tray only, no window ever opened.
echo
echo "== acr-tray --demo --hidden"
start_app "$WORK/hidden.log" --demo --hidden
sleep "$SETTLE"
measure "tray only (--hidden, no window ever opened), ${SETTLE} s after start"
top_mappings
webkit_line
quit_app

# 2. Window open, then closed.
echo
echo "== acr-tray --demo --settings"
start_app "$WORK/settings.log" --demo --settings
win=$(wait_window)
[ -n "$win" ] || exit 1
sleep "$SETTLE"
measure "window open, ${SETTLE} s after start"
net_before=$(network_pid)
wm_close "$win"
for _ in $(seq 50); do
    [ -z "$(window_id)" ] && break
    sleep 0.1
done
[ -z "$(window_id)" ] || { echo "the window did not close" >&2; exit 1; }
sleep 1
grep -q 'settings window closed' "$WORK/settings.log" ||
    echo "  warning: the app did not log 'settings window closed' (an older build?)"
sleep "$AFTER"
measure "${AFTER} s after the window was closed"
top_mappings
webkit_line
grep -E 'settings window closed|WebKit network process' "$WORK/settings.log" | sed 's/^/  log: /'

# 3. Open it again from the tray menu: a fresh network process, a rendered page.
click_menu Settings
win=$(wait_window)
[ -n "$win" ] || exit 1
sleep 5
net_after=$(network_pid)
echo
echo "== opened again from the tray menu"
echo "  WebKit network process: before close ${net_before:-none}, after reopening ${net_after:-none}"
[ -n "$net_after" ] || { echo "no WebKit network process after reopening" >&2; exit 1; }
import -window root "$WORK/reopened.png"
colors=$(/usr/bin/convert "$WORK/reopened.png" -format %k info:)
echo "  screenshot: $WORK/reopened.png ($colors colours; a blank window has 1-2)"
[ "$colors" -gt 16 ] || { echo "the reopened window looks blank" >&2; exit 1; }
if [ -n "${FOOTPRINT_SHOT:-}" ]; then cp "$WORK/reopened.png" "$FOOTPRINT_SHOT"; fi
wm_close "$win"
sleep 5
webkit_line
quit_app

echo
echo "Targets: window closed: all of the app's processes within 10 % of the tray-only figure (RSS), no"
echo "WebKit process left; window open <= 450 MiB RSS (each process counts the pages it shares)."
awk -F'|' '$2 == "total" {printf "  %-60s RSS %7.1f MiB  PSS %7.1f MiB  private %7.1f MiB\n", $1, $4 / 1024, $5 / 1024, $6 / 1024}' "$WORK/samples"
awk -F'|' '$2 == "total" && $1 ~ /^tray only/ {tray = $4} $2 == "total" && $1 ~ /after the window was closed/ {after = $4}
    END {if (tray > 0) printf "  after close / tray only: %.1f / %.1f MiB = %+.1f %% (target: at most +10 %%)\n", after / 1024, tray / 1024, (after - tray) * 100 / tray}' "$WORK/samples"
