#!/usr/bin/env python3
"""forge.py PCAP TARGET PORT SOURCE COPIES: forge data datagrams under a
real receiver index.

Takes every data datagram (type 4) to TARGET:PORT in PCAP (see replay.py)
and sends COPIES forgeries of each from SOURCE:PORT (an address of this
namespace) to TARGET:PORT: the captured type and receiver index, a counter
far beyond any the session has used (so the replay window lets it through
to the MAC check), and random bytes as the box, i.e. sealed under no key
the receiver holds.  Prints "forged=N".
"""
import os
import socket
import sys

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from inject import COUNTER_OFF, DATA_HDR_LEN, DATA_OVERHEAD, MSG_DATA  # noqa: E402,E501
from replay import datagrams_to  # noqa: E402


def main():
    if len(sys.argv) != 6:
        sys.stderr.write(__doc__)
        return 2
    pcap, target, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    source, copies = sys.argv[4], int(sys.argv[5])
    caught = [p for p in datagrams_to(pcap, target, port)
              if len(p) > DATA_OVERHEAD and p[0] == MSG_DATA]
    if not caught:
        sys.stderr.write("forge: no data datagram to %s in %s\n" %
                         (target, pcap))
        return 1
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((source, port))
    n = 0
    for p in caught:
        for _ in range(copies):
            counter = (1 << 40) + n
            fake = p[:COUNTER_OFF] + counter.to_bytes(8, "little") + \
                os.urandom(len(p) - DATA_HDR_LEN)
            s.sendto(fake, (target, port))
            n += 1
    print("forged=%d" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
