/*
 * test_keys.c -- X25519 keys, base64 and the key file rules.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tapbridge/keys.h"

/* RFC 7748 section 6.1; base64 spellings computed outside this code. */
static const uint8_t alice_priv[KEYS_LEN] = {
	0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c, 0x16, 0xc1,
	0x72, 0x51, 0xb2, 0x66, 0x45, 0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0,
	0x99, 0x2a, 0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a,
};
static const uint8_t alice_pub[KEYS_LEN] = {
	0x85, 0x20, 0xf0, 0x09, 0x89, 0x30, 0xa7, 0x54, 0x74, 0x8b, 0x7d,
	0xdc, 0xb4, 0x3e, 0xf7, 0x5a, 0x0d, 0xbf, 0x3a, 0x0d, 0x26, 0x38,
	0x1a, 0xf4, 0xeb, 0xa4, 0xa9, 0x8e, 0xaa, 0x9b, 0x4e, 0x6a,
};
static const uint8_t bob_priv[KEYS_LEN] = {
	0x5d, 0xab, 0x08, 0x7e, 0x62, 0x4a, 0x8a, 0x4b, 0x79, 0xe1, 0x7f,
	0x8b, 0x83, 0x80, 0x0e, 0xe6, 0x6f, 0x3b, 0xb1, 0x29, 0x26, 0x18,
	0xb6, 0xfd, 0x1c, 0x2f, 0x8b, 0x27, 0xff, 0x88, 0xe0, 0xeb,
};
static const uint8_t bob_pub[KEYS_LEN] = {
	0xde, 0x9e, 0xdb, 0x7d, 0x7b, 0x7d, 0xc1, 0xb4, 0xd3, 0x5b, 0x61,
	0xc2, 0xec, 0xe4, 0x35, 0x37, 0x3f, 0x83, 0x43, 0xc8, 0x5b, 0x78,
	0x67, 0x4d, 0xad, 0xfc, 0x7e, 0x14, 0x6f, 0x88, 0x2b, 0x4f,
};
#define ALICE_PRIV_B64	"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo="
#define ALICE_PUB_B64	"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="

Test(keys, base64_round_trip)
{
	char b64[KEYS_B64_LEN];
	uint8_t key[KEYS_LEN], back[KEYS_LEN];
	unsigned i, j;

	keys_to_base64(b64, alice_pub);
	cr_expect_str_eq(b64, ALICE_PUB_B64);
	cr_assert_eq(keys_from_base64(back, ALICE_PRIV_B64), 0);
	cr_expect_arr_eq(back, alice_priv, KEYS_LEN);

	for (i = 0; i < 256; i++) {
		for (j = 0; j < KEYS_LEN; j++)
			key[j] = (uint8_t)(i * 31 + j * 7);
		keys_to_base64(b64, key);
		cr_assert_eq(strlen(b64), 44);
		cr_assert_eq(b64[43], '=');
		cr_assert_eq(keys_from_base64(back, b64), 0, "%s", b64);
		cr_assert_arr_eq(back, key, KEYS_LEN);
	}
}

Test(keys, from_base64_rejects_anything_but_one_padded_key)
{
	static const char *const bad[] = {
		"",
		/* 31 and 33 bytes */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		/* 43 and 45 characters */
		"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo",
		"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo==",
		"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=A",
		/* characters outside the standard alphabet */
		"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo=",
		"hSDwCYkwp1R0i33ctD73Wg2-Og0mOBr066SpjqqbTmo=",
		"hSDwCYkwp1R0i33ctD73Wg2*Og0mOBr066SpjqqbTmo=",
		/* space around or inside */
		" hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=",
		"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo= ",
		"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=\n",
		"hSDwCYkwp1R0i33ctD73 g2/Og0mOBr066SpjqqbTmo=",
		"hSDwCYkwp1R0i33ctD73\nWg2/Og0mOBr066SpjqqbTmo=",
		/* padding bits set: a second spelling of the same bytes */
		"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmp=",
	};
	uint8_t key[KEYS_LEN];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(key, 0xaa, sizeof(key));
		cr_expect_eq(keys_from_base64(key, bad[i]), -1, "'%s'",
			     bad[i]);
		cr_expect(key[0] == 0 && key[KEYS_LEN - 1] == 0,
			  "key not wiped after '%s'", bad[i]);
	}
	cr_expect_eq(keys_from_base64(key, NULL), -1);
}

