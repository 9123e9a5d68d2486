/*
 * fuzz_support.c -- see fuzz_support.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz_support.h"

void fuzz_quiet_log(void)
{
	FILE *null = fopen("/dev/null", "w");

	if (!null)
		abort();
	stderr = null;
}

static uint8_t rng_key[crypto_stream_chacha20_KEYBYTES];
static uint64_t rng_calls;

static const char *rng_name(void)
{
	return "tapbridge-fuzz-deterministic";
}

/* Each call: the ChaCha20 stream under the fixed key, nonce = call number. */
static void rng_buf(void *buf, size_t size)
{
	uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
	uint64_t n = rng_calls++;
	size_t i;

	for (i = 0; i < sizeof(nonce); i++, n >>= 8)
		nonce[i] = (uint8_t)n;
	memset(buf, 0, size);
	crypto_stream_chacha20_xor(buf, buf, size, nonce, rng_key);
}

static uint32_t rng_random(void)
{
	uint32_t v;

	rng_buf(&v, sizeof(v));
	return v;
}

static struct randombytes_implementation rng = {
	.implementation_name = rng_name,
	.random = rng_random,
	.buf = rng_buf,
	/* stir, uniform, close: libsodium's generic versions */
};

void fuzz_deterministic_random(void)
{
	memset(rng_key, 0x5a, sizeof(rng_key));
	rng_calls = 0;
	if (randombytes_set_implementation(&rng) != 0)
		abort();
}
