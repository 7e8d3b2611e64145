# Shared by the tests/hostile scripts (sourced, not run). Each script is called as
#   test-NAME VNET SRC BUILD
# and exits 0 (held), 1 (FAIL: with the reason) or 77 (skipped: a tool is missing).
# Every daemon started here is stopped by its PID; every wait is bounded.
set -u
VNET=$1 SRC=$2 BUILD=$3
W=$(mktemp -d "${TMPDIR:-/tmp}/vnet-hostile.XXXXXX")
HPIDS=()
hostile_cleanup() {
    local p
    for p in "${HPIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    for p in "${HPIDS[@]}"; do wait "$p" 2>/dev/null; done
    [ -n "${HOSTILE_KEEP:-}" ] && echo "kept $W" || rm -rf "$W"
}
trap hostile_cleanup EXIT
fail() {
    echo "FAIL: $*"
    [ -f "$W/serve.log" ] && { echo "--- last lines of the server's log"; tail -n 30 "$W/serve.log"; }
    exit 1
}
skip() { echo "SKIP: $*"; exit 77; }

# 1 when this build runs under AddressSanitizer (slower, more memory)
SAN=0
grep -q '^VNET_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null && SAN=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# serve_start CONFIG [extra serve args...]: starts `vnet serve` on an ephemeral loopback
# port with its control socket, log and accounting in $W; sets SERVE_PID, PORT, CTL.
serve_start() {
    local conf=$1; shift
    CTL=$W/ctl.sock
    "$VNET" --config "$conf" serve --listen 127.0.0.1:0 --control "$CTL" "$@" \
        > "$W/serve.log" 2>&1 &
    SERVE_PID=$!
    HPIDS+=("$SERVE_PID")
    PORT=
    local _
    for _ in $(seq 1 100); do
        PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$W/serve.log" 2>/dev/null | head -n1)
        [ -n "$PORT" ] && break
        kill -0 "$SERVE_PID" 2>/dev/null || fail "vnet serve exited at start-up"
        sleep 0.1
    done
    [ -n "$PORT" ] || fail "vnet serve printed no 'listening on' line in 10 s"
}

# serve_alive: the server still runs and answers its control socket
serve_alive() {
    kill -0 "$SERVE_PID" 2>/dev/null || fail "the server died (see its log)"
    "$VNET" show stats --control "$CTL" > /dev/null 2>&1 || fail "the server no longer answers show stats"
}

# serve_stop: SIGTERM, then it must exit 0 within 10 s; an ASan report in the log fails
serve_stop() {
    kill -TERM "$SERVE_PID" 2>/dev/null
    local _ rc
    for _ in $(seq 1 100); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$SERVE_PID" 2>/dev/null && fail "the server did not stop within 10 s of SIGTERM"
    wait "$SERVE_PID"; rc=$?
    grep -q 'ERROR: AddressSanitizer\|runtime error:' "$W/serve.log" && fail "sanitizer report in the server's log"
    [ "$rc" = 0 ] || fail "the server exited $rc after SIGTERM"
}

# the load generator / test client (tests/helpers/serve_client.c, bench/bench_serve.c)
client_path() { [ -x "$BUILD/serve_client" ] && echo "$BUILD/serve_client"; }

# bench_path: the load generator and PPTP client (bench/bench_serve.c), from the build
# (-DVNET_BENCH=ON) or compiled here against the build's libraries.
bench_path() {
    if [ -x "$BUILD/bench_serve" ] && [ "$BUILD/bench_serve" -nt "$SRC/bench/bench_serve.c" ]; then
        echo "$BUILD/bench_serve"; return 0
    fi
    local cc flags=
    cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null)
    [ "$SAN" = 1 ] && flags="-fsanitize=address,undefined -fno-omit-frame-pointer"
    [ -f "$BUILD/libengine.a" ] && [ -f "$BUILD/libdiag.a" ] || return 1
    # shellcheck disable=SC2046,SC2086
    "${cc:-cc}" -std=c17 -D_GNU_SOURCE -O1 -g $flags -I"$SRC/engine" -I"$SRC/libdiag" \
        $(pkg-config --cflags jansson openssl) "$SRC/bench/bench_serve.c" -o "$W/bench_serve" \
        "$BUILD/libengine.a" "$BUILD/libdiag.a" \
        $(pkg-config --libs libpcre2-8 jansson openssl libpcap) -lm >"$W/cc.log" 2>&1 ||
        { cat "$W/cc.log" >&2; return 1; }
    echo "$W/bench_serve"
}

# pptp_start CONFIG [extra serve args...]: serve_start with PPTP on $PPTP_LISTEN
# (default 127.0.0.1:0, an ephemeral port); sets PPTP_SERVER (ADDR:PORT as listening).
# Skips without root (PPTP's GRE needs a raw socket).
pptp_start() {
    [ "$(id -u)" = 0 ] || skip "PPTP needs root for its raw GRE socket"
    serve_start "$@" --pptp-listen "${PPTP_LISTEN:-127.0.0.1:0}"
    PPTP_SERVER=
    local _
    for _ in $(seq 1 50); do
        PPTP_SERVER=$(sed -n 's/.*PPTP control connections on \(127\.[0-9.]*:[0-9]*\) .*/\1/p' "$W/serve.log" | head -n1)
        [ -n "$PPTP_SERVER" ] && break
        sleep 0.1
    done
    [ -n "$PPTP_SERVER" ] || fail "no PPTP listener in the server's log"
}
