# serve-guest-lib.sh: guest side shared by the serve-* scenarios.  Each of
# them links it as lib.sh (run-guest copies links dereferenced), so a guest.sh
# reads it as /scenario/lib.sh after setting SCEN to its name.
#
# Debian's xl2tpd runs as LAC towards `vnet serve` on the host ($HOST_IP:1701)
# in user-space mode and starts Debian's pppd for every call; each [lac]
# section's options file makes pppd log to /tmp/pppd-LAC.log.  The functions
# print marker lines that the host side's check reads from the console:
#   SERVE-PPP lac=NAME result=up|auth-failed|ended|timeout [addr= peer= iface= dns=]
#   SERVE-PING lac=NAME sent=N received=N
#   SERVE-DOWN lac=NAME how=...
# Every wait is bounded.

CTL=/run/xl2tpd/l2tp-control
XLOG=/tmp/xl2tpd.log
XPID=

up() { cut -d' ' -f1 /proc/uptime; }
# deadline SECONDS: the time (date +%s) SECONDS from now; before T: still before T
deadline() { echo $(($(date +%s) + $1)); }
before() { [ "$(date +%s)" -lt "$1" ]; }
say() { echo "$SCEN: $*"; }

# lac_start CONF: xl2tpd with the LAC sections of CONF; returns once its
# control pipe exists (5 s at most)
lac_start() {
    say "xl2tpd LAC towards $HOST_IP:1701 at $(up)s"
    xl2tpd -D -c "$1" -p /run/xl2tpd.pid -C $CTL > $XLOG 2>&1 &
    XPID=$!
    i=0
    while [ $i -lt 50 ] && [ ! -p $CTL ]; do
        sleep 0.1
        i=$((i + 1))
    done
    [ -p $CTL ] || say "xl2tpd made no control pipe"
}

# lac_dial NAME: dials the LAC section NAME (one without autodial)
lac_dial() {
    say "dialing $1 at $(up)s"
    echo "c $1" > $CTL
}

# ppp_wait LAC SECONDS [XL2TPD-PATTERN]: waits until the call's pppd has an
# address, failed or ended, or until the time is over.  xl2tpd closing a call
# or tunnel ends the wait too (a call the server refused before PPP started),
# as does a line of its log matching the extended regular expression.  Sets
# PPP_RESULT and prints a SERVE-PPP line.
ppp_wait() {
    lac=$1
    log=/tmp/pppd-$1.log
    end=$(deadline "$2")
    PPP_RESULT=timeout
    while before $end; do
        if grep -q 'local  IP address' "$log" 2>/dev/null; then
            PPP_RESULT=up
            break
        fi
        if grep -Eiq 'authentication failed' "$log" 2>/dev/null; then
            PPP_RESULT=auth-failed
            break
        fi
        if grep -Eq 'Connection terminated|Modem hangup|LCP: timeout|Exit\.' "$log" 2>/dev/null; then
            PPP_RESULT=ended
            break
        fi
        if grep -Eq "Connection [0-9]* ?closed to|${3:-Connection [0-9]* ?closed to}" $XLOG; then
            PPP_RESULT=ended
            break
        fi
        kill -0 $XPID 2>/dev/null || { PPP_RESULT=ended; break; }
        sleep 0.25
    done
    # pppd logs the failure and the end of the link within one poll
    if [ $PPP_RESULT = ended ] &&
        grep -Eiq 'authentication failed' "$log" 2>/dev/null; then
        PPP_RESULT=auth-failed
    fi
    line="lac=$lac result=$PPP_RESULT"
    if [ $PPP_RESULT = up ]; then
        PPP_ADDR=$(sed -n 's/.*local  IP address \([0-9.]*\).*/\1/p' "$log" | tail -n1)
        PPP_PEER=$(sed -n 's/.*remote IP address \([0-9.]*\).*/\1/p' "$log" | tail -n1)
        PPP_IF=$(sed -n 's/.*Using interface \(ppp[0-9]*\).*/\1/p' "$log" | tail -n1)
        dns=$(sed -n 's/.*primary   DNS address \([0-9.]*\).*/\1/p' "$log" | tail -n1)
        line="$line addr=$PPP_ADDR peer=$PPP_PEER iface=$PPP_IF dns=${dns:-none}"
    fi
    echo "SERVE-PPP $line at $(up)s"
    [ $PPP_RESULT = up ]
}

