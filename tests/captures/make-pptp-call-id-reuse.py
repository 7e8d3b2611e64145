#!/usr/bin/env python3
"""pptp-call-id-reuse.pcap from serve-pptp-two-calls.pcap: one client runs control
connections to two servers and picks the same call ID (44782) on both. The first
connection (to 192.0.2.1) sets up its call, then the second one (to 192.0.2.9, client
port 46405) does, then the first carries its PPP link and ends. The GRE the first server
sends names call ID 44782 on the client, which the client also assigned on the second
connection: a tracker that keys GRE by the receiver and the call ID alone joins them.
Raw IP frames (link type 101); checksums recomputed after the rewrite."""
import struct, sys, os

here = os.path.dirname(os.path.abspath(__file__))
src = open(os.path.join(here, "serve-pptp-two-calls.pcap"), "rb").read()
hdr, off, frames = src[:24], 24, []
while off < len(src):
    ts, us, incl, orig = struct.unpack("<IIII", src[off:off + 16])
    frames.append([ts, us, bytearray(src[off + 16:off + 16 + incl])])
    off += 16 + incl

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def fix(ip):
    ihl = (ip[0] & 15) * 4
    ip[10:12] = b"\0\0"
    ip[10:12] = struct.pack("!H", csum(bytes(ip[:ihl])))
    if ip[9] == 6:
        seg = ip[ihl:]
        seg[16:18] = b"\0\0"
        pseudo = bytes(ip[12:20]) + struct.pack("!BBH", 0, 6, len(seg))
        seg[16:18] = struct.pack("!H", csum(pseudo + bytes(seg)))
        ip[ihl:] = seg
    return ip

SRV1, SRV2 = bytes([192, 0, 2, 1]), bytes([192, 0, 2, 9])

def other(ip):
    ip = bytearray(ip)
    ihl = (ip[0] & 15) * 4
    for a in (12, 16):
        if ip[a:a + 4] == SRV1:
            ip[a:a + 4] = SRV2
    if ip[9] == 6:
        for p in (ihl, ihl + 2):
            if struct.unpack("!H", ip[p:p + 2])[0] == 46404:
                ip[p:p + 2] = struct.pack("!H", 46405)
    return fix(ip)

# first connection up to its OCRP (frames 1-7), the second connection's set-up and call
# (frames 1-7 again, rewritten) with its first LCP packets (8-11), then the rest of the
# first connection without the refused call (frames 8-37, 40-44)
out = frames[:7]

for f in frames[:11]:
    out.append([f[0] + 2, f[1], other(f[2])])
for i, f in enumerate(frames[7:], start=8):
    if i in (38, 39):
        continue
    out.append([f[0] + 3, f[1], f[2]])
w = bytearray(hdr)
for ts, us, d in out:
    w += struct.pack("<IIII", ts, us, len(d), len(d)) + d
sys.stdout.buffer.write(w)
