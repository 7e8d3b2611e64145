#!/usr/bin/env python3
"""Build the ESP test captures from the clear lab captures (see README.md).

  l2tp-ipsec-natt.pcap: the IKEv1 Main Mode and Quick Mode of ikev1-tunnel.pcap (tunnel
      mode, UDP-encapsulated, AES-CBC-128 with HMAC-SHA1-96, SPIs d02f99e6 and b8cc8d36),
      then the L2TP/PPP session of l2tp-xl2tpd-ppp.pcap carried in those SAs as ESP in
      UDP 4500 (tunnel mode), then the Informational Deletes of ikev1-tunnel.pcap.
      Keys: l2tp-ipsec-natt.keys (Wireshark esp_sa lines as tshark options).
  l2tp-ipsec-transport.pcap: the same L2TP/PPP session in transport-mode ESP (IP
      protocol 50), AES-GCM-16 from the client and AES-CBC-256 with HMAC-SHA2-512-256
      from the server. Keys: l2tp-ipsec-transport.keys (`ip xfrm state` form).

The keys are fixed values (derived from their labels), the IVs from the sequence numbers:
running the script again gives the same bytes. Needs python3-cryptography.

  tests/captures/make-esp-captures.py ../shared/corpus/lab tests/captures
"""
import hashlib, os, struct, sys
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def key(label, n):
    return hashlib.sha512(label.encode()).digest()[:n]


def read_pcap(path):
    d = open(path, "rb").read()
    assert struct.unpack("<I", d[:4])[0] == 0xA1B2C3D4 and struct.unpack("<I", d[20:24])[0] == 1
    off, out = 24, []
    while off + 16 <= len(d):
        sec, usec, cap, orig = struct.unpack("<IIII", d[off:off + 16])
        out.append((sec * 1000000 + usec, d[off + 16:off + 16 + cap]))
        off += 16 + cap
    return out


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
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


class SA:
    def __init__(self, spi, enc, ekey, auth=None, akey=b""):
        self.spi, self.enc, self.ekey, self.auth, self.akey, self.seq = spi, enc, ekey, auth, akey, 0

    def seal(self, payload, nh):
        self.seq += 1
        hdr = struct.pack("!II", self.spi, self.seq)
        block = 16 if self.enc == "aes-cbc" else 4
        pad = (-(len(payload) + 2)) % block
        pt = payload + bytes(range(1, pad + 1)) + bytes([pad, nh])
        if self.enc == "aes-gcm":
            iv = struct.pack("!Q", self.seq * 0x9E3779B97F4A7C15 & (2**64 - 1))
            ct = AESGCM(self.ekey[:-4]).encrypt(self.ekey[-4:] + iv, pt, hdr)
            return hdr + iv + ct
        iv = hashlib.sha256(hdr + self.ekey).digest()[:16]
        e = Cipher(algorithms.AES(self.ekey), modes.CBC(iv)).encryptor()
        body = hdr + iv + e.update(pt) + e.finalize()
        h = hmac.HMAC(self.akey, {"sha1": hashes.SHA1(), "sha512": hashes.SHA512()}[self.auth])
        h.update(body)
        return body + h.finalize()[: {"sha1": 12, "sha512": 32}[self.auth]]


def split_eth(frame):
    eth, ip = frame[:14], frame[14:]
    ihl = (ip[0] & 15) * 4
    tot = struct.unpack("!H", ip[2:4])[0]
    return eth, ip[:tot], ip[12:16], ip[16:20], ihl


