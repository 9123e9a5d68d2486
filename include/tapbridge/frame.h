/*
 * frame.h -- fragmentation of oversized Ethernet frames inside the tunnel,
 * and their reassembly.
 *
 * A frame that does not fit in one datagram under the path MTU is cut into
 * pieces, each sent as its own sealed data message (inner kind
 * WIRE_INNER_FRAGMENT: kind(1) id(4) total(2) offset(2) bytes), so outer IP
 * fragmentation is never needed.  Pieces start at multiples of 8 bytes.
 * Reassembly sees only pieces that were already authenticated; it keeps at
 * most FRAME_REASM_SLOTS frames in progress per peer, in memory allocated
 * once, drops a frame whose pieces did not all arrive within
 * FRAME_REASM_TIMEOUT_MS, accepts pieces in any order and ignores
 * duplicates.  Every reason a piece or frame is dropped has a counter.
 * No logging, no allocation after frame_reasm_new.
 */
#ifndef TAPBRIDGE_FRAME_H
#define TAPBRIDGE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "tapbridge/wire.h"

#define FRAME_REASM_SLOTS	8
#define FRAME_REASM_TIMEOUT_MS	1000

enum frame_drop {
	FRAME_DROP_BOUNDS,	/* piece beyond its frame, bad total/offset */
	FRAME_DROP_TIMEOUT,	/* frame incomplete when its time ran out */
	FRAME_DROP_EVICTED,	/* too many frames in progress: oldest went */
	FRAME_DUPLICATE,	/* piece already held (not a loss) */
	FRAME_DROP_MAX,
};

/* frame_drop_name(d): "bounds", "timeout", "evicted", "duplicate". */
const char *frame_drop_name(enum frame_drop d);

/*
 * frame_piece_max(payload_max): the largest piece of frame data that fits
 * in an inner message of payload_max bytes (a multiple of 8), or 0 if none.
 */
size_t frame_piece_max(size_t payload_max);

/*
 * frame_write_piece(out, id, frame, total, off, n): write the inner
 * fragment message for bytes [off, off + n) of frame (total bytes) to out,
 * which has room for WIRE_INNER_FRAG_HDR + n bytes.  Returns its length.
 */
size_t frame_write_piece(uint8_t *out, uint32_t id, const uint8_t *frame,
			 size_t total, size_t off, size_t n);

struct frame_reasm;

/* frame_reasm_new(max_frame): reassembly for frames up to max_frame bytes;
 * NULL if memory fails. */
struct frame_reasm *frame_reasm_new(size_t max_frame);
/* frame_reasm_free(r): NULL is a no-op. */
void frame_reasm_free(struct frame_reasm *r);

/*
 * frame_reasm_input(r, msg, len, now_ms, frame, flen): msg is an
 * authenticated inner fragment message (kind byte first) of len bytes.
 * Returns 1 when it completes a frame: *frame and *flen then point into r
 * and stay valid until the next call on r.  Returns 0 when more pieces are
 * needed or the piece was dropped (counted).
 */
int frame_reasm_input(struct frame_reasm *r, const uint8_t *msg, size_t len,
		      uint64_t now_ms, const uint8_t **frame, size_t *flen);

/* frame_reasm_expire(r, now_ms): drop frames whose time ran out. */
void frame_reasm_expire(struct frame_reasm *r, uint64_t now_ms);

/* frame_reasm_drops(r): FRAME_DROP_MAX counters, indexed by frame_drop. */
const uint64_t *frame_reasm_drops(const struct frame_reasm *r);

/* frame_reasm_pending(r): frames currently in progress. */
unsigned frame_reasm_pending(const struct frame_reasm *r);

#endif
