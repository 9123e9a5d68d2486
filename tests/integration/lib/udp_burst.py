#!/usr/bin/env python3
"""udp_burst.py: send or receive numbered UDP datagrams of a fixed size.

  udp_burst.py recv ADDR PORT COUNT SIZE SECONDS  -> prints "got N intact"
  udp_burst.py send ADDR PORT COUNT SIZE

Each datagram is SIZE bytes: a 4-byte index, then bytes derived from it, so
the receiver checks every byte.  Bounded in count and time."""
import socket
import sys
import time


def payload(i, size):
    head = i.to_bytes(4, "big")
    body = bytes((i * 31 + k) & 0xFF for k in range(size - 4))
    return head + body


def main():
    mode, addr, port, count, size = sys.argv[1:6]
    port, count, size = int(port), int(count), int(size)
    if mode == "send":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        # DF on: the datagram must cross without IP fragmentation.
        s.setsockopt(socket.IPPROTO_IP, 10, 2)  # IP_MTU_DISCOVER = DO
        for i in range(count):
            s.sendto(payload(i, size), (addr, port))
            time.sleep(0.01)
        return 0
    deadline = time.monotonic() + float(sys.argv[6])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    seen = set()
    print("ready", flush=True)
    while len(seen) < count and time.monotonic() < deadline:
        s.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        if len(data) != size:
            continue
        i = int.from_bytes(data[:4], "big")
        if i < count and data == payload(i, size):
            seen.add(i)
    print("got %d intact" % len(seen), flush=True)
    return 0


sys.exit(main())
