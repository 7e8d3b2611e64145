#!/usr/bin/env python3
"""Key file for `vnet pcap explain --keys` (docs/keys.md) from the log of the IKE
initiator's charon (filelog with ike = 4 and chd = 4) and the capture:

  charon-keys.py charon.log capture.pcap > capture.keys

IKEv1: the initiator cookie (first IKE packet of the capture) and "encryption key Ka".
IKEv2: both SPIs (the first IKE answer of the capture), "Sk_ei secret"... and the
algorithms of "selected proposal: IKE:...".
ESP: the keys of each IPsec SA ("encryption initiator key"...), its algorithms from the
"selected proposal: ESP:..." line before them, its SPIs and addresses from "adding
inbound/outbound ESP SA": on the initiator the outbound SA uses the initiator's keys."""
import re, struct, sys

ENC = {"AES_CBC_128": "AES-CBC [RFC3602]", "AES_CBC_192": "AES-CBC [RFC3602]",
       "AES_CBC_256": "AES-CBC [RFC3602]", "3DES_CBC": "TripleDES-CBC [RFC2451]",
       "AES_GCM_16_128": "AES-GCM with 16 octet ICV [RFC4106]",
       "AES_GCM_16_256": "AES-GCM with 16 octet ICV [RFC4106]",
       "AES_GCM_12_128": "AES-GCM with 12 octet ICV [RFC4106]",
       "AES_GCM_8_128": "AES-GCM with 8 octet ICV [RFC4106]"}
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


def ike_headers(pcap):
    """The first 16 bytes (both SPIs) of each IKE message on port 500 or 4500."""
    d = open(pcap, "rb").read()
    off, out = 24, []
    while off + 16 <= len(d):
        cap = struct.unpack("<I", d[off + 8:off + 12])[0]
        f = d[off + 16:off + 16 + cap]
        off += 16 + cap
        ip = f[14:]
        if len(ip) > 28 and ip[9] == 17:
            ihl = (ip[0] & 15) * 4
            port = struct.unpack("!H", ip[ihl + 2:ihl + 4])[0]
            body = ip[ihl + 8:]
            if port == 4500 and body[:4] == b"\0\0\0\0":
                body = body[4:]
            elif port != 500:
                continue
            out.append(body[:16])
    if len(out) < 2:
        sys.exit("no IKE exchange in the capture")
    return out


def main():
    lines = open(sys.argv[1]).read().splitlines()
    ds = dumps(lines)
    hdr = ike_headers(sys.argv[2])
    ka = [b for n, b, _ in ds if n == "encryption key Ka"]
    sk = {n.split()[0]: b for n, b, _ in ds if n.startswith("Sk_") and n.endswith(" secret")}
    if ka:
        print("# IKEv1 SA (initiator cookie, Ka)")
        print("-o 'uat:ikev1_decryption_table:%s,%s'" % (hdr[0][:8].hex(), ka[0].hex()))
    elif sk:
        m = [re.search(r"selected proposal: IKE:([A-Z0-9_]+)/([A-Z0-9_]+)", l) for l in lines]
        enc, integ = [x for x in m if x][0].groups()
        print("# IKEv2 SA (SPIs, Sk_ei, Sk_er, Sk_ai, Sk_ar)")
        print("-o 'uat:ikev2_decryption_table:%s,%s,%s,%s,\"%s\",%s,%s,\"%s\"'" % (
            hdr[1][:8].hex(), hdr[1][8:16].hex(), sk["Sk_ei"].hex(), sk["Sk_er"].hex(),
            enc.replace("AES_CBC_", "AES-CBC-") + " [RFC3602]", sk["Sk_ai"].hex(), sk["Sk_ar"].hex(),
            AUTH[integ].split()[1:] and integ + " " + AUTH[integ].split()[1]))
    prop = None
    keys = {}
    for i, l in enumerate(lines):
        m = re.search(r"selected proposal: ESP:([A-Z0-9_]+)/([A-Z0-9_]+)", l)
        if m:
            prop = m.groups()
            if prop[1] == "NO_EXT_SEQ":  # AEAD: no integrity algorithm
                prop = (prop[0], None)
            keys = {}
        for n, b, end in ds:
            if end - 1 >= i and n.endswith(" key") and l.find(n + " =>") >= 0:
                keys[n] = b
        m = re.search(r"adding (in|out)bound ESP SA", l)
        if m and i + 1 < len(lines):
            s = re.search(r"SPI 0x([0-9a-f]+), src (\S+) dst (\S+)", lines[i + 1])
            who = "initiator" if m.group(1) == "out" else "responder"
            print("# %sbound SA of the initiator: %s keys" % (m.group(1), who))
            akey = keys.get("integrity %s key" % who, b"").hex()
            print("-o 'uat:esp_sa:\"IPv4\",\"%s\",\"%s\",\"0x%s\",\"%s\",\"0x%s\",\"%s\",\"%s\"'" % (
                s.group(2), s.group(3), s.group(1), ENC[prop[0]], keys["encryption %s key" % who].hex(),
                AUTH[prop[1]] if prop[1] else "NULL", "0x" + akey if akey else ""))


main()
