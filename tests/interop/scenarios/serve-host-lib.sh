# serve-host-lib.sh: host side shared by the serve-* scenarios, sourced by
# their host.sh (bash).  Runs `vnet serve` from the build directory on
# 127.0.0.1:1701 inside the scenario's namespace (the guest reaches it as
# 10.0.2.2) with a configuration, accounting file, capture and control socket
# in $INTEROP_WORK, and provides the checks the verdicts are made of.
#
# Files in $INTEROP_WORK: vnet.json, TAG.log (the server's stderr), TAG.pcap
# (its --capture), TAG.rc (its exit status), acct.jsonl, control.sock,
# sessions.json (`vnet show sessions --json` while the first session is up).
# TAG is "serve" for the first server process of a scenario.

W=$INTEROP_WORK
VNET=$INTEROP_BUILD/vnet
CONF=$W/vnet.json
ACCT=$W/acct.jsonl
CTLSOCK=$W/control.sock
SLOG=$W/serve.log
CAP=$W/serve.pcap
CONSOLE=$INTEROP_CONSOLE

serve_need() {
    [ -x "$VNET" ] || { echo "skip: $VNET not built"; exit 77; }
    "$VNET" serve --help > /dev/null 2>&1 ||
        { echo "skip: this vnet has no serve command"; exit 77; }
    for t in jq tshark; do
        command -v $t > /dev/null || { echo "skip: $t not installed"; exit 77; }
    done
}

# serve_config [JQ-FILTER]: writes $CONF, the base configuration below changed
# by the filter.  Base: PAP, CHAP and MS-CHAPv2 enabled, no encryption
# required, 128 L2TP ports, pool 192.168.10.100-149 (the first address is the
# server's own, so clients start at .101), alice and carol may dial in
# through the policy, bob is denied by his dial-in setting; the server's PPP
# address and DNS server are 192.168.10.1.
serve_config() {
    jq "${1:-.}" > "$CONF" <<'JSON'
{
  "server": {
    "name": "RAS1",
    "auth_methods": ["pap", "chap", "mschapv2"],
    "encryption": ["none", "basic", "strong", "strongest"],
    "ports": {"pptp": 128, "l2tp": 128},
    "address_assignment": "pool",
    "pool": [{"start": "192.168.10.100", "end": "192.168.10.149"}],
    "addresses": ["192.168.10.1"],
    "routes": ["192.168.10.0/24"]
  },
  "groups": [{"name": "VPN Users"}],
  "policies": [
    {
      "name": "Lab VPN users",
      "conditions": [{"attribute": "Windows-Groups", "value": ["VPN Users"]}],
      "permission": "grant",
      "profile": {
        "auth_methods": ["pap", "chap", "mschapv2"],
        "encryption": ["none", "basic", "strong", "strongest"]
      }
    }
  ],
  "users": [
    {"name": "alice", "password": "Passw0rd!", "groups": ["VPN Users"], "dialin": "policy"},
    {"name": "bob", "password": "Passw0rd!", "groups": ["VPN Users"], "dialin": "deny"},
    {"name": "carol", "password": "Passw0rd!", "groups": ["VPN Users"], "dialin": "policy"}
  ],
  "serve": {
    "host_name": "RAS1",
    "local_address": "192.168.10.1",
    "dns": ["192.168.10.1"],
    "l2tp": {"hello_interval": 60},
    "ppp": {"echo_interval": 30}
  }
}
JSON
}

# serve_start [TAG]: starts `vnet serve` (with the words of $SERVE_ARGS
# added to its command line) in the background, its PID and that
# of the shell waiting for its exit status in $INTEROP_PIDS; returns once the
# server logs that it listens (10 s at most)
serve_start() {
    local tag=${1:-serve} pid='' i
    rm -f "$W/$tag.pid" "$W/$tag.rc"
    (
        "$VNET" serve --config "$CONF" --listen "${SERVE_LISTEN:-127.0.0.1:1701}" --accounting "$ACCT" \
            --capture "$W/$tag.pcap" --control "$CTLSOCK" ${SERVE_ARGS:-} 2> "$W/$tag.log" &
        echo $! > "$W/$tag.pid"
        wait $!
        echo $? > "$W/$tag.rc"
    ) &
    echo $! >> "$INTEROP_PIDS"
    for i in $(seq 1 100); do
        [ -s "$W/$tag.pid" ] && break
        sleep 0.1
    done
    pid=$(cat "$W/$tag.pid" 2> /dev/null)
    [ -n "$pid" ] || { echo "vnet serve did not start"; return 1; }
    echo "$pid" >> "$INTEROP_PIDS"
    for i in $(seq 1 100); do
        if grep -q "listening on ${SERVE_LISTEN:-127.0.0.1:1701}" "$W/$tag.log"; then
            echo "vnet serve ($tag) pid $pid listening"
            return 0
        fi
        [ -f "$W/$tag.rc" ] && break
        sleep 0.1
    done
    echo "vnet serve ($tag) is not listening:"
    cat "$W/$tag.log"
    return 1
}

