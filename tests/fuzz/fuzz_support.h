/*
 * fuzz_support.h -- what several fuzz targets share: a silent log, a
 * deterministic random number generator and fixed identities.
 *
 * Fuzz targets only: nothing here belongs in the daemon.  A target calls
 * these from LLVMFuzzerInitialize, before anything else touches libsodium.
 */
#ifndef TAPBRIDGE_FUZZ_SUPPORT_H
#define TAPBRIDGE_FUZZ_SUPPORT_H

#include <stdint.h>
#include <stdlib.h>

#include <sodium.h>

#include "tapbridge/handshake.h"
#include "tapbridge/keys.h"

/*
 * fuzz_quiet_log(): send what src/log.c prints (through stdio's stderr) to
 * /dev/null.  Descriptor 2 stays open, so libFuzzer's own output (it keeps
 * the FILE it had at start-up) and every sanitizer report still show.
 */
void fuzz_quiet_log(void);

/*
 * fuzz_deterministic_random(): make libsodium's randombytes a fixed
 * sequence (ChaCha20 under a constant key), so that ephemeral keys, indices
 * and session keys are the same in every run and a crash reproduces.  Call
 * before sodium_init.  Aborts if libsodium refuses.
 */
void fuzz_deterministic_random(void);

/*
 * fuzz_identity(id, seed): a static identity whose private key is derived
 * from the byte seed alone (its public key is crypto_scalarmult_base of it,
 * computed by handshake_identity_init).  Aborts on failure.
 */
static inline void fuzz_identity(struct handshake_identity *id, uint8_t seed)
{
	struct keys_secret *k = keys_secret_new();

	if (!k)
		abort();
	crypto_generichash(k->key, KEYS_LEN, &seed, 1, NULL, 0);
	k->key[0] &= 248;	/* an X25519 scalar, clamped */
	k->key[31] &= 127;
	k->key[31] |= 64;
	if (handshake_identity_init(id, k) < 0)	/* takes k */
		abort();
}

#endif
