#!/usr/bin/env python3
"""Key file for `vnet pcap explain --keys` (docs/keys.md) from the log of the IKEv1
initiator's charon (filelog with ike = 4 and chd = 4) and the capture:

  charon-keys.py charon.log capture.pcap > capture.keys

IKEv1: the initiator cookie (first IKE packet of the capture) and "encryption key Ka".
ESP: the keys of each IPsec SA ("encryption initiator key"...), its algorithms from the
"selected proposal: ESP:..." line before them, its SPIs and addresses from "adding
inbound/outbound ESP SA": on the initiator the outbound SA uses the initiator's keys."""
import re, struct, sys

ENC = {"AES_CBC_128": "AES-CBC [RFC3602]", "AES_CBC_192": "AES-CBC [RFC3602]",
       "AES_CBC_256": "AES-CBC [RFC3602]", "3DES_CBC": "TripleDES-CBC [RFC2451]"}
AUTH = {"HMAC_SHA1_96": "HMAC-SHA-1-96 [RFC2404]", "HMAC_SHA2_256_128": "HMAC-SHA-256-128 [RFC4868]",
        "HMAC_SHA2_384_192": "HMAC-SHA-384-192 [RFC4868]", "HMAC_SHA2_512_256": "HMAC-SHA-512-256 [RFC4868]",
        "HMAC_MD5_96": "HMAC-MD5-96 [RFC2403]"}


def dumps(lines):
    """name -> bytes of every 'NAME => N bytes @ ADDR' hex dump, in order."""
    out, i = [], 0
    while i < len(lines):
        m = re.search(r"\] (.+?) => (\d+) bytes @", lines[i])
        i += 1
        if not m:
            continue
        n, b = int(m.group(2)), b""
        while len(b) < n and i < len(lines):
            h = re.match(r"^\d+\[\w+\]\s+\d+: ((?:[0-9A-F]{2} ?)+)", lines[i])
            if not h:
                break
            b += bytes.fromhex(h.group(1).replace(" ", "")[:32])
            i += 1
        out.append((m.group(1), b[:n], i))
    return out


def first_cookie(pcap):
    d = open(pcap, "rb").read()
    off = 24
    while off + 16 <= len(d):
        cap = struct.unpack("<I", d[off + 8:off + 12])[0]
        f = d[off + 16:off + 16 + cap]
        off += 16 + cap
        ip = f[14:]
        if len(ip) > 28 and ip[9] == 17:
            ihl = (ip[0] & 15) * 4
            if struct.unpack("!H", ip[ihl + 2:ihl + 4])[0] == 500:
                return ip[ihl + 8:ihl + 16].hex()
    sys.exit("no IKE packet on port 500")


def main():
    lines = open(sys.argv[1]).read().splitlines()
    ds = dumps(lines)
    ka = [b for n, b, _ in ds if n == "encryption key Ka"]
    print("# IKEv1 SA (initiator cookie, Ka)")
    print("-o 'uat:ikev1_decryption_table:%s,%s'" % (first_cookie(sys.argv[2]), ka[0].hex()))
    prop = None
    keys = {}
    for i, l in enumerate(lines):
        m = re.search(r"selected proposal: ESP:([A-Z0-9_]+)/([A-Z0-9_]+)", l)
        if m:
            prop = m.groups()
            keys = {}
        for n, b, end in ds:
            if end - 1 >= i and n.endswith(" key") and l.find(n + " =>") >= 0:
                keys[n] = b
        m = re.search(r"adding (in|out)bound ESP SA", l)
        if m and i + 1 < len(lines):
            s = re.search(r"SPI 0x([0-9a-f]+), src (\S+) dst (\S+)", lines[i + 1])
            who = "initiator" if m.group(1) == "out" else "responder"
            print("# %sbound SA of the initiator: %s keys" % (m.group(1), who))
            print("-o 'uat:esp_sa:\"IPv4\",\"%s\",\"%s\",\"0x%s\",\"%s\",\"0x%s\",\"%s\",\"0x%s\"'" % (
                s.group(2), s.group(3), s.group(1), ENC[prop[0]], keys["encryption %s key" % who].hex(),
                AUTH[prop[1]], keys["integrity %s key" % who].hex()))


main()
