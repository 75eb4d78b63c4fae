/* scenario — the entry of the folder: load (defaults, the file, the
 * overrides, the sweep, the checks across keys), copy, compare, free. The
 * keys themselves are in keys.def; see scenario_int.h for who does what. */
#include "loadgen/scenario/scenario.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/scenario/scenario_int.h"

enum ct_client_close ct_scenario_client_close(const struct ct_scenario *sc)
{
	if (sc->load.close != CT_CCLOSE_AUTO)
		return sc->load.close;
	return sc->scenario.topology == CT_TOPO_LAB && sc->server.close != CT_SRV_CLOSE_CLIENT
		   ? CT_CCLOSE_WAIT
		   : CT_CCLOSE_FIN;
}

/* ---------------------------------------------------------------- load */

/* The --set overrides, "section.key=value" each. */
static int apply_sets(struct ct_scenario *sc, char *const *sets, size_t n_set, struct ct_err *err)
{
	for (size_t i = 0; i < n_set; i++) {
		const char *eq = sets[i] ? strchr(sets[i], '=') : NULL;
		char key[160];

		if (!eq) {
			ct_err_set(err, CT_EXIT_USAGE,
				   "--set %s: write section.key=value, e.g. --set load.rate=800/s",
				   sets[i] ? sets[i] : "");
			return -EINVAL;
		}
		ct_scn_fmt(key, sizeof(key), "%.*s", (int)(eq - sets[i]), sets[i]);
		if (ct_scenario_set(sc, key, eq + 1, err) < 0)
			return -EINVAL;
	}
	return 0;
}

/* The checks across keys, each message at the line of the key it is about. */
static int check_file(const struct ct_scenario *sc, const struct ct_scn_file *file,
		      struct ct_err *err)
{
	int at[AT_N] = {0};

	at[AT_TOPO] = ct_scn_file_line(file, "scenario", "topology");
	at[AT_TARGET] = ct_scn_file_line(file, "server", "target");
	at[AT_RATE] = ct_scn_file_line(file, "load", "rate");
	at[AT_PROFILE] = ct_scn_file_line(file, "load", "profile");
	at[AT_PORTS] = ct_scn_file_line(file, "load", "ports");
	at[AT_CTON] = ct_scn_file_line(file, "lab", "conntrack_on");
	at[AT_LOAD] = file->line_load;
	at[AT_EXPECT] = ct_scn_file_line(file, "load", "expect");
	at[AT_PRELOAD] = ct_scn_file_line(file, "lab", "preload");
	at[AT_PRELOAD_TIMEOUT] = ct_scn_file_line(file, "lab", "preload_timeout");
	at[AT_SCEN] = file->line_scenario;
	at[AT_SRVENG] = ct_scn_file_line(file, "server", "engine");
	return ct_scn_check_whole(sc, &(struct ct_scn_where){file->path, 0}, at, err);
}

struct ct_scenario *ct_scenario_load(const char *path, char *const *sets, size_t n_set,
				     struct ct_err *err)
{
	struct ct_scn_file file = {0};
	struct ct_scenario *sc = NULL;
	struct ct_err dummy;
	int rc = -ENOMEM;

	if (!err)
		err = &dummy;
	err->msg[0] = '\0';
	if (!path) {
		ct_err_set(err, CT_EXIT_USAGE, "no scenario file given");
		errno = EINVAL;
		return NULL;
	}
	sc = calloc(1, sizeof(*sc));
	if (!sc || !(sc->path = strdup(path))) {
		ct_err_set(err, CT_EXIT_USAGE, "out of memory");
		goto fail;
	}
	if ((rc = ct_scn_defaults(sc, err)) < 0 ||
	    (rc = ct_scn_read_file(sc, path, &file, err)) < 0)
		goto fail;
	rc = -EINVAL;
	if (apply_sets(sc, sets, n_set, err) < 0 ||
	    ct_scn_sweep_build(sc, path, file.sweep, file.n_sweep, err) < 0 ||
	    check_file(sc, &file, err) < 0)
		goto fail;
	if ((rc = ct_scn_defaults_late(sc)) < 0) {
		ct_err_set(err, CT_EXIT_USAGE, "out of memory");
		goto fail;
	}
	ct_scn_file_release(&file);
	return sc;
fail:
	ct_scn_file_release(&file);
	ct_scenario_free(sc);
	errno = -rc;
	return NULL;
}

/* ---------------------------------------------------------------- dup/free */

