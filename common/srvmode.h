/* srvmode — the server's protocol and close policy, shared by ctserver
 * (its --mode/--close) and ctload (a scenario's [server] mode/close). */
#pragma once

enum ct_srv_mode {
	CT_SRV_MEMCACHE,
	CT_SRV_ECHO,
	CT_SRV_HTTP, /* GET/HEAD answered with --body bytes, Connection: close */
};

/* Who closes first, hence where TIME_WAIT lands. */
enum ct_srv_close {
	CT_SRV_CLOSE_CLIENT, /* reply, wait for the client's FIN: TIME_WAIT on the client */
	CT_SRV_CLOSE_SERVER, /* close after the reply: TIME_WAIT on the server */
	CT_SRV_CLOSE_RST,    /* SO_LINGER 0 then close: RST, no TIME_WAIT anywhere */
};

/* "memcache"/"echo"/"http" and "client"/"server"/"rst", as written by users. */
const char *ct_srv_mode_name(enum ct_srv_mode m);
const char *ct_srv_close_name(enum ct_srv_close c);
/* Parse those names: 0, or -EINVAL for anything else. */
int ct_srv_mode_parse(const char *s, enum ct_srv_mode *out);
int ct_srv_close_parse(const char *s, enum ct_srv_close *out);
