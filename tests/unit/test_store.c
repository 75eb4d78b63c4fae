/* store: ctserver's bounded key/value store, with memcached's visible rules. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "server/store.h"

#define NOW 1700000000

struct got {
	char val[64];
	uint32_t flags;
	uint64_t cas;
	int hits;
};

static void on_item(void *arg, const struct ct_store_item_view *v)
{
	struct got *g = arg;

	memcpy(g->val, v->data, v->nbytes - 2);
	g->val[v->nbytes - 2] = '\0';
	g->flags = v->flags;
	g->cas = v->cas;
	g->hits++;
}

static enum ct_store_result put(struct ct_store *st, enum ct_store_op op, const char *k,
				const char *v, int32_t exp, uint64_t cas)
{
	char data[128];

	snprintf(data, sizeof(data), "%s\r\n", v);
	return ct_store_store(st, op, k, strlen(k), 7, exp, data, strlen(v), cas, NOW);
}

static struct got get(struct ct_store *st, const char *k, int64_t now)
{
	struct got g = {0};

	ct_store_get(st, k, strlen(k), now, on_item, &g);
	return g;
}

Test(store, set_get_and_cas_ids)
{
	struct ct_store *st = ct_store_new(1 << 20);

	cr_assert_eq(put(st, CT_STORE_SET, "a", "x", 0, 0), CT_STORE_STORED);
	cr_assert_eq(put(st, CT_STORE_SET, "b", "y", 0, 0), CT_STORE_STORED);
	cr_assert_str_eq(get(st, "a", NOW).val, "x");
	cr_assert_eq(get(st, "a", NOW).cas, 1u);
	cr_assert_eq(get(st, "b", NOW).cas, 2u);
	cr_assert_eq(get(st, "zz", NOW).hits, 0);
	ct_store_free(st);
}

Test(store, add_replace_append_prepend_cas)
{
	struct ct_store *st = ct_store_new(1 << 20);
	uint64_t cas;

	cr_assert_eq(put(st, CT_STORE_REPLACE, "k", "1", 0, 0), CT_STORE_NOT_STORED);
	cr_assert_eq(put(st, CT_STORE_APPEND, "k", "1", 0, 0), CT_STORE_NOT_STORED);
	cr_assert_eq(put(st, CT_STORE_ADD, "k", "mid", 0, 0), CT_STORE_STORED);
	cr_assert_eq(put(st, CT_STORE_ADD, "k", "no", 0, 0), CT_STORE_NOT_STORED);
	cr_assert_eq(put(st, CT_STORE_APPEND, "k", ">", 0, 0), CT_STORE_STORED);
	cr_assert_eq(put(st, CT_STORE_PREPEND, "k", "<", 0, 0), CT_STORE_STORED);
	cr_assert_str_eq(get(st, "k", NOW).val, "<mid>");
	cas = get(st, "k", NOW).cas;
	cr_assert_eq(put(st, CT_STORE_CAS, "k", "new", 0, cas + 1), CT_STORE_EXISTS);
	cr_assert_eq(put(st, CT_STORE_CAS, "k", "new", 0, 0), CT_STORE_EXISTS,
		     "cas 0 never matches");
	cr_assert_eq(put(st, CT_STORE_CAS, "k", "new", 0, cas), CT_STORE_STORED);
	cr_assert_eq(put(st, CT_STORE_CAS, "k", "again", 0, cas), CT_STORE_EXISTS,
		     "the race loser");
	cr_assert_eq(put(st, CT_STORE_CAS, "nope", "x", 0, 1), CT_STORE_NOT_FOUND);
	ct_store_free(st);
}

Test(store, incr_decr_pad_and_grow)
{
	struct ct_store *st = ct_store_new(1 << 20);
	char out[32];

	put(st, CT_STORE_SET, "n", "100", 0, 0);
	cr_assert_eq(ct_store_delta(st, "n", 1, false, 95, NOW, out, sizeof(out)), CT_STORE_STORED);
	cr_assert_str_eq(out, "5");
	cr_assert_str_eq(get(st, "n", NOW).val, "5  ", "memcached pads in place with spaces");
	cr_assert_eq(ct_store_delta(st, "n", 1, true, 1000, NOW, out, sizeof(out)),
		     CT_STORE_STORED);
	cr_assert_str_eq(get(st, "n", NOW).val, "1005");
	cr_assert_eq(ct_store_delta(st, "n", 1, false, 5000, NOW, out, sizeof(out)),
		     CT_STORE_STORED);
	cr_assert_str_eq(out, "0", "decr stops at zero");
	put(st, CT_STORE_SET, "s", "abc", 0, 0);
	cr_assert_eq(ct_store_delta(st, "s", 1, true, 1, NOW, out, sizeof(out)),
		     CT_STORE_NON_NUMERIC);
	cr_assert_eq(ct_store_delta(st, "q", 1, true, 1, NOW, out, sizeof(out)),
		     CT_STORE_NOT_FOUND);
	ct_store_free(st);
}

Test(store, expiry_touch_flush)
{
	struct ct_store *st = ct_store_new(1 << 20);

	put(st, CT_STORE_SET, "neg", "x", -1, 0);
	cr_assert_eq(get(st, "neg", NOW).hits, 0, "negative expiry: gone at once");
	put(st, CT_STORE_SET, "rel", "x", 10, 0);
	cr_assert_eq(get(st, "rel", NOW + 9).hits, 1);
	cr_assert_eq(get(st, "rel", NOW + 10).hits, 0);
	put(st, CT_STORE_SET, "abs", "x", NOW + 100, 0);
	cr_assert_eq(get(st, "abs", NOW + 99).hits, 1, "over 30 days is a unix time");
	cr_assert_eq(get(st, "abs", NOW + 100).hits, 0);
	put(st, CT_STORE_SET, "t", "x", 10, 0);
	cr_assert_eq(ct_store_touch(st, "t", 1, 0, NOW), CT_STORE_TOUCHED);
	cr_assert_eq(get(st, "t", NOW + 1000).hits, 1, "touch 0: never expires");
	ct_store_flush(st, 0, NOW);
	cr_assert_eq(get(st, "t", NOW).hits, 0);
	ct_store_free(st);
}

Test(store, bounded_by_memory_lru_evicts)
{
	struct ct_store *st = ct_store_new(64 * 1024);
	struct ct_store_stats s;
	char k[16];

	for (int i = 0; i < 5000; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		cr_assert_eq(put(st, CT_STORE_SET, k, "0123456789", 0, 0), CT_STORE_STORED);
	}
	ct_store_get_stats(st, &s);
	cr_assert_leq(s.bytes, 64 * 1024u, "never over --memory");
	cr_assert_gt(s.evictions, 0u);
	cr_assert_eq(get(st, "k4999", NOW).hits, 1, "the newest stays");
	cr_assert_eq(get(st, "k0", NOW).hits, 0, "the oldest went first");
	ct_store_free(st);
}

Test(store, reset_stats_restarts_the_counters_not_the_gauges)
{
	struct ct_store *st = ct_store_new(64 * 1024);
	struct ct_store_stats s;
	char k[16];

	for (int i = 0; i < 5000; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		put(st, CT_STORE_SET, k, "0123456789", 0, 0);
	}
	ct_store_reset_stats(st);
	ct_store_get_stats(st, &s);
	cr_assert_eq(s.total_items, 0u, "memcached's stats reset zeroes total_items");
	cr_assert_eq(s.evictions, 0u, "and evictions");
	cr_assert_gt(s.curr_items, 0u, "the items themselves stay");
	cr_assert_gt(s.bytes, 0u);
	put(st, CT_STORE_SET, "new", "x", 0, 0);
	ct_store_get_stats(st, &s);
	cr_assert_eq(s.total_items, 1u, "counting starts again");
	cr_assert_eq(s.evictions, 1u, "the full store evicted one for it");
	ct_store_free(st);
}
