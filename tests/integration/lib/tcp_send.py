#!/usr/bin/env python3
"""tcp_send.py FILE HOST PORT SECONDS [CC]: send FILE to HOST:PORT over TCP
(IPv4 or IPv6), spread over about SECONDS (0: as fast as it goes), then
close.  With CC, ask for that congestion control on the socket; if the
kernel refuses, keep the default.  Name only one the kernel has already
(/proc/sys/net/ipv4/tcp_available_congestion_control): for root it would
load the module of any other, which stays loaded on the host.  Prints
"cc=NAME" and "bytes=N".
"""
import socket
import sys
import time

TCP_CONGESTION = getattr(socket, "TCP_CONGESTION", 13)
CHUNK = 65536


def main():
    if len(sys.argv) not in (5, 6):
        sys.stderr.write(__doc__)
        return 2
    path, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    seconds = float(sys.argv[4])
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    if len(sys.argv) == 6:
        try:
            s.setsockopt(socket.IPPROTO_TCP, TCP_CONGESTION,
                         sys.argv[5].encode())
        except OSError as e:
            sys.stderr.write("tcp_send: congestion control '%s' refused "
                             "(%s), keeping the default\n" %
                             (sys.argv[5], e.strerror))
    cc = s.getsockopt(socket.IPPROTO_TCP, TCP_CONGESTION, 16)
    print("cc=%s" % cc.split(b"\0")[0].decode(), flush=True)
    s.settimeout(60)
    s.connect((host, port))
    sent = 0
    with open(path, "rb") as f:
        total = f.seek(0, 2)
        f.seek(0)
        start = time.monotonic()
        while True:
            b = f.read(CHUNK)
            if not b:
                break
            s.sendall(b)
            sent += len(b)
            if seconds > 0:
                due = start + seconds * sent / total
                now = time.monotonic()
                if due > now:
                    time.sleep(due - now)
    s.shutdown(socket.SHUT_WR)
    # Wait for the receiver to close: everything was read.
    while s.recv(4096):
        pass
    s.close()
    print("bytes=%d" % sent)
    return 0


if __name__ == "__main__":
    sys.exit(main())