# serve_stop [TAG]: saves `vnet show stats --json` as TAG-stats.json, then
# SIGTERM to the server by PID; waits (5 s) for its status
serve_stop() {
    local tag=${1:-serve} pid
    pid=$(cat "$W/$tag.pid" 2> /dev/null)
    [ -n "$pid" ] || return 0
    if [ ! -f "$W/$tag.rc" ]; then
        timeout 5 "$VNET" show stats --json --control "$CTLSOCK" > "$W/$tag-stats.json" 2>> "$W/show.err"
        kill -TERM "$pid" 2> /dev/null
    fi
    for _ in $(seq 1 50); do
        [ -f "$W/$tag.rc" ] && break
        sleep 0.1
    done
}

# serve_watch: in the background, once the first session is up, saves
# `vnet show sessions --json` (and stats) in $W (bounded: 150 s)
serve_watch() {
    (
        for _ in $(seq 1 750); do
            if grep -Eq 'session [0-9]+ up' "$SLOG" 2> /dev/null; then
                "$VNET" show sessions --json --control "$CTLSOCK" > "$W/sessions.json" 2> "$W/show.err"
                "$VNET" show stats --json --control "$CTLSOCK" > "$W/stats.json" 2>> "$W/show.err"
                "$VNET" show ike --json --control "$CTLSOCK" > "$W/ike.json" 2>> "$W/show.err"
                "$VNET" show sa --json --control "$CTLSOCK" > "$W/sa.json" 2>> "$W/show.err"
                exit 0
            fi
            sleep 0.2
        done
    ) &
    echo $! >> "$INTEROP_PIDS"
}

# --- checks: each prints what it found; a failure sets rc=1 ---
rc=0
bad() { echo "FAIL: $*"; rc=1; }
good() { echo "ok: $*"; }

# expect_log REGEX WHAT [FILE]: a line of the server's log matches
expect_log() {
    local line
    line=$(grep -E -m1 -- "$1" "${3:-$SLOG}")
    if [ -n "$line" ]; then good "$2: ${line#* }"; else bad "$2: no line /$1/ in $(basename "${3:-$SLOG}")"; fi
}

# no_log REGEX WHAT [FILE]
no_log() {
    local line
    line=$(grep -E -m1 -- "$1" "${3:-$SLOG}")
    if [ -z "$line" ]; then good "$2"; else bad "$2: ${line#* }"; fi
}

# expect_console REGEX WHAT: a line of the guest's console matches
expect_console() {
    local line
    line=$(grep -E -m1 -- "$1" "$CONSOLE")
    if [ -n "$line" ]; then good "$2: $line"; else bad "$2: no line /$1/ on the guest console"; fi
}

expect_guest_status() {
    if [ "$INTEROP_GUEST_STATUS" = "${1:-0}" ]; then good "guest.sh status $INTEROP_GUEST_STATUS"
    else bad "guest.sh status $INTEROP_GUEST_STATUS, wanted ${1:-0}"; fi
}

# expect_exit_clean [TAG]: the server ended on SIGTERM with status 0
expect_exit_clean() {
    local r
    r=$(cat "$W/${1:-serve}.rc" 2> /dev/null)
    if [ "$r" = 0 ]; then good "vnet serve exited 0 on SIGTERM"; else bad "vnet serve exit status '${r:-none}'"; fi
}

# expect_stat JQ-CONDITION WHAT: a condition on the "stats" object the server
# reported just before it was stopped (serve_stop)
expect_stat() {
    local f=$W/serve-stats.json
    if [ -s "$f" ] && jq -e ".stats | $1" "$f" > /dev/null 2>&1; then
        good "vnet show stats: $2 ($1)"
    else
        bad "vnet show stats: not $2 ($1): $(jq -c . "$f" 2> /dev/null | cut -c1-300)"
    fi
}

