/* role — the one list of lab roles (the netns a lab builds) and their names.
 *
 * The names are the keys of a sample's "ns" object, of [sysctl.ROLE] sections
 * and of the report's series. CT_ROLE_HOST is the host itself (topology =
 * host), which has samples but no lab netns. */
#pragma once

enum ct_role {
	CT_ROLE_CLIENT = 0,
	CT_ROLE_SERVER,
	CT_ROLE_ROUTER,
	CT_ROLE_NLAB, /* the number of lab roles: client, server, router */
	CT_ROLE_HOST = CT_ROLE_NLAB,
	CT_ROLE_N, /* lab roles and the host */
};

/* "client", "server", "router", "host"; NULL when out of range. */
const char *ct_role_name(enum ct_role r);

/* The role of name, or -1 when name is none of them. */
int ct_role_from_name(const char *name);
