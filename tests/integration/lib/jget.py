#!/usr/bin/env python3
"""jget.py PATH: print one value from the JSON object on stdin.

PATH is dotted: "drops.short", "peers.0.handshakes", "peer.drops.auth"
("peer" is the only element of "peers"; more than one peer is an error),
"peers[b].rx_frames" selects a peer by name.  null prints "null".
Exit 1 if the path does not exist.
"""
import json
import re
import sys


def step(node, seg):
    m = re.fullmatch(r"peers\[(.+)\]", seg)
    if m:
        for p in node["peers"]:
            if p.get("name") == m.group(1):
                return p
        raise KeyError(seg)
    if seg == "peer":
        peers = node["peers"]
        if len(peers) != 1:
            raise KeyError("peer: %d peers" % len(peers))
        return peers[0]
    if isinstance(node, list):
        return node[int(seg)]
    return node[seg]


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: jget.py PATH < json\n")
        return 2
    try:
        node = json.load(sys.stdin)
    except ValueError as e:
        sys.stderr.write("jget: invalid JSON: %s\n" % e)
        return 1
    try:
        for seg in sys.argv[1].split("."):
            node = step(node, seg)
    except (KeyError, IndexError, ValueError, TypeError) as e:
        sys.stderr.write("jget: no %s (%s)\n" % (sys.argv[1], e))
        return 1
    if node is None:
        print("null")
    elif isinstance(node, (dict, list)):
        print(json.dumps(node))
    else:
        print(node)
    return 0


if __name__ == "__main__":
    sys.exit(main())