# in_pool ADDR START END
in_pool() {
    local a=${1##*.} s=${2##*.} e=${3##*.}
    [ "${1%.*}" = "${2%.*}" ] && [ "$a" -ge "$s" ] && [ "$a" -le "$e" ]
}

# expect_acct USER: a start and a stop record for USER, the stop with bytes
# and packets counted both ways
expect_acct() {
    local n s
    [ -s "$ACCT" ] || { bad "accounting file $ACCT empty or missing"; return; }
    jq -c . "$ACCT" > /dev/null 2>&1 || { bad "accounting file is not JSON lines"; return; }
    n=$(jq -c --arg u "$1" 'select(.event == "start" and .user == $u)' "$ACCT" | wc -l)
    if [ "$n" -ge 1 ]; then good "accounting: $n start record(s) for $1"; else bad "accounting: no start record for $1"; fi
    s=$(jq -c --arg u "$1" 'select(.event == "stop" and .user == $u)' "$ACCT" | head -n1)
    if [ -z "$s" ]; then bad "accounting: no stop record for $1"; return; fi
    echo "    $s"
    if jq -e '.rx_bytes > 0 and .tx_bytes > 0 and .rx_packets > 0 and .tx_packets > 0' <<< "$s" > /dev/null; then
        good "accounting: stop record with traffic both ways"
    else
        bad "accounting: stop record without traffic both ways"
    fi
}

# ctl_types PROTO FIELD DIRECTION-FILTER [PCAP]: control message types (tshark's
# FIELD) of protocol PROTO, in order
ctl_types() {
    tshark -r "${4:-$CAP}" -Y "$1 && $3" -T fields -e "$2" 2> /dev/null |
        tr ',' '\n' | sed '/^$/d' | tr '\n' ' '
}

# expect_setup NAME PROTO FIELD PORT-FIELD PORT "CLIENT-TYPES" "SERVER-TYPES" [PCAP]:
# every message type listed went from the client (to PORT) and from the server
expect_setup() {
    local up down m
    up=$(ctl_types "$2" "$3" "$4.dstport == $5" "${8:-}")
    down=$(ctl_types "$2" "$3" "$4.srcport == $5" "${8:-}")
    echo "    $1 client -> server: $up"
    echo "    $1 server -> client: $down"
    for m in $6; do has "$up" $m || bad "capture: no $1 message type $m from the client"; done
    for m in $7; do has "$down" $m || bad "capture: no $1 message type $m from the server"; done
}

# expect_l2tp_setup [PCAP]: SCCRQ, SCCCN, ICRQ, ICCN from the client and
# SCCRP, ICRP from the server in the capture
expect_l2tp_setup() { expect_setup L2TP l2tp l2tp.avp.message_type udp 1701 "1 3 10 12" "2 11" "$@"; }
has() { case " $1" in *" $2 "*) return 0 ;; esac; return 1; }

# count FILTER [PCAP]: packets tshark finds with the display filter
count() { tshark -r "${2:-$CAP}" -Y "$1" 2> /dev/null | wc -l; }

# expect_count FILTER MIN WHAT [PCAP]
expect_count() {
    local n
    n=$(count "$1" "${4:-$CAP}")
    if [ "$n" -ge "$2" ]; then good "capture: $n $3"; else bad "capture: $n $3 (wanted $2 or more)"; fi
}

# explain [PCAP]: `vnet pcap explain` on the capture must not crash; its
# output is kept beside it
explain() {
    local p=${1:-$CAP} r
    "$VNET" pcap explain "$p" > "$p.explain" 2>&1
    r=$?
    if [ $r -lt 128 ]; then good "vnet pcap explain: status $r, $(wc -l < "$p.explain") lines"
    else bad "vnet pcap explain crashed (status $r)"; fi
    # its summary rows, for the reader (not asserted)
    sed -n '/^ID /,/^$/p' "$p.explain" | sed '1d;/^$/d;s/^/    explain: /'
}

# expect_served USER METHOD-REGEX TYPE: the guest's call "one" for USER came
# up with METHOD and an address from the pool that pppd got too, three pings
# were answered, the session went down with traffic counted, `show sessions`
# listed it with tunnel type TYPE and it was accounted
expect_served() {
    local user=$1 addr
    expect_log "session [0-9]+ up user=$user addr=[0-9.]+ method=$2( |$)" "server: session up"
    addr=$(sed -n "s/.*session [0-9]* up user=$user addr=\([0-9.]*\).*/\1/p" "$SLOG" | head -n1)
    if in_pool "$addr" 192.168.10.101 192.168.10.149; then good "client address $addr from the pool"
    else bad "client address '$addr' is not from the pool"; fi
    expect_console "^SERVE-PPP lac=one result=up addr=${addr:-none} peer=192\.168\.10\.1 iface=ppp0 dns=192\.168\.10\.1 " \
        "guest: pppd got that address, the server's and the DNS server's"
    expect_console '^SERVE-PING lac=one sent=3 received=3$' "guest: the server answered every ping"
    expect_log "session [0-9]+ down cause=[^ ]+ .*rx_bytes=[1-9][0-9]* tx_bytes=[1-9]" "server: session down, traffic counted"
    if [ -s "$W/sessions.json" ] &&
        jq -e --arg u "$user" --arg a "$addr" --arg t "$3" \
            '[.. | strings] | (index($u) != null) and (index($a) != null) and (index($t) != null)' \
            "$W/sessions.json" > /dev/null 2>&1; then
        good "vnet show sessions --json listed $user with $addr over $3: $(jq -c . "$W/sessions.json" | cut -c1-200)"
    else
        bad "vnet show sessions --json did not list $user with $addr over $3 ($(cat "$W/sessions.json" "$W/show.err" 2> /dev/null | head -c 300))"
    fi
    expect_acct "$user"
}

