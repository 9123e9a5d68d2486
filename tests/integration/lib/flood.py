#!/usr/bin/env python3
"""flood.py: play a flooding attacker on the lab WAN (bounded in count and
time, paced to a rate).

  flood.py random HOST PORT COUNT SECONDS RATE
      COUNT datagrams of random sizes 0..1500: a quarter pure random
      bytes, the rest start with a valid message type (1, 2 or 4) and
      three zero bytes, some of them with the exact length of their type
      (initiation 148, response 76, data >= 29) so that they reach the
      mac1 check, the index lookup and the session lookup.
  flood.py initiation HOST PORT COUNT SECONDS RATE [PUBKEY_B64]
      COUNT handshake initiations of the right length (148, type 1) with
      random contents; with PUBKEY_B64 (the target's public key, which is
      public) each carries a VALID mac1, so the target spends its DH and
      AEAD on it before it can reject it.
  flood.py mac1check PCAP PORT PUBKEY_B64
      verify the mac1 of every initiation sent to PORT in PCAP with this
      script's own mac1 code: proves that "valid mac1" above is valid.

A sender prints "sent=N", "elapsed=S" and, for random, the number of
datagrams each receive-path drop counter should see (short, no-session,
handshake) as "expect_<counter>=N".  It stops at COUNT datagrams or after
SECONDS, whichever comes first.  Only the address given is ever sent to.
The layout comes from include/tapbridge/wire.h and src/handshake.c.
"""
import base64
import hashlib
import os
import random
import socket
import sys
import time

# No __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from inject import (DATA_OVERHEAD, INIT_LEN, INIT_MAC1_OFF,  # noqa: E402
                    MAC2_LEN, MSG_DATA, MSG_INITIATION, pcap_udp_payloads)

MSG_RESPONSE = 2
RESP_LEN = 76
MSG_COOKIE = 3
COOKIE_LEN = 64
MAC1_LEN = 16
MAX_LEN = 1500


def mac1_key(pub):
    return hashlib.blake2b(b"mac1----" + pub, digest_size=32).digest()


def mac1(key, msg):
    return hashlib.blake2b(msg, key=key, digest_size=MAC1_LEN).digest()


def classify(pkt):
    """The drop counter of the daemon's receive path this datagram lands
    in when nothing about it is valid (see src/dp_rx.c)."""
    if not pkt:
        return "short"
    t, n = pkt[0], len(pkt)
    if t == MSG_DATA:
        return "no-session" if n >= DATA_OVERHEAD else "short"
    if n < 4 or pkt[1] or pkt[2] or pkt[3]:
        return "short"
    if t == MSG_INITIATION:
        return "handshake" if n == INIT_LEN else "short"
    if t == MSG_RESPONSE:
        return "handshake" if n == RESP_LEN else "short"
    if t == MSG_COOKIE:
        return "handshake" if n == COOKIE_LEN else "short"
    return "short"


class Junk:
    """Random bytes cut from one big buffer: os.urandom per datagram would
    make the sender, not the target, the bottleneck."""

    def __init__(self, size=1 << 20):
        self.buf = os.urandom(size)
        self.view = memoryview(self.buf)

    def take(self, n):
        off = random.randrange(0, len(self.buf) - n + 1)
        return self.view[off:off + n]


def random_datagram(junk):
    r = random.random()
    if r < 0.25:
        return bytes(junk.take(random.randrange(0, MAX_LEN + 1)))
    t = random.choice((MSG_INITIATION, MSG_RESPONSE, MSG_DATA))
    if r < 0.45:
        n = {MSG_INITIATION: INIT_LEN, MSG_RESPONSE: RESP_LEN,
             MSG_DATA: random.randrange(DATA_OVERHEAD, MAX_LEN + 1)}[t]
    else:
        n = random.randrange(0, MAX_LEN + 1)
    head = bytes((t, 0, 0, 0))
    return (head + bytes(junk.take(max(0, n - 4))))[:n]


def initiation(junk, key):
    """mac2 zero: no cookie, as from a sender that never got one."""
    body = bytes((MSG_INITIATION, 0, 0, 0)) + \
        bytes(junk.take(INIT_MAC1_OFF - 4))
    if key is None:
        return body + bytes(junk.take(MAC1_LEN)) + bytes(MAC2_LEN)
    return body + mac1(key, body) + bytes(MAC2_LEN)


def send_paced(host, port, count, seconds, rate, make):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    dst = (host, port)
    tally = {}
    start = time.monotonic()
    deadline = start + seconds
    sent = 0
    while sent < count:
        now = time.monotonic()
        if now >= deadline:
            break
        due = start + sent / rate
        if due > now:
            time.sleep(due - now)
        for _ in range(min(64, count - sent)):
            pkt = make()
            try:
                s.sendto(pkt, dst)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as e:
                # ENOBUFS and the like: the local queue is full; the
                # datagram was not sent, so it is not counted.
                if e.errno in (105, 11):
                    continue
                raise
            sent += 1
            c = classify(pkt)
            tally[c] = tally.get(c, 0) + 1
    return sent, time.monotonic() - start, tally


def main():
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    mode = sys.argv[1]
    if mode == "mac1check":
        if len(sys.argv) != 5:
            sys.stderr.write(__doc__)
            return 2
        path, port = sys.argv[2], int(sys.argv[3])
        key = mac1_key(base64.b64decode(sys.argv[4]))
        inits = [p for p in pcap_udp_payloads(path, port)
                 if len(p) == INIT_LEN and p[0] == MSG_INITIATION]
        good = sum(1 for p in inits
                   if mac1(key, p[:INIT_MAC1_OFF]) ==
                   p[INIT_MAC1_OFF:INIT_MAC1_OFF + MAC1_LEN])
        print("initiations=%d mac1_ok=%d" % (len(inits), good))
        return 0 if inits and good == len(inits) else 1
    if mode not in ("random", "initiation") or len(sys.argv) not in (7, 8):
        sys.stderr.write(__doc__)
        return 2
    host, port = sys.argv[2], int(sys.argv[3])
    count, seconds = int(sys.argv[4]), float(sys.argv[5])
    rate = float(sys.argv[6])
    junk = Junk()
    if mode == "random":
        def make():
            return random_datagram(junk)
    else:
        key = None
        if len(sys.argv) == 8:
            key = mac1_key(base64.b64decode(sys.argv[7]))

        def make():
            return initiation(junk, key)
    sent, elapsed, tally = send_paced(host, port, count, seconds, rate, make)
    print("sent=%d" % sent)
    print("elapsed=%.2f" % elapsed)
    for c in ("short", "no-session", "handshake"):
        print("expect_%s=%d" % (c, tally.get(c, 0)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
