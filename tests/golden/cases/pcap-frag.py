#!/usr/bin/env python3
# Writes pcap-frag.pcap: frame 1 of ../../../../shared/corpus/lab/ikev2-psk.pcap (an
# IKE_SA_INIT request) cut into IPv4 fragments (out of order, one duplicate), one
# datagram that never completes, and the same message in two IPv6 fragments.
# Usage: pcap-frag.py OUT.pcap
import os, struct, sys

def frames(path):
    d=open(path,'rb').read()
    off=24; out=[]
    while off+16<=len(d):
        ts,tu,cl,ol=struct.unpack('<IIII',d[off:off+16]); off+=16
        out.append(d[off:off+cl]); off+=cl
    return out
here = os.path.dirname(os.path.abspath(__file__))
f1 = frames(os.path.join(here, '../../../../shared/corpus/lab/ikev2-psk.pcap'))[0]
eth = f1[:14]; ip = f1[14:34]; l4 = f1[34:]          # UDP header + IKE, 472 bytes
assert len(l4) == 472
def csum(h):
    s = sum(struct.unpack('!10H', h))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
def v4frag(ident, off, mf, data):
    h = bytearray(ip)
    struct.pack_into('!H', h, 2, 20 + len(data))
    struct.pack_into('!H', h, 4, ident)
    struct.pack_into('!H', h, 6, (0x2000 if mf else 0) | (off // 8))
    struct.pack_into('!H', h, 10, 0)
    struct.pack_into('!H', h, 10, csum(bytes(h)))
    return eth + bytes(h) + data
src6 = bytes.fromhex('20010db8000000000000000000000002')
dst6 = bytes.fromhex('20010db8000000000000000000000001')
def v6frag(ident, off, mf, data):
    fh = struct.pack('!BBHI', 17, 0, off | (1 if mf else 0), ident)
    h = struct.pack('!IHBB', 0x60000000, len(fh) + len(data), 44, 64) + src6 + dst6
    return eth[:12] + b'\x86\xdd' + h + fh + data
pkts = [
    v4frag(0x1234, 200, True, l4[200:400]),   # middle first
    v4frag(0x1234, 0, True, l4[0:200]),
    v4frag(0x1234, 0, True, l4[0:200]),       # duplicate
    v4frag(0x1234, 400, False, l4[400:]),     # completes: reassembled IKE_SA_INIT
    v4frag(0x7777, 0, True, l4[0:200]),       # never completes
    v6frag(0xabcdef01, 0, True, l4[0:256]),
    v6frag(0xabcdef01, 256, False, l4[256:]), # completes over IPv6
]
out = bytearray(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
t = 1700000000
for i, p in enumerate(pkts):
    out += struct.pack('<IIII', t, 1000 * i, len(p), len(p)) + p
open(sys.argv[1], 'wb').write(out)