# check_call_ok USER METHOD-REGEX AUTH-FILTER: the verdict of a scenario in
# which the guest's call "one" for USER comes up, pings the server's PPP
# address three times and hangs up; with MPPE=1 the data must be encrypted
# with 128-bit MPPE
check_call_ok() {
    local user=$1
    expect_guest_status 0
    expect_log 'tunnel up peer=' "server: tunnel up"
    expect_served "$user" "$2" l2tp
    expect_l2tp_setup
    expect_count "$3" 1 "authentication packets ($3)"
    expect_count 'ipcp && ppp.code == 2' 2 "IPCP Configure-Acks (one each way)"
    if [ "${MPPE:-0}" = 1 ]; then
        # the echoes travel encrypted: only the server's counters see them
        expect_count 'ccp && ppp.code == 2 && ccp.opt.supported_bits.s == 1' 2 \
            "CCP Configure-Acks of 128-bit MPPE (one each way)"
        expect_count 'udp.dstport == 1701 && ppp.protocol == 0x00fd' 3 "MPPE packets from the client"
        expect_count 'udp.srcport == 1701 && ppp.protocol == 0x00fd' 3 "MPPE packets from the server"
        n=$(count 'icmp')
        if [ "$n" = 0 ]; then good "capture: no ICMP in the clear"; else bad "capture: $n ICMP packets in the clear"; fi
    else
        expect_count 'icmp.type == 8 && ip.dst == 192.168.10.1' 3 "echo requests to the server's PPP address"
        expect_count 'icmp.type == 0 && ip.src == 192.168.10.1' 3 "echo replies from it"
    fi
    expect_stat '.sessions_up_total == 1 and .sessions_up == 0 and .icmp_echo == 3' \
        "one session served and ended, three echoes answered"
    expect_exit_clean
    explain
}

# check_refused LAC USER ERROR REASON: the verdict of a call that
# authenticates with MS-CHAPv2 and is refused with Windows error ERROR; the
# server logs the rejection with REASON, sends an MS-CHAPv2 Failure carrying
# E=ERROR that pppd logs, and neither brings the session up nor accounts it
check_refused() {
    local lac=$1 user=$2 err=$3 reason=$4 n
    expect_log "session [0-9]+ rejected user=$user method=MS-CHAPv2 error=$err reason=$reason " \
        "server: rejection of $user logged with the reason"
    no_log "session [0-9]+ up user=$user " "server: no session up for $user"
    expect_console "^SERVE-PPP lac=$lac result=auth-failed" "guest: pppd's authentication failed"
    expect_console "rcvd \[CHAP Failure .*E=$err" "guest pppd received E=$err"
    expect_count "chap.code == 4 && chap.message contains \"E=$err \"" 1 "MS-CHAPv2 Failure packets with E=$err"
    if [ -s "$ACCT" ]; then
        n=$(jq -c --arg u "$user" 'select(.user == $u)' "$ACCT" | wc -l)
    else
        n=0
    fi
    if [ "$n" = 0 ]; then good "accounting: no record for $user"; else bad "accounting: $n record(s) for the refused $user"; fi
    expect_stat '.sessions_rejected == 1' "one session rejected"
}

# --- PPTP: the guest on a tap device (qemu's user networking drops GRE) ---
TAP=vnettap0
PPTP_ADDR=192.0.2.1

# pptp_tap: the tap device the guest's network card is joined to, in the
# scenario's namespace: the host 192.0.2.1, the guest 192.0.2.2; the server
# serve_start starts then listens for PPTP on 192.0.2.1:1723
pptp_tap() {
    [ -n "$INTEROP_NETNS" ] || { echo "skip: needs its own network namespace for the tap device"; exit 77; }
    [ -c /dev/net/tun ] || { echo "skip: no /dev/net/tun"; exit 77; }
    ip tuntap add dev $TAP mode tap || return 1
    ip addr add $PPTP_ADDR/24 dev $TAP || return 1
    ip link set $TAP up || return 1
    printf 'INTEROP_NET=tap:%s\nINTEROP_GUEST_IP=192.0.2.2/24\nINTEROP_HOST_IP=%s\n' $TAP $PPTP_ADDR > "$W/guest-net"
    # serve_start: PPTP on the tap device's address
    SERVE_ARGS="--pptp-listen $PPTP_ADDR:1723"
}

pptp_tap_del() { ip link del $TAP 2> /dev/null; }

# expect_pptp_setup [PCAP]: Start-Control-Connection-Request and
# Outgoing-Call-Request from the client, their replies from the server, in
# the server's own capture
expect_pptp_setup() { expect_setup PPTP pptp pptp.control_message_type tcp 1723 "1 7" "2 8" "$@"; }

