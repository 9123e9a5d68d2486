#!/usr/bin/env python3
"""replay.py PCAP PORT TARGET [RAW_SOURCE]: replay captured tapbridge
datagrams verbatim.

Reads every UDP datagram to TARGET:PORT from PCAP (classic pcap, Ethernet,
as written by tcpdump -w; IPv4 only) and sends each again, in capture
order, to TARGET:PORT, 2 ms apart.  Without RAW_SOURCE it sends from an
ordinary UDP socket (an attacker elsewhere on the WAN); with RAW_SOURCE
(an address of this namespace, e.g. the real peer's) it sends through a
raw socket from RAW_SOURCE:PORT, so the replay carries exactly the source
address and port of the original.

Prints one "class=count" line per message class: data (type 4, keepalives
included), initiation (1), response (2), other.  Exit 1 if the capture
holds no datagram for TARGET.
"""
import socket
import struct
import sys
import time

CLASSES = {1: "initiation", 2: "response", 4: "data"}


def pcap_frames(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        end = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        end = ">"
    else:
        raise ValueError("%s: not a classic pcap file" % path)
    if struct.unpack(end + "I", data[20:24])[0] != 1:
        raise ValueError("%s: not Ethernet" % path)
    off = 24
    while off + 16 <= len(data):
        incl, orig = struct.unpack(end + "II", data[off + 8:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if incl == orig:
            yield frame


def datagrams_to(path, target, port):
    """(payload) of every IPv4 UDP datagram to target:port."""
    want = socket.inet_aton(target)
    for frame in pcap_frames(path):
        if len(frame) < 34 or frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        if ip[9] != 17 or ip[16:20] != want:
            continue
        if struct.unpack("!H", ip[6:8])[0] & 0x3FFF:
            continue  # an IP fragment: tapbridge never sends those
        total = struct.unpack("!H", ip[2:4])[0]
        udp = ip[ihl:total]
        if len(udp) < 8 or struct.unpack("!H", udp[2:4])[0] != port:
            continue
        yield bytes(udp[8:struct.unpack("!H", udp[4:6])[0]])


def main():
    if len(sys.argv) not in (4, 5):
        sys.stderr.write(__doc__)
        return 2
    path, port, target = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    raw_src = sys.argv[4] if len(sys.argv) == 5 else None
    caught = list(datagrams_to(path, target, port))
    if not caught:
        sys.stderr.write("replay: no datagram to %s:%d in %s\n" %
                         (target, port, path))
        return 1
    if raw_src:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW,
                          socket.IPPROTO_UDP)
        s.bind((raw_src, 0))
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = {}
    for p in caught:
        if raw_src:
            # UDP checksum 0: none, which IPv4 allows.
            pkt = struct.pack("!HHHH", port, port, 8 + len(p), 0) + p
            s.sendto(pkt, (target, 0))
        else:
            s.sendto(p, (target, port))
        cls = CLASSES.get(p[0], "other") if p else "other"
        sent[cls] = sent.get(cls, 0) + 1
        time.sleep(0.002)
    for cls in ("data", "initiation", "response", "other"):
        print("%s=%d" % (cls, sent.get(cls, 0)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