Test(keys, public_matches_rfc7748_vectors)
{
	struct keys_secret *s = keys_secret_new();
	uint8_t pub[KEYS_LEN];

	cr_assert_not_null(s);
	memcpy(s->key, alice_priv, KEYS_LEN);
	cr_assert_eq(keys_public(pub, s), 0);
	cr_expect_arr_eq(pub, alice_pub, KEYS_LEN);
	memcpy(s->key, bob_priv, KEYS_LEN);
	cr_assert_eq(keys_public(pub, s), 0);
	cr_expect_arr_eq(pub, bob_pub, KEYS_LEN);
	keys_secret_free(s);
}

Test(keys, public_refuses_an_all_zero_private_key)
{
	struct keys_secret *s = keys_secret_new();
	uint8_t pub[KEYS_LEN];

	cr_assert_not_null(s);
	for (size_t i = 0; i < KEYS_LEN; i++)
		cr_assert_eq(s->key[i], 0, "new secret not zeroed");
	memset(pub, 0x55, sizeof(pub));
	cr_expect_eq(keys_public(pub, s), -1);
	keys_secret_free(s);
	keys_secret_free(NULL);
}

Test(keys, generate_makes_clamped_distinct_usable_keys)
{
	struct keys_secret *a = keys_secret_new(), *b = keys_secret_new();
	uint8_t pa[KEYS_LEN], pb[KEYS_LEN];
	int i;

	cr_assert(a && b);
	for (i = 0; i < 64; i++) {
		keys_generate(a);
		keys_generate(b);
		cr_assert_eq(a->key[0] & 7, 0);
		cr_assert_eq(a->key[31] & 0xc0, 0x40);
		cr_assert_eq(b->key[0] & 7, 0);
		cr_assert_eq(b->key[31] & 0xc0, 0x40);
		cr_assert_neq(memcmp(a->key, b->key, KEYS_LEN), 0);
		cr_assert_eq(keys_public(pa, a), 0);
		cr_assert_eq(keys_public(pb, b), 0);
		cr_assert_neq(memcmp(pa, pb, KEYS_LEN), 0);
	}
	keys_secret_free(a);
	keys_secret_free(b);
}

Test(keys, fingerprint_is_the_first_8_base64_characters)
{
	char fp[9];

	memset(fp, 'x', sizeof(fp));
	keys_fingerprint(fp, alice_pub);
	cr_expect_str_eq(fp, "hSDwCYkw");
}

/* Key files, in a directory made for each test and removed after it. */

static char dir[] = "/tmp/tbkeys.XXXXXX";
static bool dir_made;

static void dir_make(void)
{
	cr_assert_not_null(mkdtemp(dir));
	dir_made = true;
}

/* KEYDIR: a fresh directory for the test, removed after it */
#define KEYDIR	.init = dir_make, .fini = dir_remove

/* Remove the directory if dir_make made it (.fini runs after a failed
 * assertion too, not after a skip). */
static void dir_remove(void)
{
	char cmd[64];

	if (!dir_made)
		return;
	dir_made = false;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}

/* file(name, mode, content): create dir/name; returns its path (static). */
static const char *file(const char *name, mode_t mode, const char *content)
{
	static char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0, "%s", path);
	cr_assert_eq(write(fd, content, strlen(content)),
		     (ssize_t)strlen(content));
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

/* load(path, where, log): keys_load with stderr caught into log. */
static struct keys_secret *load(const char *path, const char *where,
				char *log, size_t size)
{
	struct keys_secret *s;
	FILE *err = tmpfile();
	size_t n;
	int saved;

	cr_assert_not_null(err);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fileno(err), STDERR_FILENO);
	s = keys_load(path, where);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(err);
	n = fread(log, 1, size - 1, err);
	log[n] = '\0';
	fclose(err);
	return s;
}

/* refused(path, where, msg): keys_load fails and logs exactly msg. */
static void refused(const char *path, const char *where, const char *msg)
{
	char log[1024];
	struct keys_secret *s = load(path, where, log, sizeof(log));

	cr_expect_null(s, "'%s' was accepted", path);
	cr_expect_str_eq(log, msg);
	keys_secret_free(s);
}

