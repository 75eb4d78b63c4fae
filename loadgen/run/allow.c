#include "loadgen/run/allow.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/units.h"

static int push(struct ct_allow *a, const struct ct_allow_entry *e)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		struct ct_allow_entry *v = realloc(a->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = *e;
	return 0;
}

/* "A" or "A/N" into e; host bits must be clear (a typo otherwise). */
static int parse_cidr(const char *text, struct ct_allow_entry *e, char *why, size_t whylen)
{
	char buf[64];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	if (alen == 0 || alen >= sizeof(buf)) {
		snprintf(why, whylen, "'%s' is not an address or CIDR", text);
		return -EINVAL;
	}
	memcpy(buf, text, alen);
	buf[alen] = 0;
	memset(e->addr, 0, sizeof(e->addr));
	if (inet_pton(AF_INET, buf, e->addr) == 1)
		e->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, e->addr) == 1)
		e->family = AF_INET6;
	else {
		snprintf(why, whylen, "'%s' is not an IPv4 or IPv6 address", buf);
		return -EINVAL;
	}
	int max = e->family == AF_INET ? 32 : 128;
	e->plen = max;
	if (slash) {
		char *end;
		long n = strtol(slash + 1, &end, 10);
		if (!slash[1] || *end || n < 0 || n > max) {
			snprintf(why, whylen, "'%s': prefix length must be 0..%d", text, max);
			return -EINVAL;
		}
		e->plen = (int)n;
	}
	if (e->plen == 0) {
		snprintf(why, whylen,
			 "'%s' would allow every address; list the networks of your lab", text);
		return -EINVAL;
	}
	for (int bit = e->plen; bit < max; bit++) {
		if (e->addr[bit / 8] & (0x80 >> (bit % 8))) {
			snprintf(why, whylen,
				 "'%s' has host bits set (the network is %s/%d with them "
				 "cleared)",
				 text, buf, e->plen);
			return -EINVAL;
		}
	}
	return 0;
}

/* Split "CIDR[:PORTS]" / "[V6CIDR]:PORTS" / "V6CIDR" into its two texts. */
static int split_entry(const char *text, char *addr, size_t alen, const char **ports, char *why,
		       size_t whylen)
{
	const char *end, *colon = strchr(text, ':');
	*ports = NULL;
	if (text[0] == '[') {
		end = strchr(text, ']');
		if (!end || (end[1] && end[1] != ':') || (size_t)(end - text - 1) >= alen) {
			snprintf(why, whylen, "'%s' is not [IPV6/N]:PORTS", text);
			return -EINVAL;
		}
		memcpy(addr, text + 1, (size_t)(end - text - 1));
		addr[end - text - 1] = 0;
		*ports = end[1] ? end + 2 : NULL;
		return 0;
	}
	if (colon && strchr(colon + 1, ':'))
		colon = NULL; /* a bare IPv6 CIDR: every port */
	size_t n = colon ? (size_t)(colon - text) : strlen(text);
	if (n >= alen) {
		snprintf(why, whylen, "'%s' is too long for an address", text);
		return -EINVAL;
	}
	memcpy(addr, text, n);
	addr[n] = 0;
	*ports = colon ? colon + 1 : NULL;
	return 0;
}

int ct_allow_add(struct ct_allow *a, const char *text, const char *from, char *why, size_t whylen)
{
	char addr[96], pbuf[256];
	const char *ports;
	struct ct_allow_entry e = {.lo = 0, .hi = 65535};
	snprintf(e.from, sizeof(e.from), "%s", from);
	if (split_entry(text, addr, sizeof(addr), &ports, why, whylen) < 0 ||
	    parse_cidr(addr, &e, why, whylen) < 0)
		return -EINVAL;
	if (!ports)
		return push(a, &e);
	if (strlen(ports) >= sizeof(pbuf) || !*ports) {
		snprintf(why, whylen, "'%s': no ports after ':' (write e.g. :80 or :9000-9100)",
			 text);
		return -EINVAL;
	}
	strcpy(pbuf, ports);
	char *save = NULL;
	for (char *p = strtok_r(pbuf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		char pwhy[160] = "";
		if (ct_parse_port_range(p, &e.lo, &e.hi, pwhy, sizeof(pwhy)) < 0) {
			snprintf(why, whylen, "'%s': %s", text, pwhy);
			return -EINVAL;
		}
		if (push(a, &e) < 0)
			return -ENOMEM;
	}
	return 0;
}

const char *ct_allow_file_path(void)
{
	const char *env = getenv(CT_ALLOW_FILE_ENV);
	return env && *env ? env : CT_ALLOW_DEFAULT_FILE;
}

/* Whether the opened file may be trusted: root's, written by root alone. */
static int check_owner(int fd, const char *path, struct ct_err *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0) {
		ct_err_set(err, CT_EXIT_ENV, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		ct_err_set(err, CT_EXIT_ENV,
			   "%s: not a regular file; the target allowlist is "
			   "refused",
			   path);
		return -EPERM;
	}
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		ct_err_set(
		    err, CT_EXIT_ENV,
		    "%s: refused: the target allowlist must be owned by root and writable by "
		    "root alone (it is uid %u, mode %04o); fix it with 'chown root: %s; "
		    "chmod go-w %s'",
		    path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), path, path);
		return -EPERM;
	}
	return 0;
}

static char *trim(char *s)
{
	char *hash = strchr(s, '#');
	if (hash)
		*hash = 0;
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && strchr(" \t\r\n", s[n - 1]))
		s[--n] = 0;
	return s;
}

int ct_allow_load_file(struct ct_allow *a, const char *path, struct ct_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		ct_err_set(err, CT_EXIT_ENV, "%s: %s", path, strerror(errno));
		return -errno;
	}
	int rc = check_owner(fd, path, err);
	FILE *f = rc < 0 ? NULL : fdopen(fd, "r");
	if (!f) {
		close(fd);
		return rc < 0 ? rc : -ENOMEM;
	}
	char line[512], from[96], why[400];
	for (int no = 1; rc == 0 && fgets(line, sizeof(line), f); no++) {
		char *s = trim(line);
		if (!*s)
			continue;
		snprintf(from, sizeof(from), "%s:%d", path, no);
		rc = ct_allow_add(a, s, from, why, sizeof(why));
		if (rc < 0)
			ct_err_set(err, CT_EXIT_USAGE, "%s: %s", from, why);
	}
	fclose(f);
	return rc;
}

static bool prefix_holds(const struct ct_allow_entry *e, const uint8_t *addr)
{
	int full = e->plen / 8, rest = e->plen % 8;
	if (memcmp(e->addr, addr, (size_t)full))
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff00 >> rest);
	return (addr[full] & mask) == e->addr[full];
}

const struct ct_allow_entry *ct_allow_match(const struct ct_allow *a,
					    const struct sockaddr_storage *ss, uint16_t lo,
					    uint16_t hi)
{
	const uint8_t *addr;
	if (ss->ss_family == AF_INET)
		addr = (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr;
	else if (ss->ss_family == AF_INET6)
		addr = (const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
	else
		return NULL;
	for (size_t i = 0; a && i < a->n; i++) {
		const struct ct_allow_entry *e = &a->v[i];
		if (e->family == ss->ss_family && prefix_holds(e, addr) && e->lo <= lo &&
		    hi <= e->hi)
			return e;
	}
	return NULL;
}

void ct_allow_free(struct ct_allow *a)
{
	free(a->v);
	a->v = NULL;
	a->n = a->cap = 0;
}
