#!/usr/bin/env bash
# ike host side: Debian's charon as IKEv1 responder on 127.0.0.1 (the guest
# reaches it as 10.0.2.2), ESP in user space through kernel-libipsec (this
# kernel has no ESP), 10.200.9.1 on loopback behind the tunnel; tcpdump
# captures UDP 500/4500.
# Passes when both charons report the IKE SA and the CHILD SA established,
# the capture (decoded by tshark) holds an IKEv1 Main Mode and Quick Mode and
# ESP in UDP both ways, and the guest's pings came back through the tunnel.
# Called as: host.sh start|stop|check (see docs/interop.md).
set -u
W=$INTEROP_WORK
CHARON=/usr/lib/ipsec/charon
case "$1" in
start)
    [ -x $CHARON ] || { echo "skip: charon not installed (strongswan-charon)"; exit 77; }
    [ -f /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so ] ||
        { echo "skip: kernel-libipsec plugin not installed (libcharon-extra-plugins)"; exit 77; }
    for t in swanctl tcpdump tshark unshare; do
        command -v $t >/dev/null || { echo "skip: $t not installed"; exit 77; }
    done
    [ -n "$INTEROP_NETNS" ] || { echo "skip: needs its own network namespace (ports 500/4500, 10.200.9.1)"; exit 77; }
    mkdir -p "$W/run"
    cat > "$W/strongswan.conf" <<CONF
charon {
  load = random nonce aes sha1 sha2 hmac gmp kdf pem pkcs1 x509 pubkey kernel-libipsec kernel-netlink socket-default vici
  install_routes = yes
  plugins {
    vici { socket = unix://$W/charon.vici }
  }
  filelog {
    host { path = $W/charon.log
           time_format = %H:%M:%S
           default = 1
           ike = 2
           cfg = 2 }
  }
  syslog { daemon { default = -1 } }
}
swanctl { load = pem pkcs1 x509 pubkey random nonce aes sha1 sha2 hmac gmp }
CONF
    cat > "$W/swanctl.conf" <<CONF
connections {
  guest {
    version = 1
    local_addrs = 127.0.0.1
    proposals = aes256-sha256-modp2048
    encap = yes
    local { auth = psk
            id = host@vnet.test }
    remote { auth = psk
             id = guest@vnet.test }
    children {
      net { local_ts = 10.200.9.0/24
            remote_ts = 10.0.2.0/24
            esp_proposals = aes128-sha256
            mode = tunnel }
    }
  }
}
secrets {
  ike-guest { id-1 = host@vnet.test
              id-2 = guest@vnet.test
              secret = "interop-psk-7f3a" }
}
CONF
    ip addr add 10.200.9.1/32 dev lo || exit 1
    tcpdump -i lo -U -n -w "$W/ike.pcap" udp port 500 or udp port 4500 > "$W/tcpdump.log" 2>&1 &
    echo $! >> "$INTEROP_PIDS"
    # charon writes its PID file under /run: give it a private /run
    STRONGSWAN_CONF=$W/strongswan.conf unshare -m --propagation private \
        sh -c 'mount --bind "$1/run" /run && exec "$2"' sh "$W" "$CHARON" > "$W/charon.out" 2>&1 &
    echo $! >> "$INTEROP_PIDS"
    for _ in $(seq 1 50); do
        [ -S "$W/charon.vici" ] && grep -q 'listening on' "$W/tcpdump.log" 2>/dev/null && break
        sleep 0.1
    done
    [ -S "$W/charon.vici" ] || { echo "charon did not start:"; cat "$W/charon.out" "$W/charon.log" 2>/dev/null; exit 1; }
    # swanctl also looks for credential folders beside the file: keep its output aside
    STRONGSWAN_CONF=$W/strongswan.conf swanctl --load-all --file "$W/swanctl.conf" \
        --uri "unix://$W/charon.vici" > "$W/swanctl-load.log" 2>&1 ||
        { echo "swanctl could not load the responder's configuration:"; cat "$W/swanctl-load.log"; exit 1; }
    # the guest's charon deletes the SAs when it stops: look at them while they
    # are up (once a second, for at most 100 s)
    (
        for _ in $(seq 1 100); do
            STRONGSWAN_CONF=$W/strongswan.conf swanctl --list-sas --uri "unix://$W/charon.vici" > "$W/sas.now" 2>&1
            if grep -q INSTALLED "$W/sas.now"; then mv "$W/sas.now" "$W/sas.txt"; exit 0; fi
            sleep 1
        done
    ) > /dev/null 2>&1 &
    echo $! >> "$INTEROP_PIDS"
    exit 0 ;;
stop)
    while read -r pid; do kill -INT "$pid" 2>/dev/null; done < "$INTEROP_PIDS"
    sleep 1
    exit 0 ;;
check)
    rc=0
    log=$W/charon.log
    [ "$INTEROP_GUEST_STATUS" = 0 ] || { echo "guest.sh failed with status $INTEROP_GUEST_STATUS"; rc=1; }
    grep -q "initiate completed successfully" "$INTEROP_CONSOLE" || { echo "guest: swanctl did not report the SA established"; rc=1; }
    grep -q 'IKE_SA guest\[[0-9]*\] established between 127.0.0.1\[host@vnet.test\]' "$log" ||
        { echo "host charon: no IKE SA established"; rc=1; }
    grep -q 'CHILD_SA net{[0-9]*} established' "$log" || { echo "host charon: no CHILD SA established"; rc=1; }
    grep -q 'ESTABLISHED' "$W/sas.txt" 2>/dev/null && grep -q 'INSTALLED, TUNNEL' "$W/sas.txt" ||
        { echo "host swanctl --list-sas: SA not established and installed"; rc=1; }
    # IKEv1 exchange types: 2 Identity Protection (Main Mode), 32 Quick Mode
    ex=$(tshark -r "$W/ike.pcap" -Y isakmp -T fields -e isakmp.exchangetype 2>/dev/null | sort | uniq -c | awk '{printf "%s x%s ", $2, $1}')
    grep -o 'IKE_SA guest\[[0-9]*\] established.*' "$log" | head -n1
    grep -o 'CHILD_SA net{[0-9]*} established.*' "$log" | head -n1
    echo "ISAKMP exchange types: $ex"
    case " $ex" in *" 2 x"*) ;; *) echo "capture: no Main Mode"; rc=1 ;; esac
    case " $ex" in *" 32 x"*) ;; *) echo "capture: no Quick Mode"; rc=1 ;; esac
    esp_up=$(tshark -r "$W/ike.pcap" -Y 'esp && udp.dstport == 4500' 2>/dev/null | wc -l)
    esp_down=$(tshark -r "$W/ike.pcap" -Y 'esp && udp.srcport == 4500' 2>/dev/null | wc -l)
    echo "ESP in UDP: $esp_up to the host, $esp_down to the guest"
    [ "$esp_up" -ge 3 ] && [ "$esp_down" -ge 3 ] || { echo "capture: fewer than 3 ESP packets each way"; rc=1; }
    grep -q ' 0% packet loss' "$INTEROP_CONSOLE" || { echo "guest: pings through the tunnel were lost"; rc=1; }
    exit $rc ;;
*) echo "usage: host.sh start|stop|check" >&2; exit 2 ;;
esac