Test(keys, load_accepts_a_private_0600_file, KEYDIR)
{
	static const char *const ok[] = {
		ALICE_PRIV_B64,
		ALICE_PRIV_B64 "\n",
		ALICE_PRIV_B64 "\r\n",
		ALICE_PRIV_B64 " \t\n\n",
	};
	struct keys_secret *s;
	char log[1024], name[16];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(name, sizeof(name), "k%zu", i);
		s = load(file(name, 0600, ok[i]), "x.conf:1", log,
			 sizeof(log));
		cr_assert_not_null(s, "content %zu: %s", i, log);
		cr_expect_str_empty(log);
		cr_expect_arr_eq(s->key, alice_priv, KEYS_LEN);
		keys_secret_free(s);
	}
	s = load(file("ro", 0400, ALICE_PRIV_B64), NULL, log, sizeof(log));
	cr_expect_not_null(s, "%s", log);
	keys_secret_free(s);
}

Test(keys, load_refuses_files_open_to_group_or_others, KEYDIR)
{
	static const mode_t modes[] = { 0644, 0640, 0604, 0660, 0601, 0610 };
	const char *path;
	char name[16], msg[512];
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		snprintf(name, sizeof(name), "m%zu", i);
		path = file(name, modes[i], ALICE_PRIV_B64 "\n");
		snprintf(msg, sizeof(msg), "tapbridge.conf:5: key file '%s' is "
			 "open to group or others (run 'chmod 600 %s')\n",
			 path, path);
		refused(path, "tapbridge.conf:5", msg);
	}
}

Test(keys, load_refuses_a_symlink, KEYDIR)
{
	char target[128], link[128], msg[512];

	snprintf(target, sizeof(target), "%s", file("real", 0600,
						      ALICE_PRIV_B64));
	snprintf(link, sizeof(link), "%s/link", dir);
	cr_assert_eq(symlink(target, link), 0);
	snprintf(msg, sizeof(msg), "key file '%s' is a symbolic link (name "
		 "the file itself)\n", link);
	refused(link, NULL, msg);
}

Test(keys, load_refuses_bad_content, KEYDIR)
{
	static const char *const bad[] = {
		"",
		"\n",
		" " ALICE_PRIV_B64 "\n",
		ALICE_PUB_B64 "\n" ALICE_PRIV_B64 "\n",
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC\n",
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=x\n",
		"-----BEGIN PRIVATE KEY-----\n",
	};
	const char *path;
	char name[16], msg[512], big[1000];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name), "b%zu", i);
		path = file(name, 0600, bad[i]);
		snprintf(msg, sizeof(msg), "w:1: key file '%s' does not hold "
			 "a base64 key of 32 bytes\n", path);
		refused(path, "w:1", msg);
	}
	memset(big, ' ', sizeof(big) - 1);
	memcpy(big, ALICE_PRIV_B64, 44);
	big[sizeof(big) - 1] = '\0';
	path = file("big", 0600, big);
	snprintf(msg, sizeof(msg), "key file '%s' does not hold a base64 key "
		 "of 32 bytes\n", path);
	refused(path, NULL, msg);
}

Test(keys, load_refuses_missing_and_irregular_files, KEYDIR)
{
	char path[128], msg[512];

	snprintf(path, sizeof(path), "%s/missing.key", dir);
	snprintf(msg, sizeof(msg), "c:2: cannot open key file '%s': No such "
		 "file or directory\n", path);
	refused(path, "c:2", msg);

	snprintf(msg, sizeof(msg), "key file '%s' is not a regular file\n",
		 dir);
	refused(dir, NULL, msg);

	/* A FIFO must not block the open. */
	snprintf(path, sizeof(path), "%s/fifo", dir);
	cr_assert_eq(mkfifo(path, 0600), 0);
	snprintf(msg, sizeof(msg), "key file '%s' is not a regular file\n",
		 path);
	refused(path, NULL, msg);
}

/* No .init: a skipped test does not run .fini, so make nothing before the
 * skip; .fini removes the directory made after it, also when an assertion
 * ends the test. */
Test(keys, load_refuses_a_file_owned_by_someone_else, .fini = dir_remove)
{
	const char *path;
	char msg[512];

	if (getuid() != 0)
		cr_skip_test("needs root to give a file away");
	dir_make();
	path = file("other", 0600, ALICE_PRIV_B64);
	cr_assert_eq(chown(path, 4242, (gid_t)-1), 0);
	snprintf(msg, sizeof(msg), "t:3: key file '%s' is owned by uid 4242, "
		 "not root (run 'chown root %s')\n", path, path);
	refused(path, "t:3", msg);
}
