#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loadgen/run/allow.h"

static struct sockaddr_storage v4(const char *a)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	in->sin_family = AF_INET;
	cr_assert_eq(inet_pton(AF_INET, a, &in->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage v6(const char *a)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in6 *in = (struct sockaddr_in6 *)&ss;
	in->sin6_family = AF_INET6;
	cr_assert_eq(inet_pton(AF_INET6, a, &in->sin6_addr), 1);
	return ss;
}

Test(allow, cidr_and_ports_hold_only_what_was_listed)
{
	struct ct_allow a = {0};
	char why[400];
	cr_assert_eq(
	    ct_allow_add(&a, "198.51.100.0/24:80,9000-9100", "--allow-target", why, sizeof(why)), 0,
	    "%s", why);
	struct sockaddr_storage in = v4("198.51.100.7"), out = v4("198.51.101.7");
	cr_expect_not_null(ct_allow_match(&a, &in, 80, 80));
	cr_expect_not_null(ct_allow_match(&a, &in, 9000, 9100));
	cr_expect_null(ct_allow_match(&a, &in, 8999, 9000), "a range must lie inside one entry");
	cr_expect_null(ct_allow_match(&a, &in, 443, 443));
	cr_expect_null(ct_allow_match(&a, &out, 80, 80), "outside the /24");
	cr_expect_str_eq(ct_allow_match(&a, &in, 80, 80)->from, "--allow-target");
	ct_allow_free(&a);
}

Test(allow, bare_address_is_one_host_every_port)
{
	struct ct_allow a = {0};
	char why[400];
	cr_assert_eq(ct_allow_add(&a, "192.0.2.9", "x", why, sizeof(why)), 0, "%s", why);
	struct sockaddr_storage h = v4("192.0.2.9"), n = v4("192.0.2.10");
	cr_expect_not_null(ct_allow_match(&a, &h, 1, 65535));
	cr_expect_null(ct_allow_match(&a, &n, 80, 80));
	ct_allow_free(&a);
}

Test(allow, ipv6_with_and_without_brackets)
{
	struct ct_allow a = {0};
	char why[400];
	cr_assert_eq(ct_allow_add(&a, "[2001:db8::/64]:11211", "x", why, sizeof(why)), 0, "%s",
		     why);
	cr_assert_eq(ct_allow_add(&a, "2001:db8:1::/48", "y", why, sizeof(why)), 0, "%s", why);
	struct sockaddr_storage a1 = v6("2001:db8::5"), a2 = v6("2001:db8:1:2::1"),
				a3 = v6("2001:db8:2::1"), four = v4("32.1.13.184");
	cr_expect_not_null(ct_allow_match(&a, &a1, 11211, 11211));
	cr_expect_null(ct_allow_match(&a, &a1, 80, 80));
	cr_expect_not_null(ct_allow_match(&a, &a2, 80, 80));
	cr_expect_null(ct_allow_match(&a, &a3, 80, 80));
	cr_expect_null(ct_allow_match(&a, &four, 80, 80), "families never mix");
	ct_allow_free(&a);
}

Test(allow, bad_entries_say_why)
{
	struct ct_allow a = {0};
	char why[400];
	static const struct {
		const char *text, *says;
	} bad[] = {
	    {"0.0.0.0/0", "every address"},
	    {"::/0", "every address"},
	    {"198.51.100.7/24", "host bits"},
	    {"198.51.100.0/33", "prefix length"},
	    {"example.com:80", "not an IPv4"},
	    {"198.51.100.7:", "no ports"},
	    {"198.51.100.7:99999", "198.51.100.7:99999"},
	    {"[2001:db8::/64", "[IPV6/N]"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = 0;
		cr_expect_eq(ct_allow_add(&a, bad[i].text, "x", why, sizeof(why)), -EINVAL, "%s",
			     bad[i].text);
		cr_expect(strstr(why, bad[i].says), "%s: '%s' lacks '%s'", bad[i].text, why,
			  bad[i].says);
	}
	cr_expect_eq(a.n, 0);
	ct_allow_free(&a);
}

static char *write_tmp(const char *text, mode_t mode)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/ct-allow-XXXXXX");
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	chmod(path, mode);
	return path;
}

Test(allow, file_lines_comments_and_where_each_came_from)
{
	if (geteuid() != 0)
		cr_skip_test("the file must be root's: needs root");
	struct ct_allow a = {0};
	struct ct_err err = {0};
	char *p =
	    write_tmp("# the DUT\n\n  198.51.100.7:11211  # memcache\n203.0.113.0/28\n", 0644);
	cr_assert_eq(ct_allow_load_file(&a, p, &err), 0, "%s", err.msg);
	cr_expect_eq(a.n, 2);
	struct sockaddr_storage d = v4("198.51.100.7");
	char want[96];
	snprintf(want, sizeof(want), "%s:3", p);
	cr_expect_str_eq(ct_allow_match(&a, &d, 11211, 11211)->from, want);
	ct_allow_free(&a);
	unlink(p);
}

Test(allow, file_writable_by_others_or_bad_line_is_refused)
{
	if (geteuid() != 0)
		cr_skip_test("needs root");
	struct ct_allow a = {0};
	struct ct_err err = {0};
	char *p = write_tmp("198.51.100.7:11211\n", 0666);
	cr_expect_eq(ct_allow_load_file(&a, p, &err), -EPERM);
	cr_expect_eq(err.code, CT_EXIT_ENV);
	cr_expect(strstr(err.msg, "writable by root alone"), "%s", err.msg);
	unlink(p);
	p = write_tmp("198.51.100.7:11211\n198.51.100.300\n", 0600);
	cr_expect_eq(ct_allow_load_file(&a, p, &err), -EINVAL);
	char want[96];
	snprintf(want, sizeof(want), "%s:2: ", p);
	cr_expect(strstr(err.msg, want), "names FILE:LINE: %s", err.msg);
	cr_expect_eq(err.code, CT_EXIT_USAGE);
	unlink(p);
	cr_expect_eq(ct_allow_load_file(&a, "/nonexistent/ct-allow", &err), 0, "missing = empty");
	ct_allow_free(&a);
}

Test(allow, file_owned_by_another_user_is_refused)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to chown");
	struct ct_allow a = {0};
	struct ct_err err = {0};
	char *p = write_tmp("198.51.100.7\n", 0644);
	cr_assert_eq(chown(p, 65534, 65534), 0);
	cr_expect_eq(ct_allow_load_file(&a, p, &err), -EPERM);
	cr_expect(strstr(err.msg, "owned by root"), "%s", err.msg);
	cr_expect_eq(a.n, 0);
	unlink(p);
}
