/*
 * config_words.c -- one line of tapbridge.conf into words; see
 * config_impl.h.
 *
 * Blanks (space, tab) separate words, '#' outside a quoted word starts a
 * comment, "..." groups a word that may hold blanks and '#', with \" and
 * \\ its only escapes.  Control characters (NUL included) are refused
 * anywhere.  Each source byte yields at most one output byte and each word
 * one NUL, so the line's buffer cannot overflow.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config_impl.h"

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool is_ctrl(char ch)
{
	return (unsigned char)ch < 0x20 || ch == 0x7f;
}

/* bad_char(ch, why): control character ch (NUL too); returns -1. */
static int bad_char(char ch, char why[CV_WHY_MAX])
{
	snprintf(why, CV_WHY_MAX, "invalid character '\\x%02x'",
		 (unsigned char)ch);
	return -1;
}

static int fail(char why[CV_WHY_MAX], const char *msg)
{
	snprintf(why, CV_WHY_MAX, "%s", msg);
	return -1;
}

/* quoted(s, len, i, o, why): the "..." word at s[*i] into *o; 0 or -1. */
static int quoted(const char *s, size_t len, size_t *i, char **o,
		  char why[CV_WHY_MAX])
{
	size_t k = *i + 1;

	for (;;) {
		if (k == len)
			return fail(why, "unterminated quoted string");
		if (s[k] == '"')
			break;
		if (s[k] == '\\') {
			if (k + 1 == len || (s[k + 1] != '"' &&
					     s[k + 1] != '\\'))
				return fail(why, "only \\\" and \\\\ may "
					    "follow '\\' in a quoted string");
			k++;
		}
		if (is_ctrl(s[k]))
			return bad_char(s[k], why);
		*(*o)++ = s[k++];
	}
	k++;
	if (k < len && !is_blank(s[k]) && s[k] != '#')
		return fail(why, "missing space after closing '\"'");
	*i = k;
	return 0;
}

/* bare(s, len, i, o, why): the unquoted word at s[*i] into *o; 0 or -1. */
static int bare(const char *s, size_t len, size_t *i, char **o,
		char why[CV_WHY_MAX])
{
	size_t k = *i;

	for (; k < len && !is_blank(s[k]) && s[k] != '#'; k++) {
		if (s[k] == '"')
			return fail(why, "unexpected '\"' inside a word");
		if (is_ctrl(s[k]))
			return bad_char(s[k], why);
		*(*o)++ = s[k];
	}
	*i = k;
	return 0;
}

int cw_split(struct cw_line *l, const char *s, size_t len,
	     char why[CV_WHY_MAX])
{
	char *o = l->buf;
	size_t i = 0;
	int r;

	/* The caller has refused longer lines; buf is sized for them. */
	if (len > LINE_MAX_LEN) {
		snprintf(why, CV_WHY_MAX, "line is longer than %d characters",
			 LINE_MAX_LEN);
		return -1;
	}
	for (l->nwords = 0;; l->nwords++) {
		while (i < len && is_blank(s[i]))
			i++;
		if (i == len || s[i] == '#')
			return 0;
		if (l->nwords < CW_WORDS_MAX) {
			l->word[l->nwords] = o;
			l->quoted[l->nwords] = s[i] == '"';
		}
		if (s[i] == '"')
			r = quoted(s, len, &i, &o, why);
		else
			r = bare(s, len, &i, &o, why);
		if (r < 0)
			return -1;
		*o++ = '\0';
	}
}