# ppp_ping LAC COUNT: pings the server's PPP address through the call's
# interface (after ppp_wait LAC said up)
ppp_ping() {
    ping -c "$2" -W 3 -I "$PPP_IF" "$PPP_PEER" > /tmp/ping-$1.out 2>&1
    sed 's/^/    /' /tmp/ping-$1.out
    rcvd=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' /tmp/ping-$1.out)
    echo "SERVE-PING lac=$1 sent=$2 received=${rcvd:-0}"
    [ "${rcvd:-0}" -ge 1 ]
}

# ppp_wait_down LAC SECONDS: waits until the call's pppd reports the link
# lost (echo failure, hang-up, terminate from the peer)
ppp_wait_down() {
    log=/tmp/pppd-$1.log
    end=$(deadline "$2")
    how=timeout
    while before $end; do
        if grep -q 'No response to [0-9]* echo-requests' "$log"; then how=echo-failure; break; fi
        if grep -q 'Modem hangup' "$log"; then how=hangup; break; fi
        if grep -q 'LCP terminated by peer' "$log"; then how=terminated-by-peer; break; fi
        if grep -q 'Connection terminated' "$log"; then how=terminated; break; fi
        sleep 0.25
    done
    echo "SERVE-DOWN lac=$1 how=$how at $(up)s"
    [ $how != timeout ]
}

# lac_stop LAC...: hangs up: SIGTERM to every pppd (LCP Terminate, then
# xl2tpd ends the call with a CDN), the LACs' tunnels closed, xl2tpd stopped
lac_stop() {
    for p in $(pidof pppd); do kill -TERM "$p" 2>/dev/null; done
    i=0
    while [ $i -lt 40 ] && [ -n "$(pidof pppd)" ]; do
        sleep 0.25
        i=$((i + 1))
    done
    for lac in "$@"; do
        [ -p $CTL ] && echo "d $lac" > $CTL
    done
    sleep 2
    kill $XPID 2>/dev/null
    i=0
    while [ $i -lt 20 ] && kill -0 $XPID 2>/dev/null; do
        sleep 0.25
        i=$((i + 1))
    done
    say "hung up at $(up)s"
}

# show_logs LAC...: the logs the host side reads from the console
show_logs() {
    for lac in "$@"; do
        echo "===== guest pppd log ($lac)"
        cat /tmp/pppd-$lac.log 2>/dev/null
    done
    echo "===== guest xl2tpd log (last 40 lines)"
    tail -n 40 $XLOG
}

# pptp_dial NAME OPTIONS: Debian's pppd driving pptp-linux (pty mode) dials
# `vnet serve`'s PPTP side at $HOST_IP:1723, with the pppd options file
# OPTIONS (which logs to /tmp/pppd-NAME.log); pppd's and pptp's output go to
# /tmp/pptp-NAME.out.  Sets XPID and XLOG so that ppp_wait follows this call.
pptp_dial() {
    say "pppd + pptp $1 towards $HOST_IP:1723 at $(up)s"
    [ -n "$(pidof syslogd)" ] || syslogd -O /tmp/messages 2>/dev/null
    pppd pty "pptp $HOST_IP --nolaunchpppd --nohostroute --loglevel 2" file "$2" \
        logfile /tmp/pppd-$1.log nodetach > /tmp/pptp-$1.out 2>&1 &
    XPID=$!
    XLOG=/tmp/pptp-$1.out
    eval "PPTP_PID_$1=$XPID"
}

# pptp_follow NAME: ppp_wait and ppp_ping follow the call NAME again
pptp_follow() {
    eval "XPID=\$PPTP_PID_$1"
    XLOG=/tmp/pptp-$1.out
}

# pptp_stop: hangs up every call (SIGTERM to pppd: LCP Terminate, then pptp
# clears the call and closes the control connection), bounded
pptp_stop() {
    for p in $(pidof pppd); do kill -TERM "$p" 2>/dev/null; done
    i=0
    while [ $i -lt 40 ] && [ -n "$(pidof pppd)$(pidof pptp)" ]; do
        sleep 0.25
        i=$((i + 1))
    done
    for p in $(pidof pptp); do kill -TERM "$p" 2>/dev/null; done
    say "hung up at $(up)s"
}

# pptp_logs NAME...: the logs the host side reads from the console
pptp_logs() {
    for n in "$@"; do
        echo "===== guest pppd log ($n)"
        cat /tmp/pppd-$n.log 2>/dev/null
        echo "===== guest pppd/pptp output ($n, last 30 lines)"
        tail -n 30 /tmp/pptp-$n.out 2>/dev/null
    done
    echo "===== guest syslog (pptp, last 30 lines)"
    grep -i pptp /tmp/messages 2>/dev/null | cut -c1-200 | tail -n 30
}

