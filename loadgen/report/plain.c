/* plain — a sweep's settings in plain words, for the headline.
 *
 * The headline is read by people who do not read sysctl files: "with a
 * connection table of 8,192 entries" says what "nf_conntrack_max=8192"
 * means. The keys keep their names below the headline (cards, the table
 * of steps), where a reader looks for the knob to turn. A key this table
 * does not know is told by its meaning from the sysctl allowlist, or (not
 * a sysctl) by its short name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "loadgen/report/report_int.h"
#include "loadgen/scenario/sysctl_keys.h"

/* One key: matched on the end of its dotted name. Its value is told
 * between `pre` and `post` (a count with thousands separators); values of
 * an enumerated key are listed in `vals` as "value=words" instead. */
struct plain_key {
	const char *suffix, *noun, *pre, *post;
	bool count;
	const char *vals[4];
};

static const struct plain_key keys[] = {
    {"nf_conntrack_max",
     "connection table's size",
     "a connection table of ",
     " entries",
     true,
     {NULL}},
    {"nf_conntrack_buckets",
     "number of hash buckets",
     "",
     " hash buckets in the connection table",
     true,
     {NULL}},
    {"nf_conntrack_tcp_timeout_time_wait",
     "time the table keeps closed connections",
     "closed connections kept ",
     " s in the table",
     false,
     {NULL}},
    {"tcp_fin_timeout", "FIN timeout", "a FIN timeout of ", " s", false, {NULL}},
    {"tcp_tw_reuse",
     "reuse of TIME_WAIT ports",
     NULL,
     NULL,
     false,
     {"0=no reuse of TIME_WAIT ports", "1=TIME_WAIT ports reused",
      "2=TIME_WAIT ports reused on loopback only", NULL}},
    {"ip_local_port_range", "client port range", "client ports ", "", false, {NULL}},
    {"tcp_max_tw_buckets", "TIME_WAIT limit", "at most ", " sockets in TIME_WAIT", true, {NULL}},
    {"somaxconn", "listen queue", "a listen queue of ", "", true, {NULL}},
    {"server.close",
     "way the server closes",
     NULL,
     NULL,
     false,
     {"server=the server closing normally", "rst=the server closing with a reset",
      "client=the client closing first", NULL}},
    {"lab.clients", "number of client addresses", "", " client addresses", true, {NULL}},
    {"load.rate", "rate", "", "/s", false, {NULL}},
};

static const struct plain_key *find(const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		size_t sl = strlen(keys[i].suffix);
		if (kl >= sl && !strcmp(key + kl - sl, keys[i].suffix) &&
		    (kl == sl || key[kl - sl - 1] == '.'))
			return &keys[i];
	}
	return NULL;
}

/* The allowlist entry of "sysctl.ROLE.net.x.y", or NULL. */
static const struct ct_sysctl_key *sysctl_of(const char *key)
{
	const char *dot;
	if (strncmp(key, "sysctl.", 7) || !(dot = strchr(key + 7, '.')))
		return NULL;
	return ct_sysctl_key_find(dot + 1);
}

/* A short key, as a noun: "the FIN timeout". */
void ct_rep_key_words(const char *key, char *buf, size_t len)
{
	const struct plain_key *k = find(key);
	const struct ct_sysctl_key *sk = k ? NULL : sysctl_of(key);
	const char *shortk = strrchr(key, '.') ? strrchr(key, '.') + 1 : key;
	if (k)
		snprintf(buf, len, "the %s", k->noun);
	else if (sk)
		snprintf(buf, len, "the kernel setting for %s", sk->meaning);
	else
		snprintf(buf, len, "%s", shortk);
}

void ct_rep_setting_words(const char *key, const char *val, char *buf, size_t len)
{
	const struct plain_key *k = find(key);
	const struct ct_sysctl_key *sk = k ? NULL : sysctl_of(key);
	const char *shortk = strrchr(key, '.') ? strrchr(key, '.') + 1 : key;
	size_t vl = strlen(val);

	if (k && k->pre) {
		char v[64];
		char *end;
		double d = strtod(val, &end);
		if (k->count && end != val && !*end)
			ct_rep_fmt_count_tmp(d, v, sizeof(v));
		else
			snprintf(v, sizeof(v), "%s", val);
		if (!strcmp(k->suffix, "ip_local_port_range") && strchr(v, ' '))
			*strchr(v, ' ') = '-';
		snprintf(buf, len, "%s%s%s", k->pre, v, k->post);
		return;
	}
	for (size_t i = 0; k && i < 4 && k->vals[i]; i++)
		if (!strncmp(k->vals[i], val, vl) && k->vals[i][vl] == '=') {
			snprintf(buf, len, "%s", k->vals[i] + vl + 1);
			return;
		}
	if (k)
		snprintf(buf, len, "%s %s", val, k->noun);
	else if (sk)
		snprintf(buf, len, "%s set to %s", sk->meaning, val);
	else
		snprintf(buf, len, "%s=%s", shortk, val);
}

void ct_rep_settings_words(const json_t *set, bool skip_rate, char *buf, size_t len)
{
	const char *k;
	const json_t *v;
	size_t used = 0;
	buf[0] = 0;
	json_object_foreach((json_t *)set, k, v)
	{
		char val[64], w[256];
		if (skip_rate && !strcmp(k, "load.rate"))
			continue;
		if (json_is_string(v))
			snprintf(val, sizeof(val), "%s", json_string_value(v));
		else
			snprintf(val, sizeof(val), "%g", json_number_value(v));
		ct_rep_setting_words(k, val, w, sizeof(w));
		int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", w);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
}

void ct_rep_point_words(const json_t *set, char *buf, size_t len)
{
	ct_rep_settings_words(set, true, buf, len);
	if (!buf[0])
		ct_rep_settings_words(set, false, buf, len);
}