# check_pptp_call_ok USER: the verdict of a scenario in which the guest's
# PPTP call "one" for USER comes up with MS-CHAPv2 and 128-bit MPPE, pings
# the server's PPP address three times through the encrypted link and hangs up
check_pptp_call_ok() {
    local user=$1 s
    expect_guest_status 0
    expect_log 'PPTP' "server: PPTP announced at start-up"
    expect_served "$user" MS-CHAPv2 pptp
    expect_console 'MPPE 128-bit stateless compression enabled' "guest pppd: 128-bit MPPE"
    s=$(jq -c --arg u "$user" 'select(.event == "start" and .user == $u)' "$ACCT" 2> /dev/null | head -n1)
    if jq -e '[.. | strings] | index("pptp") != null' <<< "${s:-null}" > /dev/null 2>&1; then
        good "accounting: the start record names pptp"
    else
        bad "accounting: the start record does not name pptp: $s"
    fi
    expect_pptp_setup
    expect_count 'gre && chap.code == 3' 1 "MS-CHAPv2 Success in GRE"
    expect_count 'gre && ccp && ppp.code == 2 && ccp.opt.supported_bits.s == 1' 2 \
        "CCP Configure-Acks of 128-bit MPPE (one each way)"
    expect_count "gre && ip.src == 192.0.2.2 && ppp.protocol == 0x00fd" 3 "MPPE packets from the client"
    expect_count "gre && ip.src == $PPTP_ADDR && ppp.protocol == 0x00fd" 3 "MPPE packets from the server"
    n=$(count 'icmp && !(icmp.type == 3)')
    if [ "$n" = 0 ]; then good "capture: no ICMP in the clear"; else bad "capture: $n ICMP packets in the clear"; fi
    expect_stat '.sessions_up_total == 1 and .sessions_up == 0 and .icmp_echo == 3' \
        "one session served and ended, three echoes answered"
    expect_exit_clean
    explain
}

# check_pptp_refused USER ERROR REASON: a PPTP call authenticating with
# MS-CHAPv2 refused with Windows error ERROR and the reason REASON
check_pptp_refused() {
    local user=$1 err=$2 reason=$3 n
    expect_guest_status 0
    expect_log "session [0-9]+ rejected user=$user method=MS-CHAPv2 error=$err reason=$reason " \
        "server: rejection of $user logged with the reason"
    no_log "session [0-9]+ up user=$user " "server: no session up for $user"
    expect_console "^SERVE-PPP lac=one result=auth-failed" "guest: pppd's authentication failed"
    expect_console "rcvd \[CHAP Failure .*E=$err" "guest pppd received E=$err"
    expect_count "gre && chap.code == 4 && chap.message contains \"E=$err \"" 1 "MS-CHAPv2 Failure packets with E=$err in GRE"
    if [ -s "$ACCT" ]; then
        n=$(jq -c --arg u "$user" 'select(.user == $u)' "$ACCT" | wc -l)
    else
        n=0
    fi
    if [ "$n" = 0 ]; then good "accounting: no record for $user"; else bad "accounting: $n record(s) for the refused $user"; fi
    expect_stat '.sessions_rejected == 1' "one session rejected"
    expect_pptp_setup
    expect_exit_clean
    explain
}

# --- L2TP/IPsec: the guest on the tap device (no NAT: plain ESP), or behind
# qemu's user networking (NAT: ESP in UDP on 4500) ---

# ipsec_tap: the tap device as for PPTP, without a PPTP listener
ipsec_tap() {
    pptp_tap || return 1
    SERVE_ARGS=
}

# esp_keys_opts: tshark's options that decrypt the capture's ESP with the keys
# the server wrote beside it (serve.pcap.keys, Wireshark's esp_sa lines)
esp_keys_opts() {
    local l
    ESP_OPTS=(-o esp.enable_encryption_decode:TRUE)
    while IFS= read -r l; do
        case "$l" in '"IPv4"'*) ESP_OPTS+=(-o "uat:esp_sa:$l") ;; esac
    done < "$CAP.keys"
}