# --- L2TP/IPsec: Debian's charon (kernel IPsec, transport mode for UDP 1701)
# under xl2tpd, as the two halves of a Windows L2TP/IPsec client ---
V="--uri unix:///run/charon.vici"

# ipsec_up PSK [CONF]: starts charon with /scenario/strongswan.conf, loads
# CONF (default /scenario/swanctl.conf, HOST_IP and PSK filled in) and
# initiates the child "l2tp" (30 s at most).  Prints
#   SERVE-IPSEC result=up|failed status=N
ipsec_up() {
    export STRONGSWAN_CONF=/scenario/strongswan.conf
    sed -e "s/HOST_IP/$HOST_IP/g" -e "s/\"PSK\"/\"$1\"/" "${2:-/scenario/swanctl.conf}" > /tmp/swanctl.conf
    /usr/lib/ipsec/charon > /tmp/charon.out 2>&1 &
    CHARON_PID=$!
    i=0
    while [ $i -lt 40 ] && [ ! -S /run/charon.vici ]; do sleep 0.25; i=$((i + 1)); done
    swanctl --load-all --file /tmp/swanctl.conf $V 2>&1 | grep -E 'loaded|failed' | grep -v 'opening directory'
    say "initiating IPsec towards $HOST_IP at $(up)s"
    swanctl --initiate --child l2tp --timeout 30 $V > /tmp/initiate.log 2>&1
    irc=$?
    grep -E 'established|successfully|failed|NO_PROPOSAL|AUTH|INVALID' /tmp/initiate.log | cut -c1-200
    if [ $irc = 0 ]; then r=up; else r=failed; fi
    echo "SERVE-IPSEC result=$r status=$irc at $(up)s"
    [ $irc = 0 ]
}

# ipsec_up_cert: as ipsec_up, with the computer certificate the host made
# (/scenario/files: client.pem, client.key, the CA corp.pem the client trusts) and
# /scenario/swanctl-cert.conf
ipsec_up_cert() {
    mkdir -p /tmp/swanctl/x509 /tmp/swanctl/x509ca /tmp/swanctl/private
    cp /scenario/files/client.pem /tmp/swanctl/x509/
    cp /scenario/files/client.key /tmp/swanctl/private/
    cp /scenario/files/corp.pem /tmp/swanctl/x509ca/
    sed "s/HOST_IP/$HOST_IP/g" /scenario/swanctl-cert.conf > /tmp/swanctl/swanctl.conf
    export STRONGSWAN_CONF=/scenario/strongswan.conf
    /usr/lib/ipsec/charon > /tmp/charon.out 2>&1 &
    CHARON_PID=$!
    i=0
    while [ $i -lt 40 ] && [ ! -S /run/charon.vici ]; do sleep 0.25; i=$((i + 1)); done
    swanctl --load-all --file /tmp/swanctl/swanctl.conf $V 2>&1 | grep -E 'loaded|failed' | grep -v 'opening directory'
    say "initiating IPsec (certificates) towards $HOST_IP at $(up)s"
    swanctl --initiate --child l2tp --timeout 30 $V > /tmp/initiate.log 2>&1
    irc=$?
    grep -E 'established|successfully|failed|trusted|AUTH|INVALID|certificate' /tmp/initiate.log | cut -c1-200
    if [ $irc = 0 ]; then r=up; else r=failed; fi
    echo "SERVE-IPSEC result=$r status=$irc at $(up)s"
    [ $irc = 0 ]
}

# ipsec_lac_start: xl2tpd with /scenario/lac.conf, HOST_IP filled in
ipsec_lac_start() {
    sed "s/HOST_IP/$HOST_IP/g" /scenario/lac.conf > /tmp/lac.conf
    lac_start /tmp/lac.conf
}

# ipsec_down: the SAs listed, terminated (DELETE to the server), charon stopped
ipsec_down() {
    echo "===== guest SAs"
    swanctl --list-sas $V 2>&1 | cut -c1-160
    /usr/sbin/ip -s xfrm state 2>/dev/null | grep -E '^src|proto|encap|bytes' | cut -c1-160
    swanctl --terminate --ike vnet --timeout 5 $V > /dev/null 2>&1
    kill "$CHARON_PID" 2>/dev/null
    i=0
    while [ $i -lt 20 ] && kill -0 "$CHARON_PID" 2>/dev/null; do sleep 0.25; i=$((i + 1)); done
    echo "===== guest charon log (excerpt)"
    grep -E 'established|NAT|failed|error|proposal|installed|received|sending' /tmp/charon.log | cut -c1-200 | tail -n 30
}

