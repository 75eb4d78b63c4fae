/* role — names of the lab roles (see role.h). */
#include "loadgen/base/role.h"

#include <string.h>

static const char *const role_names[CT_ROLE_N] = {
	[CT_ROLE_CLIENT] = "client",
	[CT_ROLE_SERVER] = "server",
	[CT_ROLE_ROUTER] = "router",
	[CT_ROLE_HOST] = "host",
};

const char *ct_role_name(enum ct_role r)
{
	return (unsigned)r < CT_ROLE_N ? role_names[r] : NULL;
}

int ct_role_from_name(const char *name)
{
	for (int r = 0; name && r < CT_ROLE_N; r++)
		if (!strcmp(role_names[r], name))
			return r;
	return -1;
}
