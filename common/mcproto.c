#include "common/mcproto.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* memcached tokenizes into at most 24 slots, the last one holding the rest
 * of the line; counts below are "ntokens" the way memcached counts them
 * (real tokens + 1), so the token-count rules read as in its source. */
#define MC_MAX_TOKENS 24

struct tok {
	const char *s;
	size_t n;
};

struct line {
	struct tok t[MC_MAX_TOKENS];
	size_t ntokens; /* memcached's count: real tokens (capped at 23) + 1 */
	const char *end;
};

static void tokenize(const char *s, size_t len, struct line *ln)
{
	size_t i = 0, nreal = 0;

	ln->end = s + len;
	while (i < len && nreal < MC_MAX_TOKENS - 1) {
		size_t start;

		while (i < len && s[i] == ' ')
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && s[i] != ' ')
			i++;
		ln->t[nreal].s = s + start;
		ln->t[nreal].n = i - start;
		nreal++;
	}
	ln->ntokens = nreal + 1;
}

static bool tok_is(const struct tok *t, const char *lit)
{
	size_t n = strlen(lit);

	return t->n == n && memcmp(t->s, lit, n) == 0;
}

/* Copy a token into a NUL-terminated scratch so strto* cannot run past it. */
static bool scratch(const char *s, size_t n, char *buf, size_t cap)
{
	if (n >= cap)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return true;
}

/* memcached accepts a number followed by the end or any isspace() byte. */
static bool tail_ok(const char *str, const char *end)
{
	return end != str && (*end == '\0' || isspace((unsigned char)*end));
}

bool ct_mc_strtoull(const char *s, size_t n, uint64_t *out)
{
	char buf[160], *end;
	unsigned long long v;

	if (!scratch(s, n, buf, sizeof(buf)))
		return false;
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno == ERANGE || !tail_ok(buf, end))
		return false;
	/* strtoull takes "-1" as ULLONG_MAX; memcached refuses a sign there. */
	if ((long long)v < 0 && memchr(buf, '-', (size_t)(end - buf)))
		return false;
	*out = v;
	return true;
}

bool ct_mc_strtoul32(const char *s, size_t n, uint32_t *out)
{
	char buf[160], *end;
	unsigned long v;

	if (!scratch(s, n, buf, sizeof(buf)))
		return false;
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (errno == ERANGE || !tail_ok(buf, end))
		return false;
	if ((long)v < 0 && memchr(buf, '-', (size_t)(end - buf)))
		return false;
	/* memcached stores the unsigned long into 32 bits: it truncates. */
	*out = (uint32_t)v;
	return true;
}

bool ct_mc_strtol32(const char *s, size_t n, int32_t *out)
{
	char buf[160], *end;
	long v;

	if (!scratch(s, n, buf, sizeof(buf)))
		return false;
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno == ERANGE || !tail_ok(buf, end))
		return false;
	*out = (int32_t)(uint32_t)(unsigned long)v; /* truncates, as memcached */
	return true;
}

static enum ct_mc_status reply(struct ct_mc_cmd *cmd, const char *line)
{
	cmd->op = CT_MC_OP_REPLY;
	cmd->reply = line;
	return CT_MC_OK;
}

static void noreply_maybe(const struct line *ln, struct ct_mc_cmd *cmd)
{
	if (ln->ntokens >= 2 && tok_is(&ln->t[ln->ntokens - 2], "noreply"))
		cmd->noreply = true;
}

static enum ct_mc_status parse_get(const struct line *ln, struct ct_mc_cmd *cmd)
{
	const char *k;
	size_t pos = 0, nk;

	cmd->keys = ln->t[1].s;
	cmd->keys_len = (size_t)(ln->end - ln->t[1].s);
	/* A key over the limit anywhere fails the whole get, with no VALUE
	 * lines before the error (memcached drops what it had queued). */
	while (ct_mc_next_key(cmd, &pos, &k, &nk))
		if (nk > CT_MC_KEY_MAX) {
			cmd->drop_queued = true;
			return reply(cmd, "CLIENT_ERROR bad command line format");
		}
	return CT_MC_OK;
}