# --- IKEv2: Debian's charon as Windows' IKEv2 client: EAP-MSCHAPv2 for the user, the
# server's certificate checked against the one CA the host gave (/scenario/files/ca.pem),
# a virtual address from the server (configuration payload), tunnel-mode ESP in the guest
# kernel to the server's inner address. Marker lines:
#   SERVE-IKEV2 result=up|failed status=N vip=ADDR|none dns=ADDR|none
#   SERVE-PING lac=ikev2 sent=N received=N
#   SERVE-IKEV2-DOWN status=N

# ikev2_up USER PASSWORD [CONF]: charon with /scenario/strongswan.conf loads CONF (default
# /scenario/swanctl.conf; @HOST@, @USER@ and @PASSWORD@ filled in) and initiates the
# child "vnet" (30 s at most)
ikev2_up() {
    mkdir -p /tmp/swanctl/x509ca
    cp /scenario/files/ca.pem /tmp/swanctl/x509ca/
    sed -e "s/@HOST@/$HOST_IP/g" -e "s/@USER@/$1/g" -e "s/@PASSWORD@/$2/g" \
        "${3:-/scenario/swanctl.conf}" > /tmp/swanctl/swanctl.conf
    export STRONGSWAN_CONF=/scenario/strongswan.conf
    /usr/lib/ipsec/charon > /tmp/charon.out 2>&1 &
    CHARON_PID=$!
    i=0
    while [ $i -lt 40 ] && [ ! -S /run/charon.vici ]; do sleep 0.25; i=$((i + 1)); done
    swanctl --load-all --file /tmp/swanctl/swanctl.conf $V 2>&1 | grep -E 'loaded|failed' | grep -v 'opening directory'
    say "initiating IKEv2 as $1 towards $HOST_IP at $(up)s"
    swanctl --initiate --child vnet --timeout 30 $V > /tmp/initiate.log 2>&1
    irc=$?
    grep -E 'established|failed|trusted|EAP|AUTH|INVALID|certificate|virtual IP|fragment' /tmp/initiate.log | cut -c1-200
    # swanctl prints charon's log of the initiation (its log file is written in blocks)
    vip=$(sed -n 's/.*installing new virtual IP \([0-9.]*\).*/\1/p' /tmp/initiate.log | tail -n1)
    # the resolve plugin writes the DNS servers of the configuration payload
    dns=$(sed -n 's/^nameserver \([0-9.]*\).*/\1/p' /etc/resolv.conf 2>/dev/null | head -n1)
    if [ $irc = 0 ]; then r=up; else r=failed; fi
    echo "SERVE-IKEV2 result=$r status=$irc vip=${vip:-none} dns=${dns:-none} at $(up)s"
    [ $irc = 0 ]
}

# ikev2_ping ADDR COUNT: pings ADDR through the tunnel (from the virtual address, which
# charon's route in table 220 chooses)
ikev2_ping() {
    ping -c "$2" -W 3 "$1" > /tmp/ping-ikev2.out 2>&1
    sed 's/^/    /' /tmp/ping-ikev2.out
    rcvd=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' /tmp/ping-ikev2.out)
    echo "SERVE-PING lac=ikev2 sent=$2 received=${rcvd:-0}"
    [ "${rcvd:-0}" -ge 1 ]
}

# ikev2_down: the SAs listed, the IKE SA deleted (INFORMATIONAL with DELETE to the server,
# 5 s at most), charon stopped, its log printed
ikev2_down() {
    echo "===== guest SAs"
    swanctl --list-sas $V 2>&1 | cut -c1-160
    /usr/sbin/ip -s xfrm state 2>/dev/null | grep -E '^src|proto|mode|bytes' | cut -c1-160
    swanctl --terminate --ike vnet --timeout 5 $V > /tmp/terminate.log 2>&1
    echo "SERVE-IKEV2-DOWN status=$? at $(up)s"
    kill "$CHARON_PID" 2>/dev/null
    i=0
    while [ $i -lt 20 ] && kill -0 "$CHARON_PID" 2>/dev/null; do sleep 0.25; i=$((i + 1)); done
    echo "===== guest charon log (excerpt)"
    grep -E 'established|failed|error|proposal|installed|installing|received|sending|EAP|trusted|fragment|authentication|deleting|NAT' \
        /tmp/charon.log | cut -c1-200 | tail -n 50
}
