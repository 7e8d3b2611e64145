#!/usr/bin/env python3
"""Build the synthetic captures of the offline-input tests (see README.md).

  ikev2-lone.pcap        one IKEv2 IKE_SA_INIT request (frame 1 of ikev2-silent.pcap)
  ikev1-lone.pcap        one IKEv1 Main Mode message 1 (frame 1 of ikev1-badpsk.pcap)
  ikev2-ke-short.pcap    IKE_SA_INIT naming MODP-2048 with 192 bytes of KE data (256
                         needed), sent at 0, 1, 3 and 7 s; no answer
  ikev2-ke-invalid.pcap  the same request once, answered with INVALID_KE_PAYLOAD
                         (MODP-2048 wanted); the client gives up
  ikev1-ke-short.pcap    IKEv1 Main Mode: messages 1 and 2 agree on MODP-2048, message 3
                         carries 128 bytes of KE data and is sent three times; no answer
  mixed-links.pcapng     one pcapng section with three interfaces of different link
                         types: Ethernet (microseconds), raw IP (nanoseconds) and Linux
                         cooked (2^-20 s), packets of all three interleaved
  sections-be.pcapng     two sections, the second big-endian; a simple packet block, a
                         name resolution and a statistics block to skip

Everything is derived from fixed values and the captures next to this script, so running
it again gives the same bytes:

  tests/captures/make-offline-captures.py tests/captures tests/captures
"""
import hashlib, os, struct, sys


def read_pcap(path):
    d = open(path, "rb").read()
    assert struct.unpack("<I", d[:4])[0] == 0xA1B2C3D4
    link = struct.unpack("<I", d[20:24])[0]
    off, out = 24, []
    while off + 16 <= len(d):
        sec, usec, cap, orig = struct.unpack("<IIII", d[off:off + 16])
        out.append((sec * 1000000 + usec, d[off + 16:off + 16 + cap]))
        off += 16 + cap
    return link, out