static int dup_lists(struct ct_scenario *d, const struct ct_scenario *sc)
{
	for (int s = 0; s < CT_SYSCTL_NSCOPES; s++) {
		if (!sc->sysctl[s].n)
			continue;
		d->sysctl[s].v = malloc(sc->sysctl[s].n * sizeof(*d->sysctl[s].v));
		if (!d->sysctl[s].v)
			return -ENOMEM;
		memcpy(d->sysctl[s].v, sc->sysctl[s].v, sc->sysctl[s].n * sizeof(*d->sysctl[s].v));
		d->sysctl[s].n = sc->sysctl[s].n;
	}
	if (sc->n_expect && !(d->expect = calloc(sc->n_expect, sizeof(*d->expect))))
		return -ENOMEM;
	for (size_t i = 0; i < sc->n_expect; i++, d->n_expect++) {
		d->expect[i].line = sc->expect[i].line;
		memcpy(d->expect[i].set, sc->expect[i].set, sizeof(d->expect[i].set));
		if (!(d->expect[i].text = strdup(sc->expect[i].text)))
			return -ENOMEM;
	}
	if (sc->n_sweep && !(d->sweep = calloc(sc->n_sweep, sizeof(*d->sweep))))
		return -ENOMEM;
	for (size_t i = 0; i < sc->n_sweep; i++) {
		struct ct_sweep_axis *a = &d->sweep[i];

		d->n_sweep++;
		memcpy(a->key, sc->sweep[i].key, sizeof(a->key));
		a->line = sc->sweep[i].line;
		for (size_t j = 0; j < sc->sweep[i].n; j++)
			if (ct_scn_axis_push(a, sc->sweep[i].values[j]) < 0)
				return -ENOMEM;
	}
	return 0;
}

struct ct_scenario *ct_scenario_dup(const struct ct_scenario *sc)
{
	struct ct_scenario *d;

	if (!sc) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	*d = *sc;
	/* Clear every pointer first so a failure half-way frees only ours. */
	d->path = NULL;
	d->sweep = NULL;
	d->n_sweep = 0;
	d->expect = NULL;
	d->n_expect = 0;
	for (int s = 0; s < CT_SYSCTL_NSCOPES; s++) {
		d->sysctl[s].v = NULL;
		d->sysctl[s].n = 0;
	}
	if (ct_scn_keys_dup(d, sc) < 0 || (sc->path && !(d->path = strdup(sc->path))) ||
	    dup_lists(d, sc) < 0) {
		ct_scenario_free(d);
		errno = ENOMEM;
		return NULL;
	}
	return d;
}

void ct_scenario_free(struct ct_scenario *sc)
{
	if (!sc)
		return;
	free(sc->path);
	ct_scn_keys_free(sc);
	for (int s = 0; s < CT_SYSCTL_NSCOPES; s++)
		free(sc->sysctl[s].v);
	for (size_t i = 0; i < sc->n_expect; i++)
		free(sc->expect[i].text);
	free(sc->expect);
	for (size_t i = 0; i < sc->n_sweep; i++)
		ct_scn_axis_free(&sc->sweep[i]);
	free(sc->sweep);
	free(sc);
}

/* ---------------------------------------------------------------- equal */

static bool lists_equal(const struct ct_scenario *a, const struct ct_scenario *b)
{
	for (int s = 0; s < CT_SYSCTL_NSCOPES; s++) {
		if (a->sysctl[s].n != b->sysctl[s].n)
			return false;
		for (size_t i = 0; i < a->sysctl[s].n; i++)
			if (strcmp(a->sysctl[s].v[i].key, b->sysctl[s].v[i].key) != 0 ||
			    strcmp(a->sysctl[s].v[i].value, b->sysctl[s].v[i].value) != 0)
				return false;
	}
	if (a->n_sweep != b->n_sweep || a->n_expect != b->n_expect)
		return false;
	for (size_t i = 0; i < a->n_sweep; i++) {
		if (strcmp(a->sweep[i].key, b->sweep[i].key) != 0 || a->sweep[i].n != b->sweep[i].n)
			return false;
		for (size_t j = 0; j < a->sweep[i].n; j++)
			if (strcmp(a->sweep[i].values[j], b->sweep[i].values[j]) != 0)
				return false;
	}
	for (size_t i = 0; i < a->n_expect; i++)
		if (strcmp(a->expect[i].text, b->expect[i].text) != 0)
			return false;
	return true;
}

bool ct_scenario_equal(const struct ct_scenario *a, const struct ct_scenario *b)
{
	if (!a || !b)
		return a == b;
	return ct_scn_keys_equal(a, b) && a->search.enabled == b->search.enabled &&
	       lists_equal(a, b);
}

const char *ct_cond_where(const struct ct_scenario *sc, const struct ct_cond *c, const char *what,
			  char *buf, size_t len)
{
	if (c->set[0])
		ct_scn_fmt(buf, len, "%s", c->set);
	else if (c->line > 0)
		ct_scn_fmt(buf, len, "%s:%d: %s '%s'", sc->path, c->line, what, c->text);
	else
		ct_scn_fmt(buf, len, "%s: %s '%s'", sc->path, what, c->text ? c->text : "");
	return buf;
}
