#!/usr/bin/env bash
# RADIUS Access-Requests per second on one core: `vnet serve` with serve.radius_server
# against FreeRADIUS 3 (radiusd in the foreground without debugging, a configuration
# written to a scratch directory), the same users (u1..uN, PAP, every one accepted), the
# same load from bench_radius_gen (PAP with Message-Authenticator, several sockets, many
# requests in flight). Each server is pinned to CPU 0 and the generator to CPU 1
# (taskset) when the machine has two. Prints the generator's lines for each, then
#   radius_access_requests_per_s      VNET  FREERADIUS  RATIO   (answers per second)
#   radius_access_requests_per_cpu_s  VNET  FREERADIUS  RATIO   (per CPU second the
#                                                              server used)
# The second is what one core gives also when other work shares the CPU the server is
# pinned to; on an idle machine the two agree. Goal: vnet >= 50000/s on one core.
#
#   bench/radius.sh BUILD_DIR        (RADIUS_USERS, RADIUS_SECONDS, RADIUS_SOCKETS,
#                                     RADIUS_WINDOW override the load)
set -uo pipefail
build=${1:?usage: bench/radius.sh BUILD_DIR}
gen=$build/bench_radius_gen
vnet=$build/vnet
[ -x "$gen" ] || { echo "bench/radius.sh: $gen not built (configure with -DVNET_BENCH=ON)" >&2; exit 1; }
[ -x "$vnet" ] || { echo "bench/radius.sh: $vnet not built" >&2; exit 1; }
users=${RADIUS_USERS:-1000}
secs=${RADIUS_SECONDS:-5}
sockets=${RADIUS_SOCKETS:-8}
window=${RADIUS_WINDOW:-64}
secret=bench-secret
T=$(mktemp -d "${TMPDIR:-/tmp}/vnet-bench-radius.XXXXXX")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT
srv_cpu=() gen_cpu=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    srv_cpu=(taskset -c 0) gen_cpu=(taskset -c 1)
fi
port() {
    python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# run PID PORT: the generator against 127.0.0.1:PORT, the server's CPU time from PID;
# its two lines on stdout
run() {
    "${gen_cpu[@]}" "$gen" --server "127.0.0.1:$2" --secret "$secret" --users "$users" \
        --sockets "$sockets" --window "$window" --duration "$secs" --warmup 1 --pid "$1"
}

# ---- vnet serve ----
python3 - "$users" "$secret" > "$T/vnet.json" <<'EOF'
import json, sys
n, secret = int(sys.argv[1]), sys.argv[2]
print(json.dumps({
  "server": {"auth_methods": ["mschapv2", "chap", "pap"], "encryption": ["none"],
             "ports": {"l2tp": 8}, "address_assignment": "dhcp"},
  "groups": [{"name": "VPN"}],
  "policies": [{"name": "bench", "conditions": [{"attribute": "Windows-Groups", "value": ["VPN"]}],
                "permission": "grant",
                "profile": {"auth_methods": ["mschapv2", "chap", "pap"], "encryption": ["none"],
                            "session_timeout": 60}}],
  "users": [{"name": "u%d" % i, "password": "pw%d" % i, "groups": ["VPN"]} for i in range(1, n + 1)],
  "serve": {"radius_server": {"listen": "127.0.0.1:0",
            "clients": [{"name": "bench", "address": "127.0.0.1", "secret": secret}]}}}))
EOF
"${srv_cpu[@]}" "$vnet" --config "$T/vnet.json" serve --listen 127.0.0.1:0 \
    --control "$T/ctl.sock" > "$T/vnet.log" 2>&1 &
vpid=$!
PIDS+=("$vpid")
vport=
for _ in $(seq 1 100); do
    vport=$(sed -n 's/.*RADIUS server listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$T/vnet.log" | head -n1)
    [ -n "$vport" ] && break
    sleep 0.1
done
[ -n "$vport" ] || { echo "bench/radius.sh: vnet serve did not start:" >&2; tail -n 20 "$T/vnet.log" >&2; exit 1; }
vline=$(run "$vpid" "$vport")
echo "vnet:       $(printf '%s' "$vline" | tr '\n' ' ')"

# ---- FreeRADIUS ----
fline=
fr=$(command -v freeradius || command -v radiusd || true)
if [ -n "$fr" ]; then
    FR=$T/fr
    mkdir -p "$FR/run" "$FR/log"
    fport=$(port)
    for i in $(seq 1 "$users"); do printf 'u%d\tCleartext-Password := "pw%d"\n' "$i" "$i"; done > "$FR/users"
    cat > "$FR/radiusd.conf" <<EOF
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
logdir = $FR/log
raddbdir = $FR
radacctdir = $FR/log
name = freeradius
confdir = $FR
modconfdir = $FR
run_dir = $FR/run
db_dir = $FR
libdir = /usr/lib/freeradius
pidfile = $FR/run/radiusd.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 262144
hostname_lookups = no
log {
	destination = files
	file = $FR/log/radius.log
	auth = no
}
security {
	allow_core_dumps = no
	max_attributes = 200
	reject_delay = 0
	status_server = yes
}
thread pool {
	start_servers = 4
	max_servers = 4
	min_spare_servers = 1
	max_spare_servers = 4
	max_requests_per_server = 0
	max_queue_size = 65536
}
client bench {
	ipaddr = 127.0.0.1
	secret = $secret
}
modules {
	pap {
	}
	files {
		filename = $FR/users
	}
}
server default {
	listen {
		type = auth
		ipaddr = 127.0.0.1
		port = $fport
	}
	authorize {
		files
		pap
	}
	authenticate {
		Auth-Type PAP {
			pap
		}
	}
	post-auth {
	}
}
EOF
    "${srv_cpu[@]}" "$fr" -f -d "$FR" > "$FR/log/stdout.log" 2>&1 &
    fpid=$!
    PIDS+=("$fpid")
    for _ in $(seq 1 100); do
        grep -q 'Ready to process requests' "$FR/log/radius.log" "$FR/log/stdout.log" 2>/dev/null && break
        sleep 0.1
    done
    if grep -q 'Ready to process requests' "$FR/log/radius.log" "$FR/log/stdout.log" 2>/dev/null; then
        fline=$(run "$fpid" "$fport")
        echo "freeradius: $(printf '%s' "$fline" | tr '\n' ' ')"
    else
        echo "freeradius did not start:" >&2
        tail -n 20 "$FR/log/radius.log" "$FR/log/stdout.log" >&2
    fi
fi
# field VALUE-NAME LINES: the number after the word
field() { printf '%s\n' "$2" | tr ' ' '\n' | awk -v k="$1" 'p { print; exit } $0 == k { p = 1 }'; }
line() { # NAME VNET FREERADIUS
    if [ -n "$3" ] && [ "$3" != - ] && [ "$3" != 0 ]; then
        printf '%-34s %8s %8s %6s\n' "$1" "$2" "$3" "$(awk -v a="$2" -v b="$3" 'BEGIN{printf "%.2f", a / b}')"
    else
        printf '%-34s %8s %8s %6s\n' "$1" "$2" - -
    fi
}
line radius_access_requests_per_s "$(field requests/s "$vline")" "$(field requests/s "$fline")"
vc=$(field per_cpu_s "$vline")
line radius_access_requests_per_cpu_s "$vc" "$(field per_cpu_s "$fline")"
printf '%-34s %8s %8s %6s\n' radius_access_requests_goal "$vc" 50000 \
    "$(awk -v a="${vc:-0}" 'BEGIN{printf "%.2f", a / 50000}')"
