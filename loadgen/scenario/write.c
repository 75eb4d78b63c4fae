/* write — the resolved scenario as INI (the run directory's scenario.ini):
 * every key of the table in its section, the sysctl sections, the sweep
 * and the [expect] list. ct_scenario_load reads it back to an equal
 * scenario. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/units.h"
#include "loadgen/scenario/scenario_int.h"

/* A text member, or NULL while unset (F_DEFOUT: its default). */
static const char *text_of(const struct ct_scn_key *k, const void *p)
{
	const char *v = k->kind == K_COND ? ((const struct ct_cond *)p)->text : *(char *const *)p;

	return !v && (k->flags & F_DEFOUT) ? k->def : v;
}

static void write_key(const struct ct_scenario *sc, const struct ct_scn_key *k, FILE *o)
{
	const void *p = ct_scn_cmember(sc, k);
	const uint16_t *lohi = p;
	const char *v;
	char b[48];

	switch (k->kind) {
	case K_TEXT:
	case K_QTEXT:
	case K_COND:
		if ((v = text_of(k, p)))
			fprintf(o, k->kind == K_TEXT ? "%s = %s\n" : "%s = \"%s\"\n", k->key, v);
		break;
	case K_DUR:
		if (*(const uint64_t *)p || !(k->flags & F_OMIT0))
			fprintf(o, "%s = %s\n", k->key,
				ct_fmt_duration_exact(*(const uint64_t *)p, b, sizeof(b)));
		break;
	case K_RATE:
		if (*(const double *)p > 0 || !(k->flags & F_OMIT0))
			fprintf(o, "%s = %.17g/s\n", k->key, *(const double *)p);
		break;
	case K_NUM:
		fprintf(o, "%s = %.17g\n", k->key, *(const double *)p);
		break;
	case K_COUNT:
		if ((k->flags & F_OMIT0) && !k->is_signed && !ct_scn_count_get(sc, k))
			break;
		if (k->is_signed)
			fprintf(o, "%s = %d\n", k->key, *(const int *)p);
		else
			fprintf(o, "%s = %llu\n", k->key,
				(unsigned long long)ct_scn_count_get(sc, k));
		break;
	case K_BOOL:
		fprintf(o, "%s = %s\n", k->key, *(const bool *)p ? "yes" : "no");
		break;
	case K_ENUM:
		fprintf(o, "%s = %s\n", k->key, ct_scn_name_of(k->names, *(const unsigned *)p));
		break;
	case K_PORTS:
		if (!lohi[0] && (k->flags & F_OMIT0))
			break;
		if (lohi[0] == lohi[1] && !(k->flags & F_PAIR))
			fprintf(o, "%s = %u\n", k->key, lohi[0]);
		else
			fprintf(o, "%s = %u-%u\n", k->key, lohi[0], lohi[1]);
		break;
	case K_LIST:
		break; /* written with its section */
	}
}

static void write_keys(const struct ct_scenario *sc, const char *section, FILE *o)
{
	for (size_t i = 0; i < ct_scn_nkeys; i++)
		if (strcmp(ct_scn_keys[i].section, section) == 0)
			write_key(sc, &ct_scn_keys[i], o);
}

static void write_sysctl(const struct ct_scenario *sc, enum ct_sysctl_scope s, FILE *o)
{
	if (!sc->sysctl[s].n)
		return;
	fprintf(o, "\n[sysctl.%s]\n", ct_sysctl_scope_name(s));
	for (size_t i = 0; i < sc->sysctl[s].n; i++)
		fprintf(o, "%s = %s\n", sc->sysctl[s].v[i].key, sc->sysctl[s].v[i].value);
}

static void write_sweep(const struct ct_scenario *sc, FILE *o)
{
	if (!sc->n_sweep)
		return;
	fprintf(o, "\n[sweep]\n");
	for (size_t i = 0; i < sc->n_sweep; i++) {
		fprintf(o, "%s = ", sc->sweep[i].key);
		for (size_t j = 0; j < sc->sweep[i].n; j++)
			fprintf(o, "%s%s", j ? "," : "", sc->sweep[i].values[j]);
		fprintf(o, "\n");
	}
}

static void write_expect(const struct ct_scenario *sc, FILE *o)
{
	if (!sc->n_expect)
		return;
	fprintf(o, "\n[expect]\n");
	for (size_t i = 0; i < sc->n_expect; i++)
		fprintf(o, "check = %s\n", sc->expect[i].text);
}

int ct_scenario_write(const struct ct_scenario *sc, FILE *out)
{
	if (!sc || !out)
		return -EINVAL;
	fprintf(out, "; resolved by ctload from %s\n", sc->path ? sc->path : "(memory)");
	for (size_t i = 0; i < ct_scn_nsections; i++) {
		const struct ct_scn_section *s = &ct_scn_sections[i];

		switch (s->kind) {
		case SEC_KEYS:
			/* [search] is there only when the run searches. */
			if (strcmp(s->name, "search") == 0 && !sc->search.enabled)
				break;
			/* [dpdk] only for the engine that reads it. */
			if (strcmp(s->name, "dpdk") == 0 && sc->load.engine != CT_ENGINE_DPDK &&
			    sc->server.engine != CT_SRVENG_RESPONDER_DPDK)
				break;
			fprintf(out, "%s[%s]\n", i ? "\n" : "", s->name);
			write_keys(sc, s->name, out);
			break;
		case SEC_SYSCTL:
			write_sysctl(sc, s->scope, out);
			break;
		case SEC_SWEEP:
			write_sweep(sc, out);
			break;
		case SEC_EXPECT:
			write_expect(sc, out);
			break;
		}
	}
	if (fflush(out) != 0 || ferror(out))
		return -EIO;
	return 0;
}