def write_pcap(path, frames, link=1):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, link))
        for ts, b in frames:
            f.write(struct.pack("<IIII", ts // 1000000, ts % 1000000, len(b), len(b)) + b)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ident):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto, 0,
                    src, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


CLI, SRV = bytes([10, 88, 0, 2]), bytes([10, 88, 0, 1])
MAC_C, MAC_S = bytes.fromhex("020000000002"), bytes.fromhex("020000000001")


def eth_frame(src, dst, payload, ident, to_server=True):
    macs = MAC_S + MAC_C if to_server else MAC_C + MAC_S
    return macs + b"\x08\x00" + ipv4(src, dst, 17, payload, ident)


def fixed(label, n):
    out = b""
    while len(out) < n:
        out += hashlib.sha256((label + str(len(out))).encode()).digest()
    return out[:n]


# ---- IKE messages ------------------------------------------------------------------

def payloads(items):
    """items: [(type, body)]; returns (first type, bytes) with generic headers chained."""
    out = b""
    for i, (t, body) in enumerate(items):
        nxt = items[i + 1][0] if i + 1 < len(items) else 0
        out += struct.pack("!BBH", nxt, 0, 4 + len(body)) + body
    return (items[0][0] if items else 0), out


def ike_header(ispi, rspi, first, major, exch, flags, msgid, body):
    return ispi + rspi + struct.pack("!BBBBII", first, major << 4, exch, flags, msgid,
                                     28 + len(body)) + body


def v2_sa():
    xf = [(1, 12, struct.pack("!HH", 0x800E, 128)), (2, 2, b""), (3, 12, b""), (4, 14, b"")]
    body = b""
    for i, (t, tid, attrs) in enumerate(xf):
        body += struct.pack("!BBHBBH", 3 if i + 1 < len(xf) else 0, 0, 8 + len(attrs), t, 0,
                            tid) + attrs
    prop = struct.pack("!BBHBBBB", 0, 0, 8 + len(body), 1, 1, 0, len(xf)) + body
    return prop


def v2_init_request(ispi, ke_len):
    first, body = payloads([
        (33, v2_sa()),
        (34, struct.pack("!HH", 14, 0) + fixed("ke-" + str(ke_len), ke_len)),
        (40, fixed("ni", 32)),
    ])
    return ike_header(ispi, bytes(8), first, 2, 34, 0x08, 0, body)


def v2_invalid_ke(ispi, group):
    first, body = payloads([(41, struct.pack("!BBH", 0, 0, 17) + struct.pack("!H", group))])
    return ike_header(ispi, bytes(8), first, 2, 34, 0x20, 0, body)


def v1_sa(group):
    attrs = b"".join(struct.pack("!HH", 0x8000 | t, v) for t, v in
                     [(1, 7), (14, 128), (2, 2), (3, 1), (4, group), (11, 1), (12, 28800)])
    xf = struct.pack("!BBHBBH", 0, 0, 8 + len(attrs), 1, 1, 0) + attrs
    prop = struct.pack("!BBHBBBB", 0, 0, 8 + len(xf), 1, 1, 0, 1) + xf
    return struct.pack("!II", 1, 1) + prop


def v1_mm(ispi, rspi, items):
    first, body = payloads(items)
    return ike_header(ispi, rspi, first, 1, 2, 0, 0, body)


# ---- pcapng ------------------------------------------------------------------------

def ng_block(t, body, be=False):
    e = ">" if be else "<"
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack(e + "II", t, n) + body + struct.pack(e + "I", n)


def ng_shb(be=False):
    e = ">" if be else "<"
    return ng_block(0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1), be)


def ng_opt(code, val, be=False):
    e = ">" if be else "<"
    return struct.pack(e + "HH", code, len(val)) + val + b"\0" * (-len(val) % 4)


def ng_idb(link, tsresol=None, be=False):
    e = ">" if be else "<"
    opts = b""
    if tsresol is not None:
        opts = ng_opt(9, bytes([tsresol]), be) + ng_opt(0, b"", be)
    return ng_block(1, struct.pack(e + "HHI", link, 0, 262144) + opts, be)


def ng_epb(ifid, ts_units, data, be=False):
    e = ">" if be else "<"
    return ng_block(6, struct.pack(e + "IIIII", ifid, ts_units >> 32, ts_units & 0xFFFFFFFF,
                                   len(data), len(data)) + data, be)


def ng_spb(data, be=False):
    e = ">" if be else "<"
    return ng_block(3, struct.pack(e + "I", len(data)) + data, be)


def sll_header(pkt_type, proto=0x0800):
    return struct.pack("!HHH8sH", pkt_type, 1, 6, MAC_C + b"\0\0", proto)


def main(src, dst):
    _, silent = read_pcap(os.path.join(src, "ikev2-silent.pcap"))
    _, badpsk = read_pcap(os.path.join(src, "ikev1-badpsk.pcap"))
    raw_link, pap = read_pcap(os.path.join(src, "serve-pap.pcap"))
    assert raw_link == 101
    write_pcap(os.path.join(dst, "ikev2-lone.pcap"), silent[:1])
    write_pcap(os.path.join(dst, "ikev1-lone.pcap"), badpsk[:1])

    t0 = 1700000000 * 1000000
    ispi = fixed("ispi", 8)
    req = eth_frame(CLI, SRV, udp(500, 500, v2_init_request(ispi, 192)), 1)
    write_pcap(os.path.join(dst, "ikev2-ke-short.pcap"),
               [(t0 + s * 1000000, req) for s in (0, 1, 3, 7)])
    ans = eth_frame(SRV, CLI, udp(500, 500, v2_invalid_ke(ispi, 14)), 2, False)
    write_pcap(os.path.join(dst, "ikev2-ke-invalid.pcap"), [(t0, req), (t0 + 1500, ans)])

    ck, rk = fixed("icookie", 8), fixed("rcookie", 8)
    mm1 = v1_mm(ck, bytes(8), [(1, v1_sa(14))])
    mm2 = v1_mm(ck, rk, [(1, v1_sa(14))])
    mm3 = v1_mm(ck, rk, [(4, fixed("ke1", 128)), (10, fixed("ni1", 32))])
    frames = [(t0, eth_frame(CLI, SRV, udp(500, 500, mm1), 10)),
              (t0 + 900, eth_frame(SRV, CLI, udp(500, 500, mm2), 11, False)),
              (t0 + 5000, eth_frame(CLI, SRV, udp(500, 500, mm3), 12)),
              (t0 + 2005000, eth_frame(CLI, SRV, udp(500, 500, mm3), 13)),
              (t0 + 6005000, eth_frame(CLI, SRV, udp(500, 500, mm3), 14))]
    write_pcap(os.path.join(dst, "ikev1-ke-short.pcap"), frames)

    # mixed-links.pcapng: interleave the Ethernet IKE frames of ikev1-badpsk.pcap (ifid
    # 0, us), the raw-IP L2TP frames of serve-pap.pcap (ifid 1, ns) and the same IKE
    # frames as Linux cooked (ifid 2, 2^-20 s), all moved to start at t0
    base_e, base_r = badpsk[0][0], pap[0][0]
    events = []
    for i, (ts, b) in enumerate(badpsk[:6]):
        events.append((t0 + (ts - base_e) + 3 * i, 0, b))
    for i, (ts, b) in enumerate(pap[:6]):
        events.append((t0 + (ts - base_r) + 3 * i + 1, 1, b))
    for i, (ts, b) in enumerate(badpsk[:4]):
        outgoing = b[6:12] == MAC_C
        events.append((t0 + (ts - base_e) + 3 * i + 2, 2, sll_header(4 if outgoing else 0) + b[14:]))
    events.sort(key=lambda e: (e[0], e[1]))
    out = ng_shb() + ng_idb(1) + ng_idb(101, 9) + ng_idb(113, 0x80 | 20)
    for us, ifid, b in events:
        units = us if ifid == 0 else us * 1000 if ifid == 1 else (us << 20) // 1000000
        out += ng_epb(ifid, units, b)
    open(os.path.join(dst, "mixed-links.pcapng"), "wb").write(out)

    # sections-be.pcapng: a little-endian section with two Ethernet packets, then a
    # big-endian one with a raw-IP interface, name resolution and statistics blocks, an
    # enhanced and a simple packet block
    out = ng_shb() + ng_idb(1) + ng_epb(0, badpsk[0][0], badpsk[0][1]) + \
        ng_epb(0, badpsk[1][0], badpsk[1][1])
    out += ng_shb(True) + ng_idb(101, 6, True)
    out += ng_block(4, struct.pack(">HH", 1, 8) + CLI + b"cli\0" + struct.pack(">HH", 0, 0), True)
    out += ng_epb(0, pap[0][0], pap[0][1], True)
    out += ng_block(5, struct.pack(">III", 0, pap[0][0] >> 32, pap[0][0] & 0xFFFFFFFF), True)
    out += ng_spb(pap[1][1], True)
    open(os.path.join(dst, "sections-be.pcapng"), "wb").write(out)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
