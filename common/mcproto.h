/* mcproto — the memcached text protocol as a pure parser: bytes in, a
 * decoded command (or the exact error line memcached would answer) out.
 * No sockets, no store, no allocation; the caller owns the buffer.
 *
 * The quirks follow memcached 1.6 (Debian 12's 1.6.18), checked against it
 * by tests/integration/test_ctserver_diff.py: tokens split on ' ' only, a
 * line is cut at its first NUL, "\r" is stripped before "\n" only when the
 * line has more than one byte, numbers are read like strtol/strtoul with a
 * 32-bit truncation, a line whose next-to-last token starts "HTTP/" closes
 * the connection, noreply is honoured on errors too.
 *
 * One deliberate difference: a command whose first byte is the binary
 * magic (0x80) is CT_MC_OP_BINARY at once, answered ERROR and closed, where
 * memcached -B ascii waits for a '\n' that a binary request may never send.
 *
 * Use: ct_mc_parse(buf, len, &cmd). CT_MC_NEED_MORE: no complete line yet.
 * CT_MC_TOO_LONG: the line is over the limit (caller answers
 * CT_MC_TOO_LONG_REPLY and closes without reading further). CT_MC_OK:
 * cmd.consumed bytes form the command line; act on cmd.op (for
 * CT_MC_OP_BINARY, consumed is all of len: nothing after it is text). Storage commands
 * are followed by cmd.vlen data bytes and "\r\n", which the caller gathers
 * and checks with ct_mc_data_ok(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest key memcached accepts. */
#define CT_MC_KEY_MAX 250
/* Bytes buffered without a '\n' before a non-get line is refused (as in
 * memcached, which closes the connection at 2048). */
#define CT_MC_LINE_MAX 2048
/* get/gets lines may be longer (multi-gets); memcached has no bound, we
 * stop at this. */
#define CT_MC_GET_LINE_MAX   (64 * 1024)
#define CT_MC_TOO_LONG_REPLY "CLIENT_ERROR line too long\r\n"
/* The memcached release whose text protocol this parser follows; `version`
 * answers with it, since clients read a numeric major.minor.micro there and
 * pick features by it (libmemcached's tools refuse anything else). */
#define CT_MC_COMPAT_VERSION "1.6.18"
/* First byte of every binary-protocol request. */
#define CT_MC_BINARY_MAGIC 0x80
/* memcached's slab class ids run below this; `stats cachedump` refuses
 * others. */
#define CT_MC_SLAB_CLASSES 64

enum ct_mc_status {
	CT_MC_OK = 0,
	CT_MC_NEED_MORE,
	CT_MC_TOO_LONG,
};

enum ct_mc_op {
	CT_MC_OP_REPLY = 0, /* answer cmd.reply (an error), nothing else */
	CT_MC_OP_CLOSE,	    /* close silently (an HTTP request line) */
	CT_MC_OP_BINARY,    /* a binary-protocol request: answer cmd.reply, close */
	CT_MC_OP_GET,
	CT_MC_OP_GETS,
	CT_MC_OP_SET,
	CT_MC_OP_ADD,
	CT_MC_OP_REPLACE,
	CT_MC_OP_APPEND,
	CT_MC_OP_PREPEND,
	CT_MC_OP_CAS,
	CT_MC_OP_DELETE,
	CT_MC_OP_INCR,
	CT_MC_OP_DECR,
	CT_MC_OP_TOUCH,
	CT_MC_OP_FLUSH_ALL,
	CT_MC_OP_VERSION,
	CT_MC_OP_VERBOSITY,
	CT_MC_OP_STATS,
	CT_MC_OP_STATS_RESET,
	CT_MC_OP_STATS_CACHEDUMP, /* a valid slab class id: list its items */
	CT_MC_OP_QUIT,
};

struct ct_mc_cmd {
	enum ct_mc_op op;
	size_t consumed;   /* bytes of the line including its '\n' */
	bool noreply;	   /* suppress the answer (also an error answer) */
	bool drop_queued;  /* memcached quirk: a get with a key over 250 bytes
			    * also discards the answers queued before it in
			    * the same batch (not yet sent); honour it */
	const char *reply; /* CT_MC_OP_REPLY: the line, without "\r\n" */
	const char *key;   /* single-key commands; not NUL-terminated */
	size_t nkey;
	const char *keys; /* get/gets: the keys, iterate with ct_mc_next_key */
	size_t keys_len;
	uint32_t flags;	 /* storage */
	int32_t exptime; /* storage, touch, flush_all (0 when absent) */
	int32_t vlen;	 /* storage: data bytes that follow (>= 0) */
	uint64_t cas;	 /* cas */
	uint64_t delta;	 /* incr/decr */
	uint32_t level;	 /* verbosity */
};

/* Decode the first line of buf[0..len). See the contract above. */
enum ct_mc_status ct_mc_parse(const char *buf, size_t len, struct ct_mc_cmd *cmd);

/* Next key of a get's key list; *pos starts at 0. Returns false at the end. */
bool ct_mc_next_key(const struct ct_mc_cmd *cmd, size_t *pos, const char **key, size_t *nkey);

/* A storage command's data block (vlen bytes + 2) ends in "\r\n". When it
 * does not, memcached answers "CLIENT_ERROR bad data chunk" and goes on
 * reading commands right after those vlen + 2 bytes. */
bool ct_mc_data_ok(const char *block, size_t vlen);

/* Whether an item of this key and value length is over the item size
 * limit, counted as memcached counts it (its item header included), so the
 * boundary lands within a few bytes of memcached's. */
bool ct_mc_item_too_large(size_t nkey, size_t vlen, uint32_t flags, size_t item_max);

/* memcached's number readers, exposed for the store's incr/decr (which reads
 * the stored value the same way). s need not be NUL-terminated. */
bool ct_mc_strtoull(const char *s, size_t n, uint64_t *out);
bool ct_mc_strtoul32(const char *s, size_t n, uint32_t *out);
bool ct_mc_strtol32(const char *s, size_t n, int32_t *out);
