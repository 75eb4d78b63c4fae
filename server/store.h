/* store — ctserver's bounded in-memory key/value store (memcache mode).
 *
 * One hash table and one LRU list behind one mutex: shared by all worker
 * threads, sized by --memory, evicting least recently used items when a
 * new one does not fit. Semantics follow memcached 1.6 where a client can
 * see them: cas ids from one counter bumped on each successful store,
 * append/prepend keep the old flags and expiry, incr/decr rewrite a value
 * in place padded with spaces when the number gets shorter, negative
 * expiry means already expired, expiry over 30 days is a unix time.
 *
 * Values are kept with their trailing "\r\n" so a get copies one block.
 * Times are unix seconds passed in by the caller (tests use fixed ones). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ct_store;

enum ct_store_op {
	CT_STORE_SET,
	CT_STORE_ADD,
	CT_STORE_REPLACE,
	CT_STORE_APPEND,
	CT_STORE_PREPEND,
	CT_STORE_CAS,
};

enum ct_store_result {
	CT_STORE_STORED,
	CT_STORE_NOT_STORED,
	CT_STORE_EXISTS,
	CT_STORE_NOT_FOUND,
	CT_STORE_NO_MEMORY,   /* the item alone is bigger than the whole store */
	CT_STORE_NON_NUMERIC, /* incr/decr on a value that is not a number */
	CT_STORE_DELETED,
	CT_STORE_TOUCHED,
};

/* What a get sees, valid only during the callback. */
struct ct_store_item_view {
	const char *key;
	size_t nkey;
	uint32_t flags;
	const char *data; /* value followed by "\r\n" */
	size_t nbytes;	  /* value length + 2 */
	uint64_t cas;
};

typedef void (*ct_store_get_fn)(void *arg, const struct ct_store_item_view *v);

struct ct_store_stats {
	uint64_t curr_items, total_items, bytes, limit_maxbytes, evictions;
};

/* max_bytes bounds the memory the items take, headers included. */
struct ct_store *ct_store_new(uint64_t max_bytes);
void ct_store_free(struct ct_store *st);

/* Calls fn under the store lock when the key is live; returns whether it was. */
bool ct_store_get(struct ct_store *st, const char *key, size_t nkey, int64_t now,
		  ct_store_get_fn fn, void *arg);
/* data holds vlen bytes + "\r\n". cas is used by CT_STORE_CAS only. */
enum ct_store_result ct_store_store(struct ct_store *st, enum ct_store_op op, const char *key,
				    size_t nkey, uint32_t flags, int32_t exptime, const char *data,
				    size_t vlen, uint64_t cas, int64_t now);
enum ct_store_result ct_store_delete(struct ct_store *st, const char *key, size_t nkey,
				     int64_t now);
/* On CT_STORE_STORED writes the new value as decimal into out (>= 24 bytes). */
enum ct_store_result ct_store_delta(struct ct_store *st, const char *key, size_t nkey, bool incr,
				    uint64_t delta, int64_t now, char *out, size_t out_len);
enum ct_store_result ct_store_touch(struct ct_store *st, const char *key, size_t nkey,
				    int32_t exptime, int64_t now);
/* exptime <= 0: drop everything now; else items not touched since then
 * become invisible at that time (memcached's delayed flush). */
void ct_store_flush(struct ct_store *st, int32_t exptime, int64_t now);
void ct_store_get_stats(struct ct_store *st, struct ct_store_stats *out);
/* `stats reset`: total_items and evictions restart at 0 (the gauges
 * curr_items and bytes stay), as in memcached. */
void ct_store_reset_stats(struct ct_store *st);
