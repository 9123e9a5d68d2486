/*
 * keys.h -- X25519 keys: generation, base64, and key files.
 *
 * Owns the rules for key files (owner root or the invoking user, no access
 * for group or others, exactly one base64 key) and keeps secrets only in
 * sodium_malloc memory, wiped when freed.  Never logs key bytes.
 */
#ifndef TAPBRIDGE_KEYS_H
#define TAPBRIDGE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define KEYS_LEN	32
#define KEYS_B64_LEN	45	/* 44 characters and a NUL */

/* A secret key in guarded memory; allocate with keys_secret_new. */
struct keys_secret {
	uint8_t key[KEYS_LEN];
};

/* keys_secret_new(): sodium_malloc'd zeroed secret, or NULL (errno set). */
struct keys_secret *keys_secret_new(void);
/* keys_secret_free(s): wipe and free; NULL is a no-op. */
void keys_secret_free(struct keys_secret *s);

/* keys_generate(s): fill s with a new X25519 private key (clamped). */
void keys_generate(struct keys_secret *s);
/* keys_public(pub, priv): derive the public key; 0, or -1 if priv is weak. */
int keys_public(uint8_t pub[KEYS_LEN], const struct keys_secret *priv);

/* keys_to_base64(out, key): 44 characters and a NUL into out. */
void keys_to_base64(char out[KEYS_B64_LEN], const uint8_t key[KEYS_LEN]);
/*
 * keys_from_base64(key, s): decode exactly one 32-byte key from s (no
 * surrounding space).  Returns 0, or -1 if s is not valid base64 of 32 bytes.
 */
int keys_from_base64(uint8_t key[KEYS_LEN], const char *s);

/*
 * keys_load(path, where): read a key file, checking owner and mode.  Errors
 * are logged once here, prefixed by where (e.g. "tapbridge.conf:5") when
 * not NULL.  Returns a new secret (caller frees) or NULL.
 */
struct keys_secret *keys_load(const char *path, const char *where);

/* keys_fingerprint(out, pub): first 8 base64 characters, for logs. */
void keys_fingerprint(char out[9], const uint8_t pub[KEYS_LEN]);

#endif
