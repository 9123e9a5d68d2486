#!/usr/bin/env python3
"""vlan_send.py IFACE DST_MAC VID SIZE...: send one 802.1Q-tagged frame of
each SIZE (whole frame length in bytes, tag included, 22..1518) out of IFACE
through an AF_PACKET socket.  Inner EtherType 0x88b5 (local experimental),
payload "tapbridge-vlan-test" then a byte counter.  Needs CAP_NET_RAW.
"""
import socket
import struct
import sys

ETH_P_8021Q = 0x8100
ETH_P_EXP1 = 0x88B5
TAG = b"tapbridge-vlan-test"


def mac_bytes(text):
    parts = text.split(":")
    if len(parts) != 6:
        raise ValueError("bad MAC address %r" % text)
    return bytes(int(x, 16) for x in parts)


def main():
    if len(sys.argv) < 5:
        sys.stderr.write(__doc__)
        return 2
    iface, dst, vid = sys.argv[1], mac_bytes(sys.argv[2]), int(sys.argv[3])
    sizes = [int(x) for x in sys.argv[4:]]
    if not 1 <= vid <= 4094:
        sys.stderr.write("vlan_send: VID must be 1..4094\n")
        return 2
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    src = s.getsockname()[4]
    hdr = dst + src + struct.pack("!HHH", ETH_P_8021Q, vid & 0x0FFF,
                                  ETH_P_EXP1)
    for n, size in enumerate(sizes):
        if not len(hdr) + len(TAG) <= size <= 1518:
            sys.stderr.write("vlan_send: bad size %d\n" % size)
            return 2
        body = TAG + bytes((n + i) & 0xFF for i in range(size - len(hdr)
                                                       - len(TAG)))
        sent = s.send(hdr + body)
        if sent != size:
            sys.stderr.write("vlan_send: short send %d/%d\n" % (sent, size))
            return 1
    print("sent %d tagged frames (vid %d)" % (len(sizes), vid))
    return 0


if __name__ == "__main__":
    sys.exit(main())
