/* reqtmpl — see reqtmpl.h. A template is a list of segments: literal byte
 * ranges of the source text and placeholders. */
#include "loadgen/engine/reqtmpl.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum seg_kind { SEG_LIT, SEG_SEQ, SEG_THREAD, SEG_RAND };

struct seg {
	enum seg_kind kind;
	size_t off, len; /* SEG_LIT: bytes of text */
	uint64_t n;	 /* SEG_RAND: modulus */
};

struct ct_reqtmpl {
	char *text;
	size_t len;
	struct seg *segs;
	size_t nsegs;
	size_t max_len;
};

static int push(struct ct_reqtmpl *t, struct seg s)
{
	if (s.kind == SEG_LIT && t->nsegs && t->segs[t->nsegs - 1].kind == SEG_LIT &&
	    t->segs[t->nsegs - 1].off + t->segs[t->nsegs - 1].len == s.off) {
		t->segs[t->nsegs - 1].len += s.len;
		return 0;
	}
	struct seg *v = realloc(t->segs, (t->nsegs + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->segs = v;
	t->segs[t->nsegs++] = s;
	return 0;
}

/* Parse a placeholder at text[i] == '{'. Returns its length (0 if it is
 * not a placeholder, -EINVAL if it is a malformed {rand:...}). */
static long placeholder(const char *p, size_t left, struct seg *s, struct ct_err *err)
{
	if (left >= 5 && !memcmp(p, "{seq}", 5)) {
		s->kind = SEG_SEQ;
		return 5;
	}
	if (left >= 8 && !memcmp(p, "{thread}", 8)) {
		s->kind = SEG_THREAD;
		return 8;
	}
	if (left >= 6 && !memcmp(p, "{rand:", 6)) {
		const char *end = memchr(p, '}', left);
		if (!end) {
			ct_err_set(err, CT_EXIT_USAGE, "'{rand:' has no closing '}'");
			return -EINVAL;
		}
		char num[24];
		size_t nl = (size_t)(end - (p + 6));
		if (nl == 0 || nl >= sizeof(num)) {
			ct_err_set(err, CT_EXIT_USAGE, "{rand:N} needs a number N between 1 and 2^63");
			return -EINVAL;
		}
		memcpy(num, p + 6, nl);
		num[nl] = 0;
		char *e;
		errno = 0;
		unsigned long long v = strtoull(num, &e, 10);
		if (*e || errno || v == 0 || num[0] == '-') {
			ct_err_set(err, CT_EXIT_USAGE, "{rand:%s}: N must be a whole number >= 1", num);
			return -EINVAL;
		}
		s->kind = SEG_RAND;
		s->n = v;
		return (long)(end - p) + 1;
	}
	return 0;
}

long ct_reqtmpl_unescape(const char *in, char *out)
{
	size_t o = 0;
	for (const char *p = in; *p; p++) {
		if (*p != '\\') {
			out[o++] = *p;
			continue;
		}
		switch (*++p) {
		case 'r':
			out[o++] = '\r';
			break;
		case 'n':
			out[o++] = '\n';
			break;
		case 't':
			out[o++] = '\t';
			break;
		case '\\':
		case '"':
			out[o++] = *p;
			break;
		case 'x': {
			char hex[3] = {p[1], p[1] ? p[2] : 0, 0};
			char *end;
			if (!isxdigit((unsigned char)hex[0]) || !isxdigit((unsigned char)hex[1]))
				return -EINVAL;
			out[o++] = (char)strtoul(hex, &end, 16);
			p += 2;
			break;
		}
		default:
			return -EINVAL;
		}
	}
	out[o] = 0;
	return (long)o;
}

static size_t digits(uint64_t v)
{
	size_t d = 1;
	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

struct ct_reqtmpl *ct_reqtmpl_new(const char *text, size_t len, struct ct_err *err)
{
	struct ct_reqtmpl *t = calloc(1, sizeof(*t));
	int rc = -ENOMEM;
	if (!t)
		goto fail;
	t->text = malloc(len + 1);
	if (!t->text)
		goto fail;
	memcpy(t->text, text, len);
	t->text[len] = 0;
	t->len = len;
	for (size_t i = 0; i < len;) {
		struct seg s = {.kind = SEG_LIT, .off = i, .len = 1};
		long n = text[i] == '{' ? placeholder(text + i, len - i, &s, err) : 0;
		if (n < 0) {
			rc = (int)n;
			goto fail;
		}
		if (n == 0) {
			s.kind = SEG_LIT;
			t->max_len += 1;
			i++;
		} else {
			i += (size_t)n;
			t->max_len += s.kind == SEG_RAND ? digits(s.n - 1) : 20;
		}
		if ((rc = push(t, s)) < 0)
			goto fail;
	}
	return t;
fail:
	ct_reqtmpl_free(t);
	errno = -rc;
	return NULL;
}

void ct_reqtmpl_free(struct ct_reqtmpl *t)
{
	if (!t)
		return;
	free(t->segs);
	free(t->text);
	free(t);
}

size_t ct_reqtmpl_max_len(const struct ct_reqtmpl *t)
{
	return t->max_len;
}

static uint64_t mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* v in decimal into num (at least 20 bytes), its length: snprintf's
 * format machinery was a tenth of the packet engine's work a connection. */
static size_t u64_dec(char *num, uint64_t v)
{
	char tmp[20];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		num[i] = tmp[n - 1 - i];
	return n;
}

int ct_reqtmpl_render(const struct ct_reqtmpl *t, uint64_t seq, unsigned thread, uint64_t seed,
		      char *buf, size_t buflen)
{
	size_t o = 0;
	uint64_t rng = mix(seed ^ mix(seq));
	for (size_t i = 0; i < t->nsegs; i++) {
		const struct seg *s = &t->segs[i];
		char num[24];
		const char *src = num;
		size_t n;
		switch (s->kind) {
		case SEG_LIT:
			src = t->text + s->off;
			n = s->len;
			break;
		case SEG_SEQ:
			n = u64_dec(num, seq);
			break;
		case SEG_THREAD:
			n = u64_dec(num, thread);
			break;
		case SEG_RAND:
		default:
			rng = mix(rng);
			n = u64_dec(num, rng % s->n);
			break;
		}
		if (o + n > buflen)
			return -ENOBUFS;
		memcpy(buf + o, src, n);
		o += n;
	}
	return (int)o;
}
