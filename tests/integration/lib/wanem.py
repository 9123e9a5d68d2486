#!/usr/bin/env python3
"""wanem.py IF1 IF2 LOSS DELAY_MS JITTER_MS DUP SECONDS: a small userspace
netem for the lab's WAN switch, for kernels without sch_netem.

Relays every Ethernet frame between the interfaces IF1 and IF2 (taken out
of any bridge by the caller) through AF_PACKET sockets, and on the way, in
each direction: drops a frame with probability LOSS (percent), delays it
by DELAY_MS +- JITTER_MS (uniform; frames overtake each other, as with
netem's jitter), and sends a second copy with probability DUP (percent).
Runs SECONDS at most, or until SIGTERM or SIGINT; then prints, per
direction, frames in, dropped, duplicated and sent as "DIR_KEY=N" lines.

Frames whose checksum the sending kernel left to the NIC (veth passes them
on unfinished) get a checksum: none (0) for UDP over IPv4, the full one
for UDP over IPv6.  Frames larger than the interface MTU are counted as
"DIR_oversize" and relayed as they are.
"""
import heapq
import os
import random
import select
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_CSUMNOTREADY = 8
PACKET_OUTGOING = 4
AUX = struct.Struct("IIIHHHH")

stop = False


def on_signal(signo, frame):
    global stop
    stop = True


def open_if(name):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    s.bind((name, ETH_P_ALL))
    s.setblocking(False)
    return s


def csum16(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def finish_checksum(frame):
    """Complete the transport checksum of an outgoing UDP datagram."""
    b = bytearray(frame)
    off = 14
    etype = struct.unpack("!H", b[12:14])[0]
    if etype == 0x8100 and len(b) >= 18:
        etype = struct.unpack("!H", b[16:18])[0]
        off = 18
    if etype == 0x0800 and len(b) >= off + 20 and b[off + 9] == 17:
        ihl = (b[off] & 0x0F) * 4
        u = off + ihl
        if len(b) >= u + 8:
            b[u + 6:u + 8] = b"\0\0"
    elif etype == 0x86DD and len(b) >= off + 48 and b[off + 6] == 17:
        u = off + 40
        ulen = struct.unpack("!H", b[u + 4:u + 6])[0]
        seg = bytes(b[u:u + ulen])
        seg = seg[:6] + b"\0\0" + seg[8:]
        pseudo = bytes(b[off + 8:off + 40]) + struct.pack("!IxxxB", ulen, 17)
        c = 0xFFFF - csum16(pseudo + seg)
        b[u + 6:u + 8] = struct.pack("!H", c or 0xFFFF)
    return bytes(b)


def main():
    if len(sys.argv) != 8:
        sys.stderr.write(__doc__)
        return 2
    if1, if2 = sys.argv[1], sys.argv[2]
    loss, delay, jitter, dup = (float(x) for x in sys.argv[3:7])
    seconds = float(sys.argv[7])
    loss /= 100.0
    dup /= 100.0
    delay /= 1000.0
    jitter /= 1000.0
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    socks = {if1: open_if(if1), if2: open_if(if2)}
    peer = {if1: if2, if2: if1}
    mtu = {}
    for name in (if1, if2):
        with open("/sys/class/net/%s/mtu" % name) as f:
            mtu[name] = int(f.read())
    stats = {}

    def bump(d, k, n=1):
        key = "%s_%s" % (d, k)
        stats[key] = stats.get(key, 0) + n

    queue = []
    seq = 0
    deadline = time.monotonic() + seconds
    fds = {s.fileno(): name for name, s in socks.items()}
    print("ready", flush=True)
    while not stop:
        now = time.monotonic()
        if now >= deadline:
            break
        while queue and queue[0][0] <= now:
            _, _, out, frame, d = heapq.heappop(queue)
            try:
                socks[out].send(frame)
                bump(d, "sent")
            except OSError:
                bump(d, "send_errors")
        timeout = 0.05
        if queue:
            timeout = max(0.0, min(timeout, queue[0][0] - now))
        try:
            ready, _, _ = select.select(list(fds), [], [], timeout)
        except InterruptedError:
            continue
        for fd in ready:
            name = fds[fd]
            d = "%s_to_%s" % (name, peer[name])
            for _ in range(256):
                try:
                    frame, anc, _, addr = socks[name].recvmsg(65536, 64)
                except (BlockingIOError, InterruptedError):
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue
                bump(d, "in")
                status = 0
                for lvl, typ, data in anc:
                    if lvl == SOL_PACKET and typ == PACKET_AUXDATA:
                        status = AUX.unpack(data[:AUX.size])[0]
                if len(frame) > mtu[name] + 18:
                    bump(d, "oversize")
                if status & TP_STATUS_CSUMNOTREADY:
                    frame = finish_checksum(frame)
                if random.random() < loss:
                    bump(d, "dropped")
                    continue
                copies = 2 if random.random() < dup else 1
                if copies == 2:
                    bump(d, "duplicated")
                for _ in range(copies):
                    due = time.monotonic() + delay + \
                        random.uniform(-jitter, jitter)
                    seq += 1
                    heapq.heappush(queue, (due, seq, peer[name], frame, d))
    for k in sorted(stats):
        print("%s=%d" % (k, stats[k]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