# check_ipsec_call_ok USER ENCAP: the guest's L2TP/IPsec call "one" for USER
# came up inside an SA with ENCAP "esp" (plain ESP) or "udp" (ESP in UDP,
# NAT traversal), pinged the server three times and hung up
check_ipsec_call_ok() {
    local user=$1 encap=$2 n
    expect_guest_status 0
    expect_console '^SERVE-IPSEC result=up ' "guest: charon set up the IPsec SA"
    expect_log 'ike sa=[0-9]+ .*IKE SA up: ' "server: IKE SA up"
    expect_log 'ike sa=[0-9]+ .*child [0-9a-f]+/[0-9a-f]+ up: ' "server: transport-mode child SA up"
    expect_log 'tunnel up peer=' "server: L2TP tunnel up inside IPsec"
    expect_served "$user" MS-CHAPv2 l2tp
    if [ -s "$W/ike.json" ] && jq -e '.ike | length >= 1 and (.[0].state == "established")' "$W/ike.json" > /dev/null 2>&1; then
        good "vnet show ike --json: $(jq -c '.ike[0] | {peer, state, nat, children}' "$W/ike.json")"
    else
        bad "vnet show ike --json did not list an established IKE SA: $(head -c 300 "$W/ike.json" 2> /dev/null)"
    fi
    if [ -s "$W/sa.json" ] && jq -e --arg e "$encap" '.sa | length >= 1 and (.[0].encapsulation == $e) and (.[0].mode == "transport") and (.[0].rx_packets > 0)' "$W/sa.json" > /dev/null 2>&1; then
        good "vnet show sa --json: $(jq -c '.sa[0] | {encapsulation, mode, rx_packets, tx_packets}' "$W/sa.json")"
    else
        bad "vnet show sa --json did not list a $encap transport child with traffic: $(head -c 300 "$W/sa.json" 2> /dev/null)"
    fi
    expect_count 'isakmp.exchangetype == 2' 6 "Main Mode messages (identity protection)"
    expect_count 'isakmp.exchangetype == 32' 3 "Quick Mode messages"
    if [ "$encap" = udp ]; then
        expect_count 'udp.port == 4500 && esp' 6 "ESP in UDP packets"
    else
        expect_count 'ip.proto == 50 && ip.src == 192.0.2.2' 3 "ESP packets from the client"
        expect_count 'ip.proto == 50 && ip.dst == 192.0.2.2' 3 "ESP packets from the server"
    fi
    n=$(count 'l2tp')
    if [ "$n" = 0 ]; then good "capture: no L2TP in the clear"; else bad "capture: $n L2TP packets in the clear"; fi
    if [ -s "$CAP.keys" ]; then
        good "the server wrote keys beside its capture ($(grep -c '^"IPv4"' "$CAP.keys") ESP SAs)"
        esp_keys_opts
        n=$(tshark -r "$CAP" "${ESP_OPTS[@]}" -Y 'l2tp.avp.message_type == 1' 2> /dev/null | wc -l)
        if [ "$n" -ge 1 ]; then good "tshark with those keys: the SCCRQ inside ESP"; else bad "tshark with those keys finds no SCCRQ inside ESP"; fi
        n=$(tshark -r "$CAP" "${ESP_OPTS[@]}" -Y 'chap.code == 3' 2> /dev/null | wc -l)
        if [ "$n" -ge 1 ]; then good "tshark with those keys: MS-CHAPv2 Success inside ESP"; else bad "tshark with those keys finds no MS-CHAPv2 Success inside ESP"; fi
        "$VNET" pcap explain --keys "$CAP.keys" "$CAP" > "$CAP.explain-keys" 2>&1
        if grep -q 'alice' "$CAP.explain-keys"; then good "vnet pcap explain --keys follows the session inside ESP"
        else bad "vnet pcap explain --keys does not see alice's session: $(head -c 400 "$CAP.explain-keys")"; fi
    else
        bad "no keys beside the capture ($CAP.keys)"
    fi
    expect_stat '.sessions_up_total == 1 and .sessions_up == 0 and .icmp_echo == 3' \
        "one session served and ended, three echoes answered"
    expect_stat '.ike.sas_up >= 1 and .ike.esp_rx > 0 and .ike.esp_tx > 0' "IKE and ESP counted"
    expect_exit_clean
    explain
}

# ipsec_certs STORE: the certificates of tests/scripts/ipsec-pki.sh made under $W/pki;
# the server's configuration then takes $W/pki/STORE as certs.store and the corporate CA
# as the CA the clients trust; the guest gets its computer certificate, key and that CA
# (guest-files: /scenario/files)
ipsec_certs() {
    PKI=$W/pki
    mkdir -p "$PKI" "$W/guest-files"
    . "$(dirname "${BASH_SOURCE[0]}")/../../scripts/ipsec-pki.sh"
    make_pki || { echo "openssl did not make the certificates"; return 1; }
    cp "$PKI/client.pem" "$PKI/client.key" "$PKI/corp.pem" "$W/guest-files/"
    CERT_STORE=$PKI/$1
}

# --- IKEv2: the guest's charon as Windows' IKEv2 client (EAP-MSCHAPv2 for the user, the
# server's certificate, a virtual address from the pool, tunnel mode) on the tap device ---

# ikev2_certs STORE CA: the certificates of tests/scripts/ipsec-pki.sh under $W/pki as for
# ipsec_certs; the guest trusts $W/pki/CA.pem alone (guest-files/ca.pem). Sets CERT_STORE
# and TRUSTED (that CA's file).
ikev2_certs() {
    PKI=$W/pki
    mkdir -p "$PKI" "$W/guest-files"
    . "$(dirname "${BASH_SOURCE[0]}")/../../scripts/ipsec-pki.sh"
    make_pki || { echo "openssl did not make the certificates"; return 1; }
    cp "$PKI/$2.pem" "$W/guest-files/ca.pem"
    CERT_STORE=$PKI/$1
    TRUSTED=$PKI/$2.pem
}

