#!/usr/bin/env python3
"""inject.py PCAP HOST PORT: play the attacker on the WAN.

Reads tapbridge data datagrams (type 4, longer than 64 bytes) sent to PORT
from PCAP (classic pcap, Ethernet, as written by tcpdump -w), then sends to
HOST:PORT, from an ordinary UDP socket:

  short      type-4 datagrams cut below the 13-byte data header
  nosession  well-formed data headers with receiver indexes no session has
  handshake  initiations of the right length with random contents
  garbage    random bytes of random length and unknown message type
  flip       each captured datagram with one bit of its counter flipped
  replay     each captured datagram verbatim

and prints one "class=count" line per class.  Exit 1 if the capture holds
no data datagram.  The wire layout comes from include/tapbridge/wire.h.
"""
import os
import random
import socket
import struct
import sys
import time

MSG_INITIATION = 1
MSG_DATA = 4
DATA_HDR_LEN = 13
RECEIVER_OFF = 1
COUNTER_OFF = 5
DATA_OVERHEAD = DATA_HDR_LEN + 16     # and the secretbox MAC
INIT_LEN = 148
MAC2_LEN = 16
INIT_MAC1_OFF = INIT_LEN - MAC2_LEN - 16


def pcap_udp_payloads(path, port):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return []
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        end = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        end = ">"
    else:
        raise ValueError("%s: not a classic pcap file" % path)
    linktype = struct.unpack(end + "I", data[20:24])[0]
    if linktype != 1:
        raise ValueError("%s: link type %d, want Ethernet" % (path, linktype))
    out = []
    off = 24
    while off + 16 <= len(data):
        incl, orig = struct.unpack(end + "II", data[off + 8:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if incl != orig or len(frame) < 14:
            continue
        payload = udp_payload(frame, port)
        if payload is not None:
            out.append(payload)
    return out


def udp_payload(frame, port):
    etype = struct.unpack("!H", frame[12:14])[0]
    ip = frame[14:]
    if etype == 0x0800 and len(ip) >= 20 and ip[9] == 17:
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        udp = ip[ihl:total]
    elif etype == 0x86DD and len(ip) >= 40 and ip[6] == 17:
        plen = struct.unpack("!H", ip[4:6])[0]
        udp = ip[40:40 + plen]
    else:
        return None
    if len(udp) < 8 or struct.unpack("!H", udp[2:4])[0] != port:
        return None
    return bytes(udp[8:])


def flip_bit(pkt):
    """Flip one bit among bits 16..55 of the counter: the datagram then
    claims a counter the receiver has not seen yet, so it passes the replay
    window and must fail the MAC (the nonce is the counter).  A flip inside
    the box would leave an already-seen counter, which a receiver may
    rightly reject as a replay before it spends a MAC check."""
    b = bytearray(pkt)
    b[COUNTER_OFF + random.randrange(2, 7)] ^= 1 << random.randrange(8)
    return bytes(b)


def main():
    if len(sys.argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    path, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    caught = [p for p in pcap_udp_payloads(path, port)
              if len(p) > 64 and p[0] == MSG_DATA]
    if not caught:
        sys.stderr.write("inject: no data datagrams in %s\n" % path)
        return 1
    known = {p[RECEIVER_OFF:RECEIVER_OFF + 4] for p in caught}
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    dst = (host, port)
    sent = {}

    def send(cls, pkt):
        s.sendto(pkt, dst)
        sent[cls] = sent.get(cls, 0) + 1
        time.sleep(0.002)

    for n in range(1, DATA_HDR_LEN):
        send("short", (bytes([MSG_DATA]) + os.urandom(DATA_HDR_LEN))[:n])
    for _ in range(20):
        idx = os.urandom(4)
        while idx in known:
            idx = os.urandom(4)
        send("nosession", bytes([MSG_DATA]) + idx +
             os.urandom(8 + 16 + random.randrange(16, 200)))
    for _ in range(5):
        send("handshake", bytes([MSG_INITIATION, 0, 0, 0]) +
             os.urandom(INIT_LEN - 4))
    for _ in range(20):
        pkt = bytes([random.choice((0, 3, 5, 7, 0x42, 0xFF))]) + \
            os.urandom(random.randrange(0, 300))
        send("garbage", pkt)
    for p in caught:
        send("flip", flip_bit(p))
    for p in caught:
        send("replay", p)
    for cls in ("short", "nosession", "handshake", "garbage", "flip",
                "replay"):
        print("%s=%d" % (cls, sent.get(cls, 0)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