def main():
    lab, out = sys.argv[1], sys.argv[2]
    ike = read_pcap(os.path.join(lab, "ikev1-tunnel.pcap"))
    l2tp = read_pcap(os.path.join(lab, "l2tp-xl2tpd-ppp.pcap"))
    client = bytes([10, 77, 0, 2])

    # --- tunnel mode in UDP 4500 behind the real IKEv1 exchange
    c2s = SA(0xD02F99E6, "aes-cbc", key("natt c2s enc", 16), "sha1", key("natt c2s auth", 20))
    s2c = SA(0xB8CC8D36, "aes-cbc", key("natt s2c enc", 16), "sha1", key("natt s2c auth", 20))
    frames = [f for f in ike[:9]]
    t0 = ike[8][0] + 200000
    l0 = l2tp[0][0]
    ident = 0x4000
    for ts, fr in l2tp:
        eth, ip, src, dst, _ = split_eth(fr)
        sa = c2s if src == client else s2c
        esp = sa.seal(ip, 4)
        udp = struct.pack("!HHHH", 4500, 4500, 8 + len(esp), 0) + esp
        ident += 1
        frames.append((t0 + ts - l0, eth + ipv4(src, dst, 17, udp, ident)))
    tend = frames[-1][0] + 1000000
    d0 = ike[12][0]
    for ts, fr in ike[12:14]:
        frames.append((tend + ts - d0, fr))
    write_pcap(os.path.join(out, "l2tp-ipsec-natt.pcap"), frames)
    with open(os.path.join(out, "l2tp-ipsec-natt.keys"), "w") as f:
        f.write("# ESP SAs of l2tp-ipsec-natt.pcap (Wireshark esp_sa table, tshark options)\n")
        for sa, a, b in ((c2s, "10.77.0.2", "10.77.0.1"), (s2c, "10.77.0.1", "10.77.0.2")):
            f.write("-o 'uat:esp_sa:\"IPv4\",\"%s\",\"%s\",\"0x%08x\",\"AES-CBC [RFC3602]\","
                    "\"0x%s\",\"HMAC-SHA-1-96 [RFC2404]\",\"0x%s\"'\n"
                    % (a, b, sa.spi, sa.ekey.hex(), sa.akey.hex()))
        f.write("# the IKEv1 SA, as charon logged it (ikev1-tunnel.tshark-keys.txt)\n")
        f.write(open(os.path.join(lab, "ikev1-tunnel.tshark-keys.txt")).read())

    # --- transport mode, IP protocol 50, no IKE in the capture
    c2s = SA(0xC0A80001, "aes-gcm", key("transport c2s enc", 20))
    s2c = SA(0xC0A80002, "aes-cbc", key("transport s2c enc", 32), "sha512",
             key("transport s2c auth", 64))
    frames = []
    for ts, fr in l2tp:
        eth, ip, src, dst, ihl = split_eth(fr)
        sa = c2s if src == client else s2c
        esp = sa.seal(ip[ihl:], ip[9])
        ident += 1
        frames.append((ts, eth + ipv4(src, dst, 50, esp, ident)))
    write_pcap(os.path.join(out, "l2tp-ipsec-transport.pcap"), frames)
    with open(os.path.join(out, "l2tp-ipsec-transport.keys"), "w") as f:
        f.write("# ESP SAs of l2tp-ipsec-transport.pcap as `ip xfrm state` lists them\n")
        f.write("src 10.77.0.2 dst 10.77.0.1\n"
                "\tproto esp spi 0x%08x reqid 1 mode transport\n"
                "\treplay-window 0 flag af-unspec\n"
                "\taead rfc4106(gcm(aes)) 0x%s 128\n"
                "\tsel src 10.77.0.2/32 dst 10.77.0.1/32 proto udp sport 1701 dport 1701\n"
                % (c2s.spi, c2s.ekey.hex()))
        f.write("src 10.77.0.1 dst 10.77.0.2\n"
                "\tproto esp spi 0x%08x reqid 1 mode transport\n"
                "\treplay-window 0 flag af-unspec\n"
                "\tauth-trunc hmac(sha512) 0x%s 256\n"
                "\tenc cbc(aes) 0x%s\n"
                "\tsel src 10.77.0.1/32 dst 10.77.0.2/32 proto udp sport 1701 dport 1701\n"
                % (s2c.spi, s2c.akey.hex(), s2c.ekey.hex()))


if __name__ == "__main__":
    main()
