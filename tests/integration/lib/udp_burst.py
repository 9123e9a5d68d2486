#!/usr/bin/env python3
"""udp_burst.py: send or receive numbered UDP datagrams of a fixed size.

  udp_burst.py recv ADDR PORT COUNT SIZE SECONDS  -> prints "got N intact"
  udp_burst.py send ADDR PORT COUNT SIZE [GSO [BURST]]

Each datagram is SIZE bytes: a 4-byte index, then bytes derived from it, so
the receiver checks every byte.  With GSO (> 1) the sender hands the kernel
GSO datagrams at a time in one send (UDP_SEGMENT, Linux 4.18+): one UDP
super-packet that is cut into SIZE-byte datagrams on its way out (by a TAP
with USO, after the tunnel).  Sends pause 10 ms after every send, or with
BURST after every BURST sends (back to back before).  ADDR may be IPv4 or
IPv6.  Bounded in count and time."""
import socket
import sys
import time

IP_MTU_DISCOVER = 10
IPV6_MTU_DISCOVER = 23
PMTUDISC_DO = 2
UDP_SEGMENT = 103


def payload(i, size):
    head = i.to_bytes(4, "big")
    body = bytes((i * 31 + k) & 0xFF for k in range(size - 4))
    return head + body


def sock(addr):
    if ":" in addr:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, PMTUDISC_DO)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, PMTUDISC_DO)
    # DF on: the datagrams must cross without IP fragmentation.
    return s


def send(addr, port, count, size, gso, burst):
    s = sock(addr)
    if gso > 1:
        s.setsockopt(socket.IPPROTO_UDP, UDP_SEGMENT, size)
    sends = [b"".join(payload(i, size) for i in range(f, min(f + gso, count)))
             for f in range(0, count, gso)]
    for n, data in enumerate(sends, 1):
        s.sendto(data, (addr, port))
        if n % burst == 0:
            time.sleep(0.01)
    return 0


def recv(addr, port, count, size, seconds):
    deadline = time.monotonic() + seconds
    s = sock(addr)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
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


def main():
    mode, addr, port, count, size = sys.argv[1:6]
    port, count, size = int(port), int(count), int(size)
    if mode == "send":
        gso = int(sys.argv[6]) if len(sys.argv) > 6 else 1
        burst = int(sys.argv[7]) if len(sys.argv) > 7 else 1
        return send(addr, port, count, size, max(gso, 1), max(burst, 1))
    return recv(addr, port, count, size, float(sys.argv[6]))


sys.exit(main())