static enum ct_mc_status parse_update(const struct line *ln, struct ct_mc_cmd *cmd, bool with_cas)
{
	noreply_maybe(ln, cmd);
	cmd->key = ln->t[1].s;
	cmd->nkey = ln->t[1].n;
	if (cmd->nkey > CT_MC_KEY_MAX)
		return reply(cmd, "CLIENT_ERROR bad command line format");
	if (!ct_mc_strtoul32(ln->t[2].s, ln->t[2].n, &cmd->flags) ||
	    !ct_mc_strtol32(ln->t[3].s, ln->t[3].n, &cmd->exptime) ||
	    !ct_mc_strtol32(ln->t[4].s, ln->t[4].n, &cmd->vlen))
		return reply(cmd, "CLIENT_ERROR bad command line format");
	if (with_cas && !ct_mc_strtoull(ln->t[5].s, ln->t[5].n, &cmd->cas))
		return reply(cmd, "CLIENT_ERROR bad command line format");
	if (cmd->vlen < 0 || cmd->vlen > INT_MAX - 2)
		return reply(cmd, "CLIENT_ERROR bad command line format");
	return CT_MC_OK;
}

static enum ct_mc_status parse_delete(const struct line *ln, struct ct_mc_cmd *cmd)
{
	if (ln->ntokens > 3) {
		bool hold_zero = tok_is(&ln->t[2], "0");
		bool valid;

		noreply_maybe(ln, cmd);
		valid = (ln->ntokens == 4 && (hold_zero || cmd->noreply)) ||
			(ln->ntokens == 5 && hold_zero && cmd->noreply);
		if (!valid)
			return reply(cmd, "CLIENT_ERROR bad command line format.  "
					  "Usage: delete <key> [noreply]");
	}
	cmd->key = ln->t[1].s;
	cmd->nkey = ln->t[1].n;
	if (cmd->nkey > CT_MC_KEY_MAX)
		return reply(cmd, "CLIENT_ERROR bad command line format");
	return CT_MC_OK;
}

static enum ct_mc_status parse_arith(const struct line *ln, struct ct_mc_cmd *cmd)
{
	noreply_maybe(ln, cmd);
	cmd->key = ln->t[1].s;
	cmd->nkey = ln->t[1].n;
	if (cmd->nkey > CT_MC_KEY_MAX)
		return reply(cmd, "CLIENT_ERROR bad command line format");
	if (!ct_mc_strtoull(ln->t[2].s, ln->t[2].n, &cmd->delta))
		return reply(cmd, "CLIENT_ERROR invalid numeric delta argument");
	return CT_MC_OK;
}

static enum ct_mc_status parse_touch(const struct line *ln, struct ct_mc_cmd *cmd)
{
	noreply_maybe(ln, cmd);
	cmd->key = ln->t[1].s;
	cmd->nkey = ln->t[1].n;
	if (cmd->nkey > CT_MC_KEY_MAX)
		return reply(cmd, "CLIENT_ERROR bad command line format");
	if (!ct_mc_strtol32(ln->t[2].s, ln->t[2].n, &cmd->exptime))
		return reply(cmd, "CLIENT_ERROR invalid exptime argument");
	return CT_MC_OK;
}

static enum ct_mc_status parse_flush(const struct line *ln, struct ct_mc_cmd *cmd)
{
	noreply_maybe(ln, cmd);
	if (ln->ntokens != (cmd->noreply ? 3u : 2u) &&
	    !ct_mc_strtol32(ln->t[1].s, ln->t[1].n, &cmd->exptime))
		return reply(cmd, "CLIENT_ERROR invalid exptime argument");
	return CT_MC_OK;
}

static enum ct_mc_status parse_verbosity(const struct line *ln, struct ct_mc_cmd *cmd)
{
	noreply_maybe(ln, cmd);
	if (!ct_mc_strtoul32(ln->t[1].s, ln->t[1].n, &cmd->level))
		return reply(cmd, "CLIENT_ERROR bad command line format");
	return CT_MC_OK;
}