# ikev2_config [JQ-FILTER]: serve_config's base with IKEv2 on the tap's address: EAP with
# MS-CHAPv2 enabled on the server and in the policy, 8 IKEv2 ports, the server's
# certificate picked from $CERT_STORE for clients that trust $TRUSTED (certs.client_ca)
# under the name vpn.l2tp.test; then the filter
ikev2_config() {
    serve_config ".server.auth_methods += [\"eap\"] | .server.eap_types = [\"mschapv2\"] |
        .server.ports.ikev2 = 8 |
        .policies[0].profile.auth_methods += [\"eap\"] | .policies[0].profile.eap_types = [\"mschapv2\"] |
        .certs = {\"store\": \"$CERT_STORE\", \"client_ca\": \"$TRUSTED\", \"server_name\": \"vpn.l2tp.test\"} |
        .serve.ikev2 = {\"listen\": \"$PPTP_ADDR\"} | ${1:-.}"
}

# ikev2_watch: serve_watch, then once the guest has pinged (its SERVE-PING line on the
# console, 150 s at most) `vnet show sa --json` again as sa-after-ping.json
ikev2_watch() {
    serve_watch
    (
        for _ in $(seq 1 750); do
            if grep -q '^SERVE-PING ' "$CONSOLE" 2> /dev/null; then
                "$VNET" show sa --json --control "$CTLSOCK" > "$W/sa-after-ping.json" 2>> "$W/show.err"
                exit 0
            fi
            sleep 0.2
        done
    ) &
    echo $! >> "$INTEROP_PIDS"
}

# ikev2_parity USER PASSWORD: the server's verdict on USER (its "admitted" or "rejected
# ... error= reason=" line) equals what `vnet policy test` decides for the same attempt
# over IKEv2 (tunnel ikev2, EAP-MSCHAPv2, from the guest's address to the server's)
ikev2_parity() {
    local line server policy out
    line=$(grep -E -m1 " (admitted|rejected) user=$1 " "$SLOG")
    case "$line" in
    *" admitted user="*) server=accept ;;
    *" rejected user="*) server="reject $(sed -n 's/.* error=\([0-9]*\) reason=\([a-z-]*\).*/\1 \2/p' <<< "$line")" ;;
    *) bad "server: no verdict on $1 in its log"; return ;;
    esac
    jq -n --arg u "$1" --arg p "$2" --arg c 192.0.2.2 --arg s "$PPTP_ADDR" \
        '{user: $u, password: $p, tunnel: "ikev2", auth: "eap", eap_type: "mschapv2",
          calling_station_id: $c, called_station_id: $s}' > "$W/attempt-$1.json"
    out=$("$VNET" --json --config "$CONF" policy test "$W/attempt-$1.json" 2> "$W/policy-test.err")
    policy=$(jq -r 'if .decision == "accept" then "accept" else "reject \(.error) \(.reason)" end' <<< "$out" 2> /dev/null)
    if [ -n "$policy" ] && [ "$server" = "$policy" ]; then
        good "vnet serve and vnet policy test agree on $1 over ikev2: $server"
    else
        bad "vnet serve says '$server' of $1, vnet policy test '${policy:-nothing}' ($(head -c 200 "$W/policy-test.err"))"
    fi
}

# expect_ikev2_exchanges [N]: IKE_SA_INIT (34) both ways and at least N (2) IKE_AUTH (35)
# datagrams each way (fragments count one each) in the server's capture
expect_ikev2_exchanges() {
    expect_count 'isakmp.exchangetype == 34 && ip.src == 192.0.2.2' 1 "IKE_SA_INIT requests from the client"
    expect_count 'isakmp.exchangetype == 34 && ip.dst == 192.0.2.2' 1 "IKE_SA_INIT answers from the server"
    expect_count 'isakmp.exchangetype == 35 && ip.src == 192.0.2.2' "${1:-2}" "IKE_AUTH requests from the client"
    expect_count 'isakmp.exchangetype == 35 && ip.dst == 192.0.2.2' "${1:-2}" "IKE_AUTH answers from the server"
}

