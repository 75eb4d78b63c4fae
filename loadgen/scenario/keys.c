/* keys — the key table (keys.def) compiled: lookups by section and key,
 * the enum names, the defaults, and copying, freeing and comparing the
 * members the table lists. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/text.h"
#include "loadgen/base/role.h"
#include "loadgen/scenario/scenario_int.h"
#include "server/config.h"

/* ---------------------------------------------------------------- names */

/* In enum order; the names a file writes. */
static const char *const ct_scn_topo_names[] = {"lab", "host", NULL};
static const char *const ct_scn_path_names[] = {"direct", "router", "nat", NULL};
static const char *const ct_scn_cton_names[] = {"server", "router", "none", NULL};
static const char *const ct_scn_preload_state_names[] = {"time_wait", "established", NULL};
static const char *const ct_scn_mode_names[] = {"memcache", "echo", "http", NULL};
static const char *const ct_scn_sclose_names[] = {"client", "server", "rst", NULL};
static const char *const ct_scn_engine_names[] = {"kernel", "pcap", "dpdk", NULL};
static const char *const ct_scn_srveng_names[] = {"ctserver", "responder", "responder-dpdk", NULL};
static const char *const ct_scn_profile_names[] = {"constant", "ramp", "step", "poisson", NULL};
static const char *const ct_scn_ports_names[] = {"kernel", "bind", "range", NULL};
static const char *const ct_scn_cclose_names[] = {"fin", "rst", "wait", "auto", NULL};
static const char *const ct_scn_cool_names[] = {"fresh-netns", "drain", "none", NULL};
static const char *const ct_scn_sustain_names[] = {"check", "prove", "off", NULL};

const char *ct_scn_name_of(const char *const *names, unsigned v)
{
	for (unsigned i = 0; names[i]; i++)
		if (i == v)
			return names[i];
	return "?";
}

#define NAME_FN(fn, type, arr)                                                                     \
	const char *fn(type v)                                                                     \
	{                                                                                          \
		return ct_scn_name_of(arr, (unsigned)v);                                           \
	}

NAME_FN(ct_topology_name, enum ct_topology, ct_scn_topo_names)
NAME_FN(ct_lab_path_name, enum ct_lab_path, ct_scn_path_names)
NAME_FN(ct_ct_on_name, enum ct_ct_on, ct_scn_cton_names)
NAME_FN(ct_preload_state_name, enum ct_preload_state, ct_scn_preload_state_names)
NAME_FN(ct_engine_kind_name, enum ct_engine_kind, ct_scn_engine_names)
NAME_FN(ct_srv_engine_name, enum ct_srv_engine, ct_scn_srveng_names)
NAME_FN(ct_profile_name, enum ct_profile, ct_scn_profile_names)
NAME_FN(ct_port_strategy_name, enum ct_port_strategy, ct_scn_ports_names)
NAME_FN(ct_client_close_name, enum ct_client_close, ct_scn_cclose_names)
NAME_FN(ct_cooldown_name, enum ct_cooldown, ct_scn_cool_names)
NAME_FN(ct_sustain_mode_name, enum ct_sustain_mode, ct_scn_sustain_names)

const char *ct_sysctl_scope_name(enum ct_sysctl_scope v)
{
	const char *n = ct_role_name((enum ct_role)v);

	return n ? n : "?";
}

/* ---------------------------------------------------------------- the table */

#define SC_M(m) (((struct ct_scenario *)0)->m)

/* What member type each kind stores (checked below, at compile time). */
#define FITS_K_TEXT(m)	_Generic(SC_M(m), char * : 1, default : 0)
#define FITS_K_QTEXT(m) FITS_K_TEXT(m)
#define FITS_K_COND(m)	_Generic(SC_M(m), struct ct_cond : 1, default : 0)
#define FITS_K_DUR(m)	_Generic(SC_M(m), uint64_t : 1, default : 0)
#define FITS_K_RATE(m)	_Generic(SC_M(m), double : 1, default : 0)
#define FITS_K_NUM(m)	FITS_K_RATE(m)
#define FITS_K_COUNT(m) _Generic(SC_M(m), unsigned : 1, int : 1, uint64_t : 1, default : 0)
#define FITS_K_BOOL(m)	_Generic(SC_M(m), bool : 1, default : 0)
#define FITS_K_ENUM(m)	(sizeof(SC_M(m)) == sizeof(int))
#define FITS_K_PORTS(m) _Generic(SC_M(m), uint16_t : 1, default : 0)
#define FITS_K_LIST(m)	_Generic(SC_M(m), struct ct_cond * : 1, default : 0)