/* Token-count gates, as memcached's WANT_TOKENS* macros: ERROR otherwise. */
static bool want(const struct line *ln, size_t lo, size_t hi)
{
	return ln->ntokens >= lo && ln->ntokens <= hi;
}

static enum ct_mc_status parse_store(const struct line *ln, struct ct_mc_cmd *cmd)
{
	return parse_update(ln, cmd, false);
}

static enum ct_mc_status parse_cas(const struct line *ln, struct ct_mc_cmd *cmd)
{
	return parse_update(ln, cmd, true);
}

/* stats cachedump <class> <limit>: libmemcached's memcdump walks the class
 * ids with it; the errors are memcached's. */
static enum ct_mc_status parse_cachedump(const struct line *ln, struct ct_mc_cmd *cmd)
{
	uint32_t id, limit;

	if (ln->ntokens < 5)
		return reply(cmd, "CLIENT_ERROR bad command line");
	if (!ct_mc_strtoul32(ln->t[2].s, ln->t[2].n, &id) ||
	    !ct_mc_strtoul32(ln->t[3].s, ln->t[3].n, &limit))
		return reply(cmd, "CLIENT_ERROR bad command line format");
	if (id >= CT_MC_SLAB_CLASSES)
		return reply(cmd, "CLIENT_ERROR Illegal slab id");
	cmd->op = CT_MC_OP_STATS_CACHEDUMP;
	return CT_MC_OK;
}

static enum ct_mc_status parse_stats(const struct line *ln, struct ct_mc_cmd *cmd)
{
	if (ln->ntokens == 2)
		cmd->op = CT_MC_OP_STATS;
	else if (tok_is(&ln->t[1], "reset"))
		cmd->op = CT_MC_OP_STATS_RESET;
	else if (tok_is(&ln->t[1], "cachedump"))
		return parse_cachedump(ln, cmd);
	else
		return reply(cmd, "ERROR");
	return CT_MC_OK;
}

/* The text commands: name, op, memcached's token-count gate (lo..hi, ERROR
 * outside it) and the parser of the rest of the line (NULL: nothing to
 * read). */
static const struct mc_command {
	const char *name;
	enum ct_mc_op op;
	size_t lo, hi;
	enum ct_mc_status (*parse)(const struct line *ln, struct ct_mc_cmd *cmd);
} commands[] = {
    {"get", CT_MC_OP_GET, 3, MC_MAX_TOKENS, parse_get},
    {"gets", CT_MC_OP_GETS, 3, MC_MAX_TOKENS, parse_get},
    {"set", CT_MC_OP_SET, 6, 7, parse_store},
    {"add", CT_MC_OP_ADD, 6, 7, parse_store},
    {"replace", CT_MC_OP_REPLACE, 6, 7, parse_store},
    {"append", CT_MC_OP_APPEND, 6, 7, parse_store},
    {"prepend", CT_MC_OP_PREPEND, 6, 7, parse_store},
    {"cas", CT_MC_OP_CAS, 7, 8, parse_cas},
    {"incr", CT_MC_OP_INCR, 4, 5, parse_arith},
    {"decr", CT_MC_OP_DECR, 4, 5, parse_arith},
    {"delete", CT_MC_OP_DELETE, 3, 5, parse_delete},
    {"touch", CT_MC_OP_TOUCH, 4, 5, parse_touch},
    {"stats", CT_MC_OP_STATS, 2, MC_MAX_TOKENS, parse_stats},
    {"flush_all", CT_MC_OP_FLUSH_ALL, 2, 4, parse_flush},
    {"verbosity", CT_MC_OP_VERBOSITY, 3, 4, parse_verbosity},
    {"version", CT_MC_OP_VERSION, 2, MC_MAX_TOKENS, NULL},
    {"quit", CT_MC_OP_QUIT, 2, MC_MAX_TOKENS, NULL},
};

static enum ct_mc_status dispatch(const struct line *ln, struct ct_mc_cmd *cmd)
{
	/* memcached switches on the first letter and answers ERROR to any
	 * other word that starts with one of these, before the HTTP check. */
	static const char switched[] = "gsacidt";
	const struct tok *c = &ln->t[0];

