#include "server/store.h"

#include "common/mcproto.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* memcached's line between a relative expiry and a unix time. */
#define REALTIME_MAXDELTA (60 * 60 * 24 * 30)

struct item {
	struct item *hnext;	  /* hash chain */
	struct item *prev, *next; /* LRU, most recent at head */
	uint64_t cas;
	int64_t exp;  /* unix seconds; 0 = never */
	int64_t time; /* last store, for delayed flush_all */
	uint32_t flags;
	uint32_t nbytes; /* value + "\r\n" */
	uint8_t nkey;
	char kv[]; /* key, then value + "\r\n" */
};

struct ct_store {
	pthread_mutex_t lock;
	struct item **buckets;
	size_t nbuckets; /* power of two */
	struct item *head, *tail;
	uint64_t cas_next;
	int64_t oldest_live; /* delayed flush_all: items stored at or before it are gone */
	struct ct_store_stats st;
};

static uint64_t hash_key(const char *k, size_t n)
{
	/* FNV-1a: short keys, no adversary worth a keyed hash in a lab. */
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)k[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static size_t item_size(const struct item *it)
{
	return sizeof(*it) + it->nkey + it->nbytes;
}

struct ct_store *ct_store_new(uint64_t max_bytes)
{
	struct ct_store *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->nbuckets = 1u << 16;
	st->buckets = calloc(st->nbuckets, sizeof(*st->buckets));
	if (!st->buckets) {
		free(st);
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&st->lock, NULL);
	st->cas_next = 1;
	st->st.limit_maxbytes = max_bytes;
	return st;
}

void ct_store_free(struct ct_store *st)
{
	struct item *it, *next;

	if (!st)
		return;
	for (it = st->head; it; it = next) {
		next = it->next;
		free(it);
	}
	free(st->buckets);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

static void lru_unlink(struct ct_store *st, struct item *it)
{
	if (it->prev)
		it->prev->next = it->next;
	else
		st->head = it->next;
	if (it->next)
		it->next->prev = it->prev;
	else
		st->tail = it->prev;
	it->prev = it->next = NULL;
}

static void lru_push(struct ct_store *st, struct item *it)
{
	it->prev = NULL;
	it->next = st->head;
	if (st->head)
		st->head->prev = it;
	st->head = it;
	if (!st->tail)
		st->tail = it;
}

static struct item **find_slot(struct ct_store *st, const char *key, size_t nkey)
{
	struct item **pp = &st->buckets[hash_key(key, nkey) & (st->nbuckets - 1)];

	while (*pp && !((*pp)->nkey == nkey && memcmp((*pp)->kv, key, nkey) == 0))
		pp = &(*pp)->hnext;
	return pp;
}

static void unlink_item(struct ct_store *st, struct item **slot)
{
	struct item *it = *slot;

	*slot = it->hnext;
	lru_unlink(st, it);
	st->st.curr_items--;
	st->st.bytes -= item_size(it);
	free(it);
}

static bool is_live(const struct ct_store *st, const struct item *it, int64_t now)
{
	if (it->exp != 0 && it->exp <= now)
		return false;
	if (st->oldest_live != 0 && st->oldest_live <= now && it->time <= st->oldest_live)
		return false;
	return true;
}

/* The live item for key, or NULL; a dead one found on the way is freed. */
static struct item **lookup(struct ct_store *st, const char *key, size_t nkey, int64_t now)
{
	struct item **slot = find_slot(st, key, nkey);

	if (*slot && !is_live(st, *slot, now)) {
		unlink_item(st, slot);
		return NULL;
	}
	return *slot ? slot : NULL;
}

static int64_t abs_exptime(int32_t exptime, int64_t now)
{
	if (exptime == 0)
		return 0;
	if (exptime < 0)
		return 1; /* already expired */
	if (exptime > REALTIME_MAXDELTA)
		return exptime <= now ? 1 : exptime;
	return now + exptime;
}

static void grow(struct ct_store *st)
{
	size_t n = st->nbuckets * 2;
	struct item **b = calloc(n, sizeof(*b));

	if (!b)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < st->nbuckets; i++) {
		struct item *it = st->buckets[i], *next;

		for (; it; it = next) {
			size_t h = hash_key(it->kv, it->nkey) & (n - 1);

			next = it->hnext;
			it->hnext = b[h];
			b[h] = it;
		}
	}
	free(st->buckets);
	st->buckets = b;
	st->nbuckets = n;
}

/* Make room for `need` bytes by evicting from the LRU tail. */
static bool make_room(struct ct_store *st, size_t need)
{
	if (need > st->st.limit_maxbytes)
		return false;
	while (st->st.bytes + need > st->st.limit_maxbytes && st->tail) {
		struct item *victim = st->tail;

		unlink_item(st, find_slot(st, victim->kv, victim->nkey));
		st->st.evictions++;
	}
	return true;
}

static struct item *item_new(const char *key, size_t nkey, uint32_t flags, int64_t exp,
			     size_t nbytes, int64_t now)
{
	struct item *it = malloc(sizeof(*it) + nkey + nbytes);

	if (!it)
		return NULL;
	memset(it, 0, sizeof(*it));
	it->flags = flags;
	it->exp = exp;
	it->time = now;
	it->nkey = (uint8_t)nkey;
	it->nbytes = (uint32_t)nbytes;
	memcpy(it->kv, key, nkey);
	return it;
}

/* Puts `it` in place of *slot (or adds it when slot is NULL). */
static void link_item(struct ct_store *st, struct item **slot, struct item *it)
{
	it->cas = st->cas_next++;
	if (slot && *slot)
		unlink_item(st, slot);
	slot = find_slot(st, it->kv, it->nkey);
	it->hnext = NULL;
	*slot = it;
	lru_push(st, it);
	st->st.curr_items++;
	st->st.total_items++;
	st->st.bytes += item_size(it);
	if (st->st.curr_items > st->nbuckets + st->nbuckets / 2)
		grow(st);
}

bool ct_store_get(struct ct_store *st, const char *key, size_t nkey, int64_t now,
		  ct_store_get_fn fn, void *arg)
{
	struct item **slot;
	bool hit = false;

	pthread_mutex_lock(&st->lock);
	slot = lookup(st, key, nkey, now);
	if (slot) {
		struct item *it = *slot;
		struct ct_store_item_view v = {
		    .key = it->kv,
		    .nkey = it->nkey,
		    .flags = it->flags,
		    .data = it->kv + it->nkey,
		    .nbytes = it->nbytes,
		    .cas = it->cas,
		};

		lru_unlink(st, it);
		lru_push(st, it);
		fn(arg, &v);
		hit = true;
	}
	pthread_mutex_unlock(&st->lock);
	return hit;
}

static enum ct_store_result store_locked(struct ct_store *st, enum ct_store_op op, const char *key,
					 size_t nkey, uint32_t flags, int32_t exptime,
					 const char *data, size_t vlen, uint64_t cas, int64_t now)
{
	struct item **slot = lookup(st, key, nkey, now);
	struct item *old = slot ? *slot : NULL, *it;
	size_t nbytes = vlen + 2;

	switch (op) {
	case CT_STORE_SET:
		break;
	case CT_STORE_ADD:
		if (old) {
			lru_unlink(st, old);
			lru_push(st, old);
			return CT_STORE_NOT_STORED;
		}
		break;
	case CT_STORE_REPLACE:
		if (!old)
			return CT_STORE_NOT_STORED;
		break;
	case CT_STORE_CAS:
		if (!old)
			return CT_STORE_NOT_FOUND;
		if (cas == 0 || cas != old->cas)
			return CT_STORE_EXISTS;
		break;
	case CT_STORE_APPEND:
	case CT_STORE_PREPEND:
		if (!old)
			return CT_STORE_NOT_STORED;
		nbytes = old->nbytes + vlen;
		flags = old->flags;
		break;
	}
	if (!make_room(st, sizeof(*it) + nkey + nbytes))
		return CT_STORE_NO_MEMORY;
	/* Eviction may have taken the old item: look again. */
	slot = lookup(st, key, nkey, now);
	old = slot ? *slot : NULL;
	if ((op == CT_STORE_APPEND || op == CT_STORE_PREPEND) && !old)
		return CT_STORE_NOT_STORED;
	it = item_new(key, nkey, flags,
		      (op == CT_STORE_APPEND || op == CT_STORE_PREPEND) ? old->exp
									: abs_exptime(exptime, now),
		      nbytes, now);
	if (!it)
		return CT_STORE_NO_MEMORY;
	if (op == CT_STORE_APPEND) {
		memcpy(it->kv + nkey, old->kv + nkey, old->nbytes - 2);
		memcpy(it->kv + nkey + old->nbytes - 2, data, vlen + 2);
	} else if (op == CT_STORE_PREPEND) {
		memcpy(it->kv + nkey, data, vlen);
		memcpy(it->kv + nkey + vlen, old->kv + nkey, old->nbytes);
	} else {
		memcpy(it->kv + nkey, data, vlen + 2);
	}
	link_item(st, slot, it);
	return CT_STORE_STORED;
}

enum ct_store_result ct_store_store(struct ct_store *st, enum ct_store_op op, const char *key,
				    size_t nkey, uint32_t flags, int32_t exptime, const char *data,
				    size_t vlen, uint64_t cas, int64_t now)
{
	enum ct_store_result r;

	pthread_mutex_lock(&st->lock);
	r = store_locked(st, op, key, nkey, flags, exptime, data, vlen, cas, now);
	pthread_mutex_unlock(&st->lock);
	return r;
}

enum ct_store_result ct_store_delete(struct ct_store *st, const char *key, size_t nkey, int64_t now)
{
	struct item **slot;
	enum ct_store_result r = CT_STORE_NOT_FOUND;

	pthread_mutex_lock(&st->lock);
	slot = lookup(st, key, nkey, now);
	if (slot) {
		unlink_item(st, slot);
		r = CT_STORE_DELETED;
	}
	pthread_mutex_unlock(&st->lock);
	return r;
}

static enum ct_store_result delta_locked(struct ct_store *st, const char *key, size_t nkey,
					 bool incr, uint64_t delta, int64_t now, char *out,
					 size_t out_len)
{
	struct item **slot = lookup(st, key, nkey, now);
	struct item *it, *nit;
	uint64_t v;
	size_t res;

	if (!slot)
		return CT_STORE_NOT_FOUND;
	it = *slot;
	/* The stored bytes are read as memcached reads them: strtoull on the
	 * value and its "\r\n", so " 12" and "1 2x" count as numbers. */
	if (it->nbytes <= 2 || !ct_mc_strtoull(it->kv + it->nkey, it->nbytes, &v))
		return CT_STORE_NON_NUMERIC;
	if (incr)
		v += delta;
	else
		v = delta > v ? 0 : v - delta;
	snprintf(out, out_len, "%" PRIu64, v);
	res = strlen(out);
	if (res + 2 <= it->nbytes) {
		/* In place, padded with spaces: memcached keeps the length. */
		memcpy(it->kv + it->nkey, out, res);
		memset(it->kv + it->nkey + res, ' ', it->nbytes - res - 2);
		it->cas = st->cas_next++;
		lru_unlink(st, it);
		lru_push(st, it);
		return CT_STORE_STORED;
	}
	if (!make_room(st, sizeof(*it) + nkey + res + 2))
		return CT_STORE_NO_MEMORY;
	slot = lookup(st, key, nkey, now);
	if (!slot)
		return CT_STORE_NOT_FOUND;
	it = *slot;
	nit = item_new(key, nkey, it->flags, it->exp, res + 2, now);
	if (!nit)
		return CT_STORE_NO_MEMORY;
	memcpy(nit->kv + nkey, out, res);
	memcpy(nit->kv + nkey + res, "\r\n", 2);
	link_item(st, slot, nit);
	return CT_STORE_STORED;
}

enum ct_store_result ct_store_delta(struct ct_store *st, const char *key, size_t nkey, bool incr,
				    uint64_t delta, int64_t now, char *out, size_t out_len)
{
	enum ct_store_result r;

	pthread_mutex_lock(&st->lock);
	r = delta_locked(st, key, nkey, incr, delta, now, out, out_len);
	pthread_mutex_unlock(&st->lock);
	return r;
}

enum ct_store_result ct_store_touch(struct ct_store *st, const char *key, size_t nkey,
				    int32_t exptime, int64_t now)
{
	struct item **slot;
	enum ct_store_result r = CT_STORE_NOT_FOUND;

	pthread_mutex_lock(&st->lock);
	slot = lookup(st, key, nkey, now);
	if (slot) {
		(*slot)->exp = abs_exptime(exptime, now);
		r = CT_STORE_TOUCHED;
	}
	pthread_mutex_unlock(&st->lock);
	return r;
}

void ct_store_flush(struct ct_store *st, int32_t exptime, int64_t now)
{
	pthread_mutex_lock(&st->lock);
	if (exptime > 0) {
		st->oldest_live = abs_exptime(exptime, now) - 1;
	} else {
		/* memcached spends a cas id on an immediate flush (its
		 * oldest_cas); clients that print cas values see the gap. */
		st->cas_next++;
		while (st->head)
			unlink_item(st, find_slot(st, st->head->kv, st->head->nkey));
		st->oldest_live = 0;
	}
	pthread_mutex_unlock(&st->lock);
}

void ct_store_get_stats(struct ct_store *st, struct ct_store_stats *out)
{
	pthread_mutex_lock(&st->lock);
	*out = st->st;
	pthread_mutex_unlock(&st->lock);
}

void ct_store_reset_stats(struct ct_store *st)
{
	pthread_mutex_lock(&st->lock);
	st->st.total_items = 0;
	st->st.evictions = 0;
	pthread_mutex_unlock(&st->lock);
}
