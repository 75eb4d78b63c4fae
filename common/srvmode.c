#include "common/srvmode.h"

#include <errno.h>
#include <string.h>

static const char *const mode_names[] = {"memcache", "echo", "http"};
static const char *const close_names[] = {"client", "server", "rst"};

const char *ct_srv_mode_name(enum ct_srv_mode m)
{
	return (unsigned)m < 3 ? mode_names[m] : "?";
}

const char *ct_srv_close_name(enum ct_srv_close c)
{
	return (unsigned)c < 3 ? close_names[c] : "?";
}

int ct_srv_mode_parse(const char *s, enum ct_srv_mode *out)
{
	for (unsigned i = 0; i < 3; i++)
		if (!strcmp(s, mode_names[i])) {
			*out = (enum ct_srv_mode)i;
			return 0;
		}
	return -EINVAL;
}

int ct_srv_close_parse(const char *s, enum ct_srv_close *out)
{
	for (unsigned i = 0; i < 3; i++)
		if (!strcmp(s, close_names[i])) {
			*out = (enum ct_srv_close)i;
			return 0;
		}
	return -EINVAL;
}
