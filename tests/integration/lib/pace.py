#!/usr/bin/env python3
"""pace.py FILE CHUNK_BYTES PAUSE_S: copy FILE to stdout in chunks with a
pause after each, so a transfer lasts long enough to change the network
under it.  Ends at end of file."""
import sys
import time

with open(sys.argv[1], "rb") as f:
    chunk, pause = int(sys.argv[2]), float(sys.argv[3])
    out = sys.stdout.buffer
    while True:
        b = f.read(chunk)
        if not b:
            break
        out.write(b)
        out.flush()
        time.sleep(pause)
