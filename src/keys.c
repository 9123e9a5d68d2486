/*
 * keys.c -- X25519 keys, base64 and key files; see keys.h.
 *
 * Secrets live only in sodium_malloc memory (guard pages, wiped by
 * sodium_free).  Key file contents are read straight into such memory, so
 * no copy of a secret is left on the stack or the heap.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "tapbridge/log.h"
#include "tapbridge/keys.h"

/* A key file holds 44 characters and perhaps a newline; allow some slack. */
#define KEYFILE_MAX	256

struct keys_secret *keys_secret_new(void)
{
	struct keys_secret *s;

	if (sodium_init() < 0) {
		errno = ENOSYS;
		return NULL;
	}
	s = sodium_malloc(sizeof(*s));
	if (!s)
		return NULL;
	sodium_memzero(s, sizeof(*s));
	return s;
}

void keys_secret_free(struct keys_secret *s)
{
	if (s)
		sodium_free(s);
}

void keys_generate(struct keys_secret *s)
{
	randombytes_buf(s->key, sizeof(s->key));
	s->key[0] &= 248;
	s->key[31] &= 127;
	s->key[31] |= 64;
}

int keys_public(uint8_t pub[KEYS_LEN], const struct keys_secret *priv)
{
	if (sodium_is_zero(priv->key, KEYS_LEN) ||
	    crypto_scalarmult_base(pub, priv->key) != 0 ||
	    sodium_is_zero(pub, KEYS_LEN)) {
		sodium_memzero(pub, KEYS_LEN);
		return -1;
	}
	return 0;
}

void keys_to_base64(char out[KEYS_B64_LEN], const uint8_t key[KEYS_LEN])
{
	sodium_bin2base64(out, KEYS_B64_LEN, key, KEYS_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
}

/*
 * decode(key, s, len): s[0..len) must be exactly the padded base64 of 32
 * bytes, nothing before or after.  libsodium rejects non-zero padding
 * bits, so every key has one spelling.  key is wiped on failure.
 */
static int decode(uint8_t key[KEYS_LEN], const char *s, size_t len)
{
	const char *end = NULL;
	size_t n = 0;

	if (len != KEYS_B64_LEN - 1 ||
	    sodium_base642bin(key, KEYS_LEN, s, len, NULL, &n, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    n != KEYS_LEN || end != s + len) {
		sodium_memzero(key, KEYS_LEN);
		return -1;
	}
	return 0;
}

int keys_from_base64(uint8_t key[KEYS_LEN], const char *s)
{
	if (!s) {
		sodium_memzero(key, KEYS_LEN);
		return -1;
	}
	return decode(key, s, strnlen(s, KEYS_B64_LEN));
}

void keys_fingerprint(char out[9], const uint8_t pub[KEYS_LEN])
{
	char b64[KEYS_B64_LEN];

	keys_to_base64(b64, pub);
	memcpy(out, b64, 8);
	out[8] = '\0';
}

/*
 * Messages start with "where: " when the caller gave a place; w and sep
 * below are that place and its separator, or two empty strings.
 */

/* check(fd, path, w, sep): the file must be regular, ours and private. */
static int check(int fd, const char *path, const char *w, const char *sep)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		log_warn("%s%skey file '%s'", w, sep, path);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warnx("%s%skey file '%s' is not a regular file", w, sep,
			  path);
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != getuid()) {
		if (getuid() == 0)
			log_warnx("%s%skey file '%s' is owned by uid %u, "
				  "not root (run 'chown root %s')", w, sep,
				  path, (unsigned)st.st_uid, path);
		else
			log_warnx("%s%skey file '%s' is owned by uid %u, "
				  "not root or uid %u", w, sep, path,
				  (unsigned)st.st_uid, (unsigned)getuid());
		return -1;
	}
	if (st.st_mode & 077) {
		log_warnx("%s%skey file '%s' is open to group or others "
			  "(run 'chmod 600 %s')", w, sep, path, path);
		return -1;
	}
	return 0;
}

/* slurp(fd, buf, path, w, sep): read the whole file; its length or -1. */
static ssize_t slurp(int fd, char *buf, const char *path, const char *w,
		     const char *sep)
{
	size_t len = 0;
	ssize_t n;

	for (;;) {
		n = read(fd, buf + len, KEYFILE_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_warn("%s%scannot read key file '%s'", w, sep, path);
			return -1;
		}
		if (n == 0)
			return (ssize_t)len;
		len += (size_t)n;
		if (len == KEYFILE_MAX)
			return (ssize_t)len;	/* too long: refused later */
	}
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* opened(path, w, sep): open path, not following a final symlink. */
static int opened(const char *path, const char *w, const char *sep)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
		  O_NONBLOCK);
	if (fd >= 0)
		return fd;
	if (errno == ELOOP && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		log_warnx("%s%skey file '%s' is a symbolic link (name the file "
			  "itself)", w, sep, path);
	else
		log_warn("%s%scannot open key file '%s'", w, sep, path);
	return -1;
}

struct keys_secret *keys_load(const char *path, const char *where)
{
	const char *w = where ? where : "", *sep = where ? ": " : "";
	struct keys_secret *s = NULL;
	char *buf;
	ssize_t len;
	int fd;

	fd = opened(path, w, sep);
	if (fd < 0)
		goto fail;
	if (check(fd, path, w, sep) < 0)
		goto fail_close;
	/* keys_secret_new first: it runs sodium_init for sodium_malloc. */
	s = keys_secret_new();
	buf = s ? sodium_malloc(KEYFILE_MAX) : NULL;
	if (!buf) {
		log_warn("%s%skey file '%s'", w, sep, path);
		goto fail_free_secret;
	}
	len = slurp(fd, buf, path, w, sep);
	if (len < 0)
		goto fail_free_buf;
	/* A full buffer means a longer file: leave it long, so it fails. */
	while (len > 0 && len < KEYFILE_MAX && is_space(buf[len - 1]))
		len--;
	if (decode(s->key, buf, (size_t)len) < 0) {
		log_warnx("%s%skey file '%s' does not hold a base64 key of "
			  "32 bytes", w, sep, path);
		goto fail_free_buf;
	}
	sodium_free(buf);
	close(fd);
	return s;

fail_free_buf:
	sodium_free(buf);
fail_free_secret:
	keys_secret_free(s);
fail_close:
	close(fd);
fail:
	return NULL;
}
