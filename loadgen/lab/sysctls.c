/* sysctls — the lab's [sysctl.*]: host keys in ctload's own netns, the
 * others in their role's netns; each journaled before it is written.
 * Applied at up, again per step (a sweep point's values), and the per-netns
 * ones again in a fresh netns. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "loadgen/host/labstate.h"
#include "loadgen/host/sysctl.h"
#include "loadgen/lab/lab_int.h"

/* Two labs changing the same host key would restore each other's values
 * in the wrong order (the second records the first's value as "old"), so a
 * host key belongs to one lab at a time. */
static int host_key_owner(struct ct_lab *lab, const char *key, char *owner, size_t len)
{
	struct ct_labstate **list = ct_labstate_list(NULL);
	int found = 0;

	if (!list)
		return 0;
	for (struct ct_labstate **p = list; *p && !found; p++) {
		json_t *e;
		size_t i;

		if (!strcmp(ct_labstate_run_id(*p), lab->id))
			continue;
		json_array_foreach(ct_labstate_journal(*p), i, e)
		{
			const char *type = json_string_value(json_object_get(e, "type"));
			const char *k = json_string_value(json_object_get(e, "key"));
			if (type && k && !strcmp(type, "sysctl") && !strcmp(k, key) &&
			    json_is_null(json_object_get(e, "netns"))) {
				if (ct_labstate_persistent(*p))
					snprintf(owner, len, "lab %s", ct_labstate_run_id(*p));
				else
					snprintf(owner, len, "run %s (pid %d)",
						 ct_labstate_run_id(*p),
						 (int)ct_labstate_owner_pid(*p));
				found = 1;
				break;
			}
		}
	}
	ct_labstate_list_free(list);
	return found;
}

int ct_lab_sysctls_apply(struct ct_lab *lab, enum ct_sysctl_scope scope,
			 const struct ct_sysctl_list *list, struct ct_err *err)
{
	enum ct_role r = scope == CT_SYSCTL_CLIENT   ? CT_ROLE_CLIENT
			 : scope == CT_SYSCTL_SERVER ? CT_ROLE_SERVER
						     : CT_ROLE_ROUTER;
	int nsfd = scope == CT_SYSCTL_HOST ? -1 : lab->nsfd[r];
	const char *ns = scope == CT_SYSCTL_HOST ? NULL : lab->ns[r];
	char owner[768];
	struct ct_err why = {.msg = ""};

	if (scope != CT_SYSCTL_HOST && !ns[0])
		return 0;
	/* Buckets first: a max set in the same section is then checked against
	 * the new table, not the old one. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < list->n; i++) {
			const struct ct_sysctl *s = &list->v[i];
			bool buckets = strstr(s->key, "nf_conntrack_buckets") != NULL;
			int ret;

			if ((pass == 0) != buckets)
				continue;
			if (scope == CT_SYSCTL_HOST &&
			    host_key_owner(lab, s->key, owner, sizeof(owner))) {
				ct_err_set(
				    err, CT_EXIT_ENV,
				    "[sysctl.host] %s: already changed by %s, which restores it "
				    "when it ends; take that down first (ctload lab down)",
				    s->key, owner);
				return -EBUSY;
			}
			ret = ct_sysctl_apply(lab->st, ct_sysctl_scope_name(scope), nsfd, ns,
					      s->key, s->value, &why);
			if (ret < 0) {
				if (s->line > 0 && lab->sc->path)
					ct_err_set(err, CT_EXIT_ENV, "%s:%d: [sysctl.%s] %s",
						   lab->sc->path, s->line,
						   ct_sysctl_scope_name(scope), why.msg);
				else
					ct_err_set(err, CT_EXIT_ENV, "[sysctl.%s] %s",
						   ct_sysctl_scope_name(scope), why.msg);
				return ret;
			}
			ct_lab_event(lab, "sysctl %s = %s [%s]", s->key, s->value,
				     ct_sysctl_scope_name(scope));
		}
	}
	return 0;
}

int ct_lab_sysctls_apply_netns(struct ct_lab *lab, const struct ct_scenario *sc, struct ct_err *err)
{
	for (int s = CT_SYSCTL_CLIENT; s <= CT_SYSCTL_ROUTER; s++) {
		int ret = ct_lab_sysctls_apply(lab, (enum ct_sysctl_scope)s, &sc->sysctl[s], err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int ct_lab_apply_sysctls(struct ct_lab *lab, const struct ct_scenario *sc, struct ct_err *err)
{
	struct ct_scenario *copy;
	int ret;

	ct_lab_err_clear(err);
	/* lab->sc becomes `sc` below, and a later fresh netns is built from it. */
	ret = ct_lab_step_check_fixed(lab, sc, err);
	if (ret < 0)
		return ret;
	ret = ct_lab_sysctls_apply(lab, CT_SYSCTL_HOST, &sc->sysctl[CT_SYSCTL_HOST], err);
	if (ret == 0)
		ret = ct_lab_sysctls_apply_netns(lab, sc, err);
	if (ret < 0)
		return ret;
	/* Remember them for a fresh netns. */
	copy = ct_scenario_dup(sc);
	if (!copy)
		return -ENOMEM;
	ct_scenario_free(lab->sc);
	lab->sc = copy;
	return 0;
}
