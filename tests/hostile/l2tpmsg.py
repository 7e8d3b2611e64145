# L2TPv2 messages for the tests/hostile scripts (imported by their Python parts, not run):
# building control and data messages, reading the server's answers, and the datagrams of
# a raw-IP capture as `vnet serve --capture` writes it. RFC 2661 sections 3 and 4.
import random
import socket
import struct

SCCRQ, SCCRP, SCCCN, STOPCCN, HELLO = 1, 2, 3, 4, 6
ICRQ, ICRP, ICCN, CDN = 10, 11, 12, 14
AVP_MSG_TYPE, AVP_RESULT, AVP_PROTO_VERSION, AVP_FRAMING_CAP = 0, 1, 2, 3
AVP_HOST_NAME, AVP_ASSIGNED_TID, AVP_RECV_WINDOW = 7, 9, 10
AVP_ASSIGNED_SID, AVP_CALL_SERIAL, AVP_TX_SPEED, AVP_FRAMING_TYPE = 14, 15, 24, 19


def avp(typ, value, mandatory=True, vendor=0):
    """One AVP: M bit, length, vendor, type, value."""
    flags = 0x8000 if mandatory else 0
    return struct.pack("!HHH", flags | (6 + len(value)), vendor, typ) + value


def u16(v):
    return struct.pack("!H", v)


def u32(v):
    return struct.pack("!I", v)


def ctrl(tid, sid, ns, nr, msg_type, avps=b""):
    """A control message (T, L and S set), Message Type AVP first."""
    body = (avp(AVP_MSG_TYPE, u16(msg_type)) if msg_type is not None else b"") + avps
    return struct.pack("!HHHHHH", 0xC802, 12 + len(body), tid, sid, ns, nr) + body


def zlb(tid, ns, nr):
    return struct.pack("!HHHHHH", 0xC802, 12, tid, 0, ns, nr)


def data(tid, sid, ppp):
    """A data message without length or sequence fields."""
    return struct.pack("!HHH", 0x0002, tid, sid) + ppp


def sccrq(ptid, host=b"hostile", extra=b""):
    return ctrl(0, 0, 0, 0, SCCRQ,
                avp(AVP_PROTO_VERSION, u16(0x0100)) + avp(AVP_HOST_NAME, host)
                + avp(AVP_FRAMING_CAP, u32(3)) + avp(AVP_ASSIGNED_TID, u16(ptid))
                + avp(AVP_RECV_WINDOW, u16(4)) + extra)


def poisoned_sccrq(ptid):
    """An SCCRQ with a mandatory AVP no implementation knows (vendor 0, type 250)."""
    return sccrq(ptid, extra=avp(250, b"\x01\x02", mandatory=True))


def stopccn(tid, ns, nr, my_tid):
    return ctrl(tid, 0, ns, nr, STOPCCN, avp(AVP_ASSIGNED_TID, u16(my_tid)) + avp(AVP_RESULT, u16(1)))


def parse(buf):
    """The header fields and AVPs (type -> value, vendor 0, unhidden) of a message, or None."""
    if len(buf) < 6:
        return None
    flags = struct.unpack("!H", buf[:2])[0]
    off = 2
    length = None
    if flags & 0x4000:
        length = struct.unpack("!H", buf[off:off + 2])[0]
        off += 2
    tid, sid = struct.unpack("!HH", buf[off:off + 4])
    off += 4
    m = {"ctrl": bool(flags & 0x8000), "tid": tid, "sid": sid, "avps": {}, "type": None}
    if flags & 0x0800:
        m["ns"], m["nr"] = struct.unpack("!HH", buf[off:off + 4])
        off += 4
    if not m["ctrl"]:
        m["payload"] = buf[off:]
        return m
    end = min(len(buf), length or len(buf))
    while off + 6 <= end:
        fl, vendor, typ = struct.unpack("!HHH", buf[off:off + 6])
        alen = fl & 0x3FF
        if alen < 6 or off + alen > end:
            break
        if vendor == 0 and not fl & 0x4000:
            m["avps"].setdefault(typ, buf[off + 6:off + alen])
        off += alen
    mt = m["avps"].get(AVP_MSG_TYPE)
    m["type"] = struct.unpack("!H", mt)[0] if mt and len(mt) == 2 else 0
    return m


def avp_u16(m, typ):
    v = m["avps"].get(typ) if m else None
    return struct.unpack("!H", v)[0] if v and len(v) == 2 else None


def recv_all(sock, wait=0.0):
    """Every datagram waiting on sock (after waiting up to `wait` seconds for the first)."""
    out = []
    sock.settimeout(wait if wait > 0 else 0.0001)
    try:
        while True:
            out.append(sock.recvfrom(4096)[0])
            sock.settimeout(0.0001)
    except (BlockingIOError, socket.timeout, ConnectionRefusedError):
        pass
    return out


def pcap_udp(path):
    """(from_server, payload) of every UDP datagram in a raw-IP (linktype 101) pcap."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 24:
        return []
    magic = struct.unpack("<I", raw[:4])[0]
    e = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    out, off = [], 24
    while off + 16 <= len(raw):
        _, _, incl, _ = struct.unpack(e + "IIII", raw[off:off + 16])
        pkt = raw[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(pkt) >= 28 and pkt[0] >> 4 == 4 and pkt[9] == 17:
            ihl = (pkt[0] & 15) * 4
            sport = struct.unpack("!H", pkt[ihl:ihl + 2])[0]
            out.append((sport, pkt[ihl + 8:]))
        elif len(pkt) >= 48 and pkt[0] >> 4 == 6 and pkt[6] == 17:
            sport = struct.unpack("!H", pkt[40:42])[0]
            out.append((sport, pkt[48:]))
    return out


class Flood:
    """Sockets on many loopback addresses and ports that send SCCRQs nobody completes."""

    def __init__(self, server, first=10, sources=8, ports=8):
        self.server = server
        self.socks = []
        for a in range(first, first + sources):
            for _ in range(ports):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind((f"127.0.0.{a}", 0))
                s.setblocking(False)
                self.socks.append(s)
        self.sent = 0

    def send(self, n):
        for _ in range(n):
            s = self.socks[self.sent % len(self.socks)]
            try:
                s.sendto(sccrq(random.randint(1, 65535)), self.server)
            except OSError:
                pass
            self.sent += 1

    def drain(self):
        for s in self.socks:
            recv_all(s)

    def close(self):
        for s in self.socks:
            s.close()