	if (ln->ntokens < 2 || c->n < 2)
		return reply(cmd, "ERROR");
	/* Meta commands (two letters starting with 'm') are not implemented
	 * beyond the no-op; see docs/ctserver.md. */
	if (c->s[0] == 'm' && c->n == 2)
		return reply(cmd, tok_is(c, "mn") ? "MN" : "ERROR");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct mc_command *k = &commands[i];

		if (!tok_is(c, k->name))
			continue;
		if (!want(ln, k->lo, k->hi))
			return reply(cmd, "ERROR");
		cmd->op = k->op;
		return k->parse ? k->parse(ln, cmd) : CT_MC_OK;
	}
	if (memchr(switched, c->s[0], sizeof(switched) - 1))
		return reply(cmd, "ERROR");
	/* Someone pointed a browser or an HTTP client at us: hang up. */
	if (ln->t[ln->ntokens - 2].n >= 5 && memcmp(ln->t[ln->ntokens - 2].s, "HTTP/", 5) == 0) {
		cmd->op = CT_MC_OP_CLOSE;
		return CT_MC_OK;
	}
	return reply(cmd, "ERROR");
}

static bool starts_get(const char *buf, size_t len)
{
	return (len >= 4 && memcmp(buf, "get ", 4) == 0) ||
	       (len >= 5 && memcmp(buf, "gets ", 5) == 0);
}

enum ct_mc_status ct_mc_parse(const char *buf, size_t len, struct ct_mc_cmd *cmd)
{
	const char *nl = memchr(buf, '\n', len);
	const char *nul;
	struct line ln;
	size_t n;

	memset(cmd, 0, sizeof(*cmd));
	/* A binary client waits for a 24-byte header and may never send a
	 * '\n': answer at once instead of waiting for the line to end. */
	if (len > 0 && (unsigned char)buf[0] == CT_MC_BINARY_MAGIC) {
		cmd->op = CT_MC_OP_BINARY;
		cmd->reply = "ERROR";
		cmd->consumed = len;
		return CT_MC_OK;
	}
	if (!nl) {
		size_t sp = 0;

		if (len <= CT_MC_LINE_MAX)
			return CT_MC_NEED_MORE;
		/* Only a multi-get may be longer than the line limit. */
		while (sp < len && buf[sp] == ' ')
			sp++;
		if (sp > 100 || !starts_get(buf + sp, len - sp) || len > CT_MC_GET_LINE_MAX)
			return CT_MC_TOO_LONG;
		return CT_MC_NEED_MORE;
	}
	cmd->consumed = (size_t)(nl - buf) + 1;
	n = (size_t)(nl - buf);
	if (n > 1 && buf[n - 1] == '\r')
		n--;
	/* memcached works on the line as a C string. */
	nul = memchr(buf, '\0', n);
	if (nul)
		n = (size_t)(nul - buf);
	tokenize(buf, n, &ln);
	return dispatch(&ln, cmd);
}

bool ct_mc_next_key(const struct ct_mc_cmd *cmd, size_t *pos, const char **key, size_t *nkey)
{
	size_t i = *pos, start;

	while (i < cmd->keys_len && cmd->keys[i] == ' ')
		i++;
	if (i >= cmd->keys_len)
		return false;
	start = i;
	while (i < cmd->keys_len && cmd->keys[i] != ' ')
		i++;
	*key = cmd->keys + start;
	*nkey = i - start;
	*pos = i;
	return true;
}

bool ct_mc_data_ok(const char *block, size_t vlen)
{
	return block[vlen] == '\r' && block[vlen + 1] == '\n';
}

bool ct_mc_item_too_large(size_t nkey, size_t vlen, uint32_t flags, size_t item_max)
{
	/* memcached: 48-byte item header, key + NUL, 4 bytes of flags when
	 * non-zero, the data with its "\r\n", and an 8-byte cas. */
	size_t total = 48 + nkey + 1 + (flags ? 4 : 0) + vlen + 2 + 8;

	return total > item_max;
}
