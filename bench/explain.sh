#!/usr/bin/env bash
# Benchmark of `vnet pcap explain` on a busy server's capture against the decode-only
# speed of tcpdump on the same file.
#
#   bench/explain.sh VNET|BUILD_DIR [SESSIONS]      (default 100000 sessions)
#
# The capture is generated: L2TP tunnels from distinct clients, each with its call,
# LCP, CHAP (every tenth answered with an MS-CHAP Failure E=691), IPCP, one data packet,
# CDN, StopCCN and its acknowledgement; 64 sessions run interleaved at any time. Prints
# the CPU time (user + system) and the wall time of each tool, vnet's speed over
# tcpdump's against the goal (at least 10 times), packets per second and the peak
# memory of vnet, for `pcap explain --json` and for the text.
set -euo pipefail
vnet=${1:?usage: bench/explain.sh VNET|BUILD_DIR [SESSIONS]}
[ -d "$vnet" ] && vnet=$vnet/vnet   # bench/run passes the build directory
n=${2:-100000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cap=$work/busy.pcap

python3 - "$cap" "$n" <<'PY'
import struct, sys
path, n = sys.argv[1], int(sys.argv[2])
SRV = bytes([198, 51, 100, 1])
out = open(path, 'wb')
out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
t = [1700000000 * 1000000]

def csum(h):
    s = sum(struct.unpack('!10H', h))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def frame(src, dst, payload):
    udp = struct.pack('!HHHH', 1701, 1701, 8 + len(payload), 0) + payload
    ip = bytearray(struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, src, dst))
    struct.pack_into('!H', ip, 10, csum(bytes(ip)))
    pkt = b'\x00' * 12 + b'\x08\x00' + bytes(ip) + udp
    t[0] += 50
    out.write(struct.pack('<IIII', t[0] // 1000000, t[0] % 1000000, len(pkt), len(pkt)) + pkt)
    return True

def avp(typ, val):
    return struct.pack('!HHH', 0x8000 | (6 + len(val)), 0, typ) + val

def ctrl(tid, sid, ns, nr, mtype, avps=b''):
    body = (avp(0, struct.pack('!H', mtype)) + avps) if mtype else b''
    return struct.pack('!HHHHHH', 0xc802, 12 + len(body), tid, sid, ns, nr) + body

def data(tid, sid, ppp):
    return struct.pack('!HHH', 0x0002, tid, sid) + b'\xff\x03' + ppp

def cp(proto, code, ident, opts=b''):
    return struct.pack('!HBBH', proto, code, ident, 4 + len(opts)) + opts

def script(i):
    cli = bytes([10, (i >> 16) & 255, (i >> 8) & 255, i & 255])
    tc, ts = 1 + (i % 65000), 1 + ((i * 7) % 65000)
    sc, ss = 1 + (i % 60000), 1 + ((i * 3) % 60000)
    c, s = (lambda p: frame(cli, SRV, p)), (lambda p: frame(SRV, cli, p))
    yield c(ctrl(0, 0, 0, 0, 1, avp(9, struct.pack('!H', tc))))
    yield s(ctrl(tc, 0, 0, 1, 2, avp(9, struct.pack('!H', ts))))
    yield c(ctrl(ts, 0, 1, 1, 3))
    yield c(ctrl(ts, 0, 2, 1, 10, avp(14, struct.pack('!H', sc))))
    yield s(ctrl(tc, sc, 1, 3, 11, avp(14, struct.pack('!H', ss))))
    yield c(ctrl(ts, ss, 3, 2, 12))
    yield s(data(tc, sc, cp(0xc021, 1, 1, b'\x03\x05\xc2\x23\x81')))
    yield c(data(ts, ss, cp(0xc021, 1, 1)))
    yield c(data(ts, ss, cp(0xc021, 2, 1, b'\x03\x05\xc2\x23\x81')))
    yield s(data(tc, sc, cp(0xc021, 2, 1)))
    yield s(data(tc, sc, struct.pack('!HBBHB', 0xc223, 1, 1, 21, 16) + bytes(16)))
    user = b'user%d' % i
    yield c(data(ts, ss, struct.pack('!HBBHB', 0xc223, 2, 1, 5 + 49 + len(user), 49) + bytes(49) + user))
    if i % 10 == 9:
        msg = b'E=691 R=0 C=00112233445566778899aabbccddeeff V=3 M=bad password'
        yield s(data(tc, sc, struct.pack('!HBBH', 0xc223, 4, 1, 4 + len(msg)) + msg))
        yield s(ctrl(tc, sc, 2, 4, 14, avp(1, struct.pack('!H', 3))))
    else:
        msg = b'S=' + b'0' * 40
        yield s(data(tc, sc, struct.pack('!HBBH', 0xc223, 3, 1, 4 + len(msg)) + msg))
        yield s(data(tc, sc, cp(0x8021, 1, 1, b'\x03\x06' + SRV)))
        yield c(data(ts, ss, cp(0x8021, 1, 1, b'\x03\x06' + cli)))
        yield c(data(ts, ss, cp(0x8021, 2, 1, b'\x03\x06' + SRV)))
        yield s(data(tc, sc, cp(0x8021, 2, 1, b'\x03\x06' + cli)))
        yield c(data(ts, ss, b'\x00\x21' + bytes([0x45]) + bytes(59)))
        yield s(ctrl(tc, sc, 2, 4, 14, avp(1, struct.pack('!H', 1))))
    yield c(ctrl(ts, 0, 4, 3, 4, avp(1, struct.pack('!H', 1)) + avp(9, struct.pack('!H', tc))))
    yield s(ctrl(tc, 0, 3, 5, 0))

live, nxt = [], 0
while live or nxt < n:
    while len(live) < 64 and nxt < n:
        live.append(script(nxt)); nxt += 1
    for g in list(live):
        if next(g, None) is None:
            live.remove(g)
out.close()
PY

# run NAME OUT CMD...: "cpu_seconds wall_seconds peak_rss_kB" of CMD, stdout to OUT
run() {
  local name=$1 out=$2; shift 2
  /usr/bin/time -v -o "$work/$name.time" "$@" > "$out" 2> "$work/$name.err" || \
    [ $? -eq 1 ] || { echo "explain: $name failed:" >&2; tail -5 "$work/$name.err" >&2; exit 1; }
  awk -F': ' '/User time|System time/ {c += $2}
              /Elapsed \(wall clock\)/ {n = split($2, t, ":"); w = 0
                                        for (i = 1; i <= n; i++) w = w * 60 + t[i]}
              /Maximum resident set size/ {m = $2}
              END {print c, w, m}' "$work/$name.time"
}
read -r c_t w_t m_t < <(run tcpdump /dev/null tcpdump -nr "$cap")
read -r c_j w_j m_j < <(run json "$work/json.out" "$vnet" --json pcap explain "$cap")
read -r c_x w_x m_x < <(run text /dev/null "$vnet" pcap explain "$cap")
pkts=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['packets'])" "$work/json.out")
sessions=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['summary']['sessions'], d['summary']['failed'])" "$work/json.out")
python3 - "$pkts" "$sessions" "$(stat -c %s "$cap")" "$c_t" "$w_t" "$c_j" "$w_j" "$m_j" "$c_x" "$w_x" "$m_x" <<'PY'
import sys
pk = int(sys.argv[1]); ns, nf = sys.argv[2].split(); size = int(sys.argv[3])
ct, wt, cj, wj, mj, cx, wx, mx = (float(v) for v in sys.argv[4:])
print(f"capture: {pk} packets, {size / 1e6:.1f} MB; vnet found {ns} sessions, {nf} failed")
print(f"tcpdump -nr (decode only): {ct:.2f} s CPU, {wt:.2f} s wall")
for name, c, w, m in (("pcap explain --json", cj, wj, mj), ("pcap explain", cx, wx, mx)):
    print(f"vnet {name + ':':21s} {c:.2f} s CPU ({pk / max(c, 0.001):,.0f} packets/s), "
          f"{w:.2f} s wall, peak RSS {m / 1024:.0f} MB")
print(f"{'name':30s} {'ours':>12s} {'reference':>12s} {'ratio':>8s} {'goal':>6s}")
for name, c, w in (("explain-json", cj, wj), ("explain-text", cx, wx)):
    for kind, a, b in (("cpu", c, ct), ("wall", w, wt)):
        ours, ref = pk / max(a, 0.001), pk / max(b, 0.001)
        print(f"{name + '-vs-tcpdump-pkt/s-' + kind:30s} {ours:12.0f} {ref:12.0f} {ours / ref:8.2f} {'>=10':>6s}")
PY