#define KEY(sec, k, kind, m, nm, lo, hi, fl, setter, dflt, ty, ddoc, dc)                           \
	_Static_assert(FITS_##kind(m), "[" sec "] " k ": member " #m " does not fit " #kind);
#include "loadgen/scenario/keys.def"
#undef KEY

/* K_PORTS keeps HI right after LO. */
_Static_assert(offsetof(struct ct_scenario, server.port_hi) ==
		   offsetof(struct ct_scenario, server.port_lo) + sizeof(uint16_t),
	       "server.port_hi follows port_lo");
_Static_assert(offsetof(struct ct_scenario, load.port_hi) ==
		   offsetof(struct ct_scenario, load.port_lo) + sizeof(uint16_t),
	       "load.port_hi follows port_lo");

#define IS_INT(m) _Generic(SC_M(m), int : true, default : false)

/* clang-format off */
#define KEY(sec, k, kind_, m, nm, lo, hi, fl, setter, dflt, ty, ddoc, dc)                          \
	{.section = sec, .key = k, .kind = kind_, .off = offsetof(struct ct_scenario, m),          \
	 .size = sizeof(SC_M(m)), .is_signed = IS_INT(m), .names = nm, .min = lo, .max = hi,       \
	 .flags = fl, .set = setter, .def = dflt, .type = ty, .def_doc = ddoc, .doc = dc},
/* clang-format on */
const struct ct_scn_key ct_scn_keys[] = {
#include "loadgen/scenario/keys.def"
};
#undef KEY

const size_t ct_scn_nkeys = sizeof(ct_scn_keys) / sizeof(ct_scn_keys[0]);
_Static_assert(sizeof(ct_scn_keys) / sizeof(ct_scn_keys[0]) <= CT_SCN_MAX_KEYS,
	       "raise CT_SCN_MAX_KEYS");

/* In the order a scenario is written; sysctl sections are named by role. */
const struct ct_scn_section ct_scn_sections[] = {
    {"scenario", SEC_KEYS, 0},
    {"lab", SEC_KEYS, 0},
    {"server", SEC_KEYS, 0},
    {"load", SEC_KEYS, 0},
    {NULL, SEC_SYSCTL, CT_SYSCTL_CLIENT},
    {NULL, SEC_SYSCTL, CT_SYSCTL_SERVER},
    {NULL, SEC_SYSCTL, CT_SYSCTL_ROUTER},
    {NULL, SEC_SYSCTL, CT_SYSCTL_HOST},
    {"sweep", SEC_SWEEP, 0},
    {"search", SEC_KEYS, 0},
    {"expect", SEC_EXPECT, 0},
    {"report", SEC_KEYS, 0},
    {"dpdk", SEC_KEYS, 0},
};

const size_t ct_scn_nsections = sizeof(ct_scn_sections) / sizeof(ct_scn_sections[0]);

void *ct_scn_member(struct ct_scenario *sc, const struct ct_scn_key *k)
{
	return (char *)sc + k->off;
}

const void *ct_scn_cmember(const struct ct_scenario *sc, const struct ct_scn_key *k)
{
	return (const char *)sc + k->off;
}

/* ---------------------------------------------------------------- lookups */

const struct ct_scn_key *ct_scn_key_find(const char *section, const char *key)
{
	for (size_t i = 0; i < ct_scn_nkeys; i++)
		if (strcmp(ct_scn_keys[i].section, section) == 0 &&
		    strcmp(ct_scn_keys[i].key, key) == 0)
			return &ct_scn_keys[i];
	return NULL;
}

const char *ct_scn_nearest(const char *s, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t best_d = 4;

	for (size_t i = 0; i < n; i++) {
		size_t d = ct_edit_distance(s, cands[i], true);
		size_t ls = strlen(s), lc = strlen(cands[i]);

		if (d >= 4 && ls >= 3 && (strncasecmp(s, cands[i], ls < lc ? ls : lc) == 0))
			d = 3;
		if (d < best_d) {
			best_d = d;
			best = cands[i];
		}
	}
	return best;
}

/* A section's name: its own, or "sysctl." and the role. */
static const char *section_name(const struct ct_scn_section *s, char *buf, size_t len)
{
	if (s->name)
		return s->name;
	snprintf(buf, len, "sysctl.%s", ct_sysctl_scope_name(s->scope));
	return buf;
}

const char *ct_scn_nearest_section(const char *s, char *buf, size_t len)
{
	char bufs[sizeof(ct_scn_sections) / sizeof(ct_scn_sections[0])][32];
	const char *names[sizeof(ct_scn_sections) / sizeof(ct_scn_sections[0])];
	const char *near;

	for (size_t i = 0; i < ct_scn_nsections; i++)
		names[i] = section_name(&ct_scn_sections[i], bufs[i], sizeof(bufs[i]));
	near = ct_scn_nearest(s, names, ct_scn_nsections);
	if (!near)
		return NULL;
	snprintf(buf, len, "%s", near);
	return buf;
}

const char *ct_scn_nearest_key(const char *section, const char *key)
{
	const char *cands[CT_SCN_MAX_KEYS];
	size_t n = 0;

	for (size_t i = 0; i < ct_scn_nkeys; i++)
		if (strcmp(ct_scn_keys[i].section, section) == 0)
			cands[n++] = ct_scn_keys[i].key;
	return ct_scn_nearest(key, cands, n);
}

bool ct_scn_is_plain_section(const char *section)
{
	for (size_t i = 0; i < ct_scn_nsections; i++)
		if ((ct_scn_sections[i].kind == SEC_KEYS ||
		     ct_scn_sections[i].kind == SEC_EXPECT) &&
		    strcmp(ct_scn_sections[i].name, section) == 0)
			return true;
	return false;
}

int ct_scn_sysctl_scope_of(const char *section, enum ct_sysctl_scope *out)
{
	int r;

	if (strncmp(section, "sysctl.", 7) != 0 || (r = ct_role_from_name(section + 7)) < 0)
		return -EINVAL;
	*out = (enum ct_sysctl_scope)r;
	return 0;
}

bool ct_scn_is_section(const char *section)
{
	enum ct_sysctl_scope scope;

	return ct_scn_is_plain_section(section) || strcmp(section, "sweep") == 0 ||
	       ct_scn_sysctl_scope_of(section, &scope) == 0;
}

/* ---------------------------------------------------------------- values */

uint64_t ct_scn_count_get(const struct ct_scenario *sc, const struct ct_scn_key *k)
{
	const void *p = ct_scn_cmember(sc, k);

	if (k->size == sizeof(uint64_t))
		return *(const uint64_t *)p;
	if (k->is_signed)
		return (uint64_t)(int64_t) * (const int *)p;
	return *(const unsigned *)p;
}

void ct_scn_count_put(struct ct_scenario *sc, const struct ct_scn_key *k, uint64_t n)
{
	void *p = ct_scn_member(sc, k);

	if (k->size == sizeof(uint64_t))
		*(uint64_t *)p = n;
	else if (k->is_signed)
		*(int *)p = (int)n;
	else
		*(unsigned *)p = (unsigned)n;
}

/* K_TEXT, K_QTEXT and K_COND members own a string; where it is. */
static bool owns_str(const struct ct_scn_key *k)
{
	return k->kind == K_TEXT || k->kind == K_QTEXT || k->kind == K_COND;
}

static size_t str_off(const struct ct_scn_key *k)
{
	return k->off + (k->kind == K_COND ? offsetof(struct ct_cond, text) : 0);
}

static char **owned_str(struct ct_scenario *sc, const struct ct_scn_key *k)
{
	return owns_str(k) ? (char **)(void *)((char *)sc + str_off(k)) : NULL;
}

static const char *owned_cstr(const struct ct_scenario *sc, const struct ct_scn_key *k)
{
	return owns_str(k) ? *(char *const *)(const void *)((const char *)sc + str_off(k)) : NULL;
}

/* ---------------------------------------------------------------- defaults */

int ct_scn_defaults(struct ct_scenario *sc, struct ct_err *err)
{
	const struct ct_scn_where w = {"(default)", 0};
	char why[CT_SCN_WHY];

	for (size_t i = 0; i < ct_scn_nkeys; i++) {
		const struct ct_scn_key *k = &ct_scn_keys[i];
		int rc;

		if (!k->def)
			continue;
		rc = ct_scn_store(sc, k, &w, k->def, why, sizeof(why));
		if (rc == -ENOMEM) {
			ct_err_set(err, CT_EXIT_USAGE, "out of memory");
			return rc;
		}
		if (rc < 0) { /* a bug in keys.def, caught by any unit test */
			ct_err_set(err, CT_EXIT_USAGE, "internal: default of [%s] %s: %s",
				   k->section, k->key, why);
			return rc;
		}
	}
	return 0;
}

int ct_scn_defaults_late(struct ct_scenario *sc)
{
	if (!sc->load.request) {
		/* A request that the chosen server mode answers. */
		const char *req = sc->server.mode == CT_SRV_MEMCACHE ? "get k{seq}\\r\\n"
				  : sc->server.mode == CT_SRV_HTTP
				      ? "GET /image/{seq}.jpg HTTP/1.0\\r\\n\\r\\n"
				      : "ping {seq}\\n";

		if (ct_scn_set_str(&sc->load.request, req) < 0)
			return -ENOMEM;
		if (sc->server.mode == CT_SRV_MEMCACHE && !sc->load.expect &&
		    ct_scn_set_str(&sc->load.expect, "END\\r\\n") < 0)
			return -ENOMEM;
		/* ctserver answers every request so (as nginx does a 1.0 one). */
		if (sc->server.mode == CT_SRV_HTTP && !sc->load.expect && !sc->load.expect_start &&
		    ct_scn_set_str(&sc->load.expect_start, "HTTP/1.1 200 ") < 0)
			return -ENOMEM;
	}
	if (!(sc->load.rate_end > 0.0))
		sc->load.rate_end = sc->load.rate;
	return 0;
}

/* ---------------------------------------------------------------- copies */

int ct_scn_keys_dup(struct ct_scenario *d, const struct ct_scenario *sc)
{
	/* Clear every pointer first so a failure half-way frees only ours. */
	for (size_t i = 0; i < ct_scn_nkeys; i++) {
		char **p = owned_str(d, &ct_scn_keys[i]);

		if (p)
			*p = NULL;
	}
	for (size_t i = 0; i < ct_scn_nkeys; i++) {
		char **p = owned_str(d, &ct_scn_keys[i]);
		const char *s = p ? owned_cstr(sc, &ct_scn_keys[i]) : NULL;

		if (s && !(*p = strdup(s)))
			return -ENOMEM;
	}
	return 0;
}

void ct_scn_keys_free(struct ct_scenario *sc)
{
	for (size_t i = 0; i < ct_scn_nkeys; i++) {
		char **p = owned_str(sc, &ct_scn_keys[i]);

		if (p)
			free(*p);
	}
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool key_equal(const struct ct_scenario *a, const struct ct_scenario *b,
		      const struct ct_scn_key *k)
{
	const void *pa = ct_scn_cmember(a, k), *pb = ct_scn_cmember(b, k);

	switch (k->kind) {
	case K_TEXT:
	case K_QTEXT:
	case K_COND:
		return str_eq(owned_cstr(a, k), owned_cstr(b, k));
	case K_DUR:
		return *(const uint64_t *)pa == *(const uint64_t *)pb;
	case K_RATE:
	case K_NUM:
		return *(const double *)pa == *(const double *)pb;
	case K_COUNT:
		return ct_scn_count_get(a, k) == ct_scn_count_get(b, k);
	case K_BOOL:
		return *(const bool *)pa == *(const bool *)pb;
	case K_ENUM:
		return *(const int *)pa == *(const int *)pb;
	case K_PORTS:
		return memcmp(pa, pb, 2 * sizeof(uint16_t)) == 0;
	case K_LIST:
		return true; /* compared with its section */
	}
	return false;
}

bool ct_scn_keys_equal(const struct ct_scenario *a, const struct ct_scenario *b)
{
	for (size_t i = 0; i < ct_scn_nkeys; i++)
		if (!key_equal(a, b, &ct_scn_keys[i]))
			return false;
	return true;
}
