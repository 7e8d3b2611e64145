#!/usr/bin/python3
"""A scripted PPP speaker that takes pppd's place under xl2tpd (bind-mounted over
/usr/sbin/pppd in the recording's mount namespace: this kernel has no /dev/ppp).

xl2tpd hands it the call's pty as stdin/stdout and carries what it writes, in async HDLC
framing, as L2TP data messages. FAKEPPP_ROLE=server (the LNS) asks for CHAP-MD5, sends
the challenge, naks the client's address 0.0.0.0 with 10.201.0.10 and answers echoes;
FAKEPPP_ROLE=client (the LAC) answers the challenge as labuser, takes the address, sends
an LCP echo and then terminates the link. Every wait is bounded; it exits after 20 s at
the latest."""
import hashlib, os, select, struct, sys, time, tty

ROLE = os.environ.get("FAKEPPP_ROLE", "client")
SECRET = b"lab-secret"
LCP, CHAP, IPCP = 0xC021, 0xC223, 0x8021
log = open("/tmp/esprec/fakeppp-%s.log" % ROLE, "a")


def fcs16(b):
    f = 0xFFFF
    for c in b:
        f ^= c
        for _ in range(8):
            f = (f >> 1) ^ 0x8408 if f & 1 else f >> 1
    return f ^ 0xFFFF


def send(proto, payload):
    body = b"\xff\x03" + struct.pack("!H", proto) + payload
    body += struct.pack("<H", fcs16(body))
    out = bytearray(b"\x7e")
    for c in body:
        if c < 0x20 or c in (0x7D, 0x7E):
            out += bytes([0x7D, c ^ 0x20])
        else:
            out.append(c)
    out.append(0x7E)
    os.write(1, bytes(out))
    log.write("sent %04x %s\n" % (proto, payload.hex()))
    log.flush()


def cp(proto, code, ident, data=b""):
    send(proto, struct.pack("!BBH", code, ident, 4 + len(data)) + data)


buf = bytearray()


def frames(timeout):
    """Decoded PPP frames (protocol, payload) read within `timeout` seconds."""
    global buf
    end = time.time() + timeout
    got = []
    while time.time() < end and not got:
        r, _, _ = select.select([0], [], [], max(0.0, end - time.time()))
        if not r:
            break
        data = os.read(0, 4096)
        if not data:
            sys.exit(0)
        buf += data
        while True:
            s = buf.find(b"\x7e")
            e = buf.find(b"\x7e", s + 1) if s >= 0 else -1
            if e < 0:
                break
            raw, buf = bytes(buf[s + 1:e]), buf[e:]
            f, esc = bytearray(), False
            for c in raw:
                if c == 0x7D:
                    esc = True
                    continue
                f.append(c ^ 0x20 if esc else c)
                esc = False
            if len(f) < 6 or fcs16(bytes(f[:-2])) != struct.unpack("<H", f[-2:])[0]:
                continue
            f = bytes(f[:-2])
            if f[:2] == b"\xff\x03":
                f = f[2:]
            got.append((struct.unpack("!H", f[:2])[0], f[2:]))
            log.write("got %04x %s\n" % (got[-1][0], got[-1][1].hex()))
            log.flush()
    return got


def main():
    if os.isatty(0):
        tty.setraw(0)  # as pppd does: no echo, no line discipline on the pty
    deadline = time.time() + 20
    magic = b"\x12\x34\x56\x78" if ROLE == "server" else b"\x0a\x0b\x0c\x0d"
    opts = b"\x05\x06" + magic
    if ROLE == "server":
        opts = b"\x03\x05\xc2\x23\x05" + opts
    cp(LCP, 1, 1, opts)
    lcp_acked = lcp_sent_ack = False
    lcp_tries = 0
    auth_ok = False
    ipcp_started = False
    challenge = os.urandom(16)
    addr = b"\x00\x00\x00\x00"
    echo_sent = term_sent = False
    ipcp_done = [False, False]  # our request acked, theirs acked
    while time.time() < deadline:
        for proto, p in frames(1.0):
            if len(p) < 4:
                continue
            code, ident = p[0], p[1]
            data = p[4:struct.unpack("!H", p[2:4])[0]]
            if proto == LCP:
                if code == 1:
                    cp(LCP, 2, ident, data)
                    lcp_sent_ack = True
                elif code == 2:
                    lcp_acked = True
                elif code == 5:
                    cp(LCP, 6, ident)
                    time.sleep(0.5)
                    return
                elif code == 6:
                    return
                elif code == 9:
                    cp(LCP, 10, ident, magic + data[4:])
            elif proto == CHAP:
                if ROLE == "client" and code == 1:
                    vl = data[0]
                    resp = hashlib.md5(bytes([ident]) + SECRET + data[1:1 + vl]).digest()
                    cp(CHAP, 2, ident, bytes([16]) + resp + b"labuser")
                elif ROLE == "server" and code == 2:
                    ok = data[1:17] == hashlib.md5(bytes([1]) + SECRET + challenge).digest()
                    cp(CHAP, 3 if ok else 4, ident, b"Access granted" if ok else b"Access denied")
                    auth_ok = ok
                elif ROLE == "client" and code == 3:
                    auth_ok = True
            elif proto == IPCP:
                if code == 1:
                    want = data[2:6] if data[:2] == b"\x03\x06" else b""
                    if ROLE == "server" and want == b"\x00\x00\x00\x00":
                        cp(IPCP, 3, ident, b"\x03\x06" + bytes([10, 201, 0, 10]))
                    else:
                        cp(IPCP, 2, ident, data)
                        ipcp_done[1] = True
                elif code == 3 and data[:2] == b"\x03\x06":
                    addr = data[2:6]
                    cp(IPCP, 1, 2, b"\x03\x06" + addr)
                elif code == 2:
                    ipcp_done[0] = True
        if not lcp_acked and lcp_tries < 10:  # as pppd: Configure-Request again
            lcp_tries += 1
            cp(LCP, 1, 1 + lcp_tries, opts)
        lcp_open = lcp_acked and lcp_sent_ack
        if ROLE == "server" and lcp_open and not auth_ok and not hasattr(main, "chal"):
            main.chal = True
            cp(CHAP, 1, 1, bytes([16]) + challenge + b"vnet-srv")
        if lcp_open and auth_ok and not ipcp_started:
            ipcp_started = True
            my = bytes([10, 201, 0, 1]) if ROLE == "server" else addr
            cp(IPCP, 1, 1, b"\x03\x06" + my)
        if ROLE == "client" and all(ipcp_done) and not echo_sent:
            echo_sent = True
            cp(LCP, 9, 7, magic)
            time.sleep(1.0)
        elif ROLE == "client" and echo_sent and not term_sent:
            term_sent = True
            time.sleep(1.0)
            cp(LCP, 5, 8, b"done")


main()