# check_ikev2_ok USER: the verdict of a scenario in which the guest's charon brings up
# IKEv2 for USER with EAP-MSCHAPv2, gets a pool address, pings the server's inner address
# (192.168.10.1) three times through ESP in tunnel mode and deletes its SA
check_ikev2_ok() {
    local user=$1 vip addr n
    expect_guest_status 0
    expect_console '^SERVE-IKEV2 result=up ' "guest: charon brought up the IKE SA and the child"
    expect_log "admitted user=$user method=EAP-MSCHAPv2 " "server: the policy admitted $user"
    expect_log "session [0-9]+ up user=$user addr=[0-9.]+ method=EAP-MSCHAPv2" "server: session up"
    addr=$(sed -n "s/.*session [0-9]* up user=$user addr=\([0-9.]*\).*/\1/p" "$SLOG" | head -n1)
    vip=$(sed -n 's/^SERVE-IKEV2 result=up .*vip=\([0-9.]*\).*/\1/p' "$CONSOLE" | head -n1)
    if in_pool "$addr" 192.168.10.101 192.168.10.149; then good "client address $addr from the pool"
    else bad "client address '$addr' is not from the pool"; fi
    if [ -n "$vip" ] && [ "$vip" = "$addr" ]; then good "guest: charon installed that address as its virtual IP"
    else bad "guest: charon's virtual IP '${vip:-none}' is not the server's '$addr'"; fi
    expect_console '^SERVE-IKEV2 result=up .* dns=192\.168\.10\.1 ' "guest: the server's DNS address from the configuration payload"
    expect_console '^SERVE-PING lac=ikev2 sent=3 received=3$' "guest: the server's inner address answered every ping"
    expect_console "^SERVE-IKEV2-DOWN status=0" "guest: charon deleted its SA"
    expect_log "session [0-9]+ down cause=ike\.v2\.deleted-by-peer user=$user" "server: session down when the client deleted the SA"
    if [ -s "$W/sessions.json" ] &&
        jq -e --arg u "$user" --arg a "$addr" '[.sessions[] | select(.user == $u and .address == $a and
            .tunnel_type == "ikev2" and .method == "EAP-MSCHAPv2")] | length == 1' "$W/sessions.json" > /dev/null 2>&1; then
        good "vnet show sessions --json listed $user with $addr over ikev2"
    else
        bad "vnet show sessions --json did not list $user with $addr over ikev2: $(jq -c . "$W/sessions.json" 2> /dev/null | head -c 300)"
    fi
    if [ -s "$W/ike.json" ] && jq -e --arg u "$user" '[.ike[] | select(.version == 2 and .state == "established" and
            .user == $u and .peer == "192.0.2.2")] | length == 1' "$W/ike.json" > /dev/null 2>&1; then
        good "vnet show ike --json: $(jq -c '.ike[0] | {version, peer, user, state, nat, children}' "$W/ike.json")"
    else
        bad "vnet show ike --json did not list an established IKEv2 SA of $user: $(head -c 300 "$W/ike.json" 2> /dev/null)"
    fi
    if [ -s "$W/sa-after-ping.json" ] && jq -e --arg a "$addr" '[.sa[] | select(.version == 2 and .mode == "tunnel" and
            .encapsulation == "esp" and .address == $a and .rx_packets >= 3 and .tx_packets >= 3)] | length == 1' \
            "$W/sa-after-ping.json" > /dev/null 2>&1; then
        good "vnet show sa --json after the pings: $(jq -c '.sa[0] | {mode, encapsulation, address, rx_packets, tx_packets}' "$W/sa-after-ping.json")"
    else
        bad "vnet show sa --json after the pings did not list a tunnel child for $addr with traffic: $(head -c 300 "$W/sa-after-ping.json" 2> /dev/null)"
    fi
    if [ -s "$ACCT" ] && jq -s -e --arg u "$user" --arg a "$addr" '
            any(.[]; .event == "start" and .user == $u and .tunnel_type == "ikev2" and .method == "EAP-MSCHAPv2") and
            any(.[]; .event == "stop" and .user == $u and .tunnel_type == "ikev2" and
                     .cause == "ike.v2.deleted-by-peer" and .rx_packets >= 3 and .tx_packets >= 3)' "$ACCT" > /dev/null 2>&1; then
        good "accounting: start and stop of $user with tunnel type ikev2, the stop counting the pings"
    else
        bad "accounting: no ikev2 start and stop with traffic for $user: $(head -c 400 "$ACCT" 2> /dev/null)"
    fi
    ikev2_parity "$user" Passw0rd!
    expect_ikev2_exchanges
    expect_count 'ip.proto == 50 && ip.src == 192.0.2.2' 3 "ESP packets from the client"
    expect_count 'ip.proto == 50 && ip.dst == 192.0.2.2' 3 "ESP packets from the server"
    n=$(count 'icmp')
    if [ "$n" = 0 ]; then good "capture: no ICMP in the clear"; else bad "capture: $n ICMP packets in the clear"; fi
    expect_stat '.sessions_up_total == 1 and .sessions_up == 0 and .icmp_echo == 3' \
        "one session served and ended, three echoes answered"
    expect_stat '.ikev2.sas_up >= 1 and .ikev2.esp_rx >= 3 and .ikev2.esp_tx >= 3' "IKEv2 SA and ESP counted"
    expect_exit_clean
    explain
}

# check_ikev2_refused USER PASSWORD ERROR REASON: charon's EAP-MSCHAPv2 as USER fails; the
# server logs the rejection with ERROR and REASON (the policy engine's), `vnet policy test`
# says the same of the attempt, no SA and no session come up, nothing is accounted
check_ikev2_refused() {
    local user=$1 n
    expect_guest_status 0
    expect_console '^SERVE-IKEV2 result=failed ' "guest: charon could not bring up the SA"
    expect_console 'EAP_FAILURE|EAP-MS-CHAPv2 failed|EAP method EAP_MSCHAPV2 failed' "guest charon: EAP failure"
    expect_log "session [0-9]+ rejected user=$user method=EAP-MSCHAPv2 error=$3 reason=$4 " \
        "server: rejection of $user logged with the policy's reason"
    expect_log "policy\.$4" "server: the policy engine's rule policy.$4"
    ikev2_parity "$user" "$2"
    no_log "session [0-9]+ up user=$user " "server: no session up for $user"
    no_log 'IKE SA up' "server: no IKE SA up"
    if [ -s "$ACCT" ]; then n=$(jq -c --arg u "$user" 'select(.user == $u)' "$ACCT" | wc -l); else n=0; fi
    if [ "$n" = 0 ]; then good "accounting: no record for $user"; else bad "accounting: $n record(s) for the refused $user"; fi
    expect_ikev2_exchanges
    n=$(count 'ip.proto == 50')
    if [ "$n" = 0 ]; then good "capture: no ESP"; else bad "capture: $n ESP packets"; fi
    expect_stat '.sessions_rejected == 1 and .sessions_up_total == 0' "one session rejected, none up"
    expect_exit_clean
    explain
}
