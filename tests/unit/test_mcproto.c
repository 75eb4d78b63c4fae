/* mcproto: the memcached text-protocol parser, fed bytes as a client sends
 * them; expected answers are what memcached 1.6.18 answers (checked live by
 * test_ctserver_diff). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "common/mcproto.h"

static enum ct_mc_status parse(const char *s, struct ct_mc_cmd *cmd)
{
	return ct_mc_parse(s, strlen(s), cmd);
}

/* The error line a command gets, or NULL when it is a real command. */
static const char *err_of(const char *s)
{
	static struct ct_mc_cmd cmd;

	cr_assert_eq(parse(s, &cmd), CT_MC_OK, "'%s' should be a complete line", s);
	return cmd.op == CT_MC_OP_REPLY ? cmd.reply : NULL;
}

Test(mcproto, incomplete_line_waits)
{
	struct ct_mc_cmd cmd;

	cr_assert_eq(parse("get a", &cmd), CT_MC_NEED_MORE);
	cr_assert_eq(parse("", &cmd), CT_MC_NEED_MORE);
}

Test(mcproto, get_with_several_keys)
{
	struct ct_mc_cmd cmd;
	const char *k;
	size_t pos = 0, nk, n = 0;
	const char *want[] = {"a", "bb", "ccc"};

	cr_assert_eq(parse("get a  bb ccc\r\nget x\r\n", &cmd), CT_MC_OK);
	cr_assert_eq(cmd.op, CT_MC_OP_GET);
	cr_assert_eq(cmd.consumed, strlen("get a  bb ccc\r\n"));
	while (ct_mc_next_key(&cmd, &pos, &k, &nk)) {
		cr_assert_lt(n, 3u);
		cr_assert_eq(nk, strlen(want[n]));
		cr_assert(memcmp(k, want[n], nk) == 0);
		n++;
	}
	cr_assert_eq(n, 3u);
}

Test(mcproto, gets_and_bare_newline)
{
	struct ct_mc_cmd cmd;

	cr_assert_eq(parse("gets k\n", &cmd), CT_MC_OK);
	cr_assert_eq(cmd.op, CT_MC_OP_GETS);
	cr_assert_eq(cmd.consumed, 7u);
}

Test(mcproto, storage_fields)
{
	struct ct_mc_cmd cmd;

	cr_assert_eq(parse("set foo 42 100 5 noreply\r\nhello\r\n", &cmd), CT_MC_OK);
	cr_assert_eq(cmd.op, CT_MC_OP_SET);
	cr_assert_eq(cmd.nkey, 3u);
	cr_assert(memcmp(cmd.key, "foo", 3) == 0);
	cr_assert_eq(cmd.flags, 42u);
	cr_assert_eq(cmd.exptime, 100);
	cr_assert_eq(cmd.vlen, 5);
	cr_assert(cmd.noreply);
	cr_assert_eq(cmd.consumed, strlen("set foo 42 100 5 noreply\r\n"));
	cr_assert_eq(parse("cas foo 0 0 1 77\r\n", &cmd), CT_MC_OK);
	cr_assert_eq(cmd.op, CT_MC_OP_CAS);
	cr_assert_eq(cmd.cas, 77u);
}

Test(mcproto, every_command_name)
{
	static const struct {
		const char *line;
		enum ct_mc_op op;
	} cases[] = {
	    {"add k 0 0 1\r\n", CT_MC_OP_ADD},	       {"replace k 0 0 1\r\n", CT_MC_OP_REPLACE},
	    {"append k 0 0 1\r\n", CT_MC_OP_APPEND},   {"prepend k 0 0 1\r\n", CT_MC_OP_PREPEND},
	    {"delete k\r\n", CT_MC_OP_DELETE},	       {"incr k 5\r\n", CT_MC_OP_INCR},
	    {"decr k 5\r\n", CT_MC_OP_DECR},	       {"touch k 10\r\n", CT_MC_OP_TOUCH},
	    {"flush_all\r\n", CT_MC_OP_FLUSH_ALL},     {"version\r\n", CT_MC_OP_VERSION},
	    {"verbosity 1\r\n", CT_MC_OP_VERBOSITY},   {"stats\r\n", CT_MC_OP_STATS},
	    {"stats reset\r\n", CT_MC_OP_STATS_RESET}, {"quit\r\n", CT_MC_OP_QUIT},
	    {"GET / HTTP/1.1\r\n", CT_MC_OP_CLOSE},
	};
	struct ct_mc_cmd cmd;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(parse(cases[i].line, &cmd), CT_MC_OK, "%s", cases[i].line);
		cr_assert_eq(cmd.op, cases[i].op, "%s: op %d", cases[i].line, cmd.op);
	}
}

Test(mcproto, errors_as_memcached_answers_them)
{
	cr_assert_str_eq(err_of("foo\r\n"), "ERROR");
	cr_assert_str_eq(err_of("\r\n"), "ERROR");
	cr_assert_str_eq(err_of("get\r\n"), "ERROR");
	cr_assert_str_eq(err_of("GET a\r\n"), "ERROR");
	cr_assert_str_eq(err_of("set a 0 0\r\n"), "ERROR");
	cr_assert_str_eq(err_of("set a 0 0 1 2 3 4 5 6 7 8 9\r\n"), "ERROR");
	cr_assert_str_eq(err_of("cas a 0 0 1\r\n"), "ERROR");
	cr_assert_str_eq(err_of("set a x 0 3\r\n"), "CLIENT_ERROR bad command line format");
	cr_assert_str_eq(err_of("set a -1 0 1\r\n"), "CLIENT_ERROR bad command line format");
	cr_assert_str_eq(err_of("set a 0 0 -1\r\n"), "CLIENT_ERROR bad command line format");
	cr_assert_str_eq(err_of("set a 0x10 0 1\r\n"), "CLIENT_ERROR bad command line format");
	cr_assert_str_eq(err_of("cas a 0 0 1 -1\r\n"), "CLIENT_ERROR bad command line format");
	cr_assert_str_eq(err_of("incr n abc\r\n"), "CLIENT_ERROR invalid numeric delta argument");
	cr_assert_str_eq(err_of("incr n -1\r\n"), "CLIENT_ERROR invalid numeric delta argument");
	cr_assert_str_eq(err_of("touch n x\r\n"), "CLIENT_ERROR invalid exptime argument");
	cr_assert_str_eq(err_of("flush_all x\r\n"), "CLIENT_ERROR invalid exptime argument");
	cr_assert_str_eq(err_of("delete a 5\r\n"),
			 "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]");
	cr_assert_null(err_of("delete a 0\r\n"));
	cr_assert_null(err_of("delete a noreply\r\n"));
	cr_assert_str_eq(err_of("stats foo\r\n"), "ERROR");
}

Test(mcproto, an_http_request_line_closes_unless_its_word_starts_like_a_command)
{
	struct ct_mc_cmd cmd;

	/* memcached switches on the first letter: a word starting with one of
	 * g s a c i d t that is no command is an ERROR, even before HTTP/. */
	cr_assert_str_eq(err_of("gxx / HTTP/1.1\r\n"), "ERROR");
	cr_assert_str_eq(err_of("delete_all / HTTP/1.0\r\n"), "ERROR");
	cr_assert_str_eq(err_of("t / HTTP/1.1\r\n"), "ERROR");
	cr_assert_str_eq(err_of("mn\r\n"), "MN");
	cr_assert_eq(parse("POST /x HTTP/1.1\r\n", &cmd), CT_MC_OK);
	cr_assert_eq(cmd.op, CT_MC_OP_CLOSE);
	cr_assert_eq(parse("HEAD / HTTP/1.0\r\n", &cmd), CT_MC_OK);
	cr_assert_eq(cmd.op, CT_MC_OP_CLOSE);
	cr_assert_eq(parse("meta / HTTP/1.1\r\n", &cmd), CT_MC_OK);
	cr_assert_eq(cmd.op, CT_MC_OP_CLOSE);
}

Test(mcproto, key_length_limit)
{
	char line[400];
	struct ct_mc_cmd cmd;

	snprintf(line, sizeof(line), "get a %0250d\r\n", 0);
	cr_assert_null(err_of(line), "a 250-byte key is fine");
	snprintf(line, sizeof(line), "get a %0251d b\r\n", 0);
	cr_assert_eq(parse(line, &cmd), CT_MC_OK);
	cr_assert_str_eq(cmd.reply, "CLIENT_ERROR bad command line format");
	cr_assert(cmd.drop_queued, "memcached drops the batch's queued answers");
	snprintf(line, sizeof(line), "set %0251d 0 0 1\r\n", 0);
	cr_assert_str_eq(err_of(line), "CLIENT_ERROR bad command line format");
}

Test(mcproto, noreply_applies_to_errors)
{
	struct ct_mc_cmd cmd;

	cr_assert_eq(parse("set a x 0 3 noreply\r\n", &cmd), CT_MC_OK);
	cr_assert_eq(cmd.op, CT_MC_OP_REPLY);
	cr_assert(cmd.noreply);
	cr_assert_eq(parse("get a noreply\r\n", &cmd), CT_MC_OK);
	cr_assert(!cmd.noreply, "get has no noreply: 'noreply' is a key there");
}

Test(mcproto, numbers_like_memcached)
{
	uint32_t u;
	int32_t i;
	uint64_t ull;

	cr_assert(ct_mc_strtoul32("4294967296", 10, &u) && u == 0, "truncated to 32 bits");
	cr_assert(ct_mc_strtoul32("+1", 2, &u) && u == 1);
	cr_assert(ct_mc_strtoul32("00", 2, &u) && u == 0);
	cr_assert(!ct_mc_strtoul32("-1", 2, &u));
	cr_assert(!ct_mc_strtoul32("", 0, &u));
	cr_assert(ct_mc_strtol32("1\r", 2, &i) && i == 1, "trailing space byte is allowed");
	cr_assert(ct_mc_strtol32("-5", 2, &i) && i == -5);
	cr_assert(ct_mc_strtol32("2147483648", 10, &i) && i < 0, "wraps like memcached");
	cr_assert(ct_mc_strtoull("18446744073709551615", 20, &ull) && ull == UINT64_MAX);
	cr_assert(!ct_mc_strtoull("18446744073709551616", 20, &ull), "overflow");
	cr_assert(ct_mc_strtoull(" 12\r\n", 5, &ull) && ull == 12, "stored ' 12' is numeric");
	cr_assert(ct_mc_strtoull("1 2x\r\n", 6, &ull) && ull == 1);
	cr_assert(!ct_mc_strtoull("\r\n", 2, &ull), "empty value is not a number");
	cr_assert(!ct_mc_strtoull("12abc", 5, &ull));
}

Test(mcproto, line_is_cut_at_nul_and_cr_rule)
{
	struct ct_mc_cmd cmd;
	const char line[] = "get a\0b\r\n";
	const char *k;
	size_t pos = 0, nk;

	cr_assert_eq(ct_mc_parse(line, sizeof(line) - 1, &cmd), CT_MC_OK);
	cr_assert_eq(cmd.consumed, sizeof(line) - 1);
	cr_assert(ct_mc_next_key(&cmd, &pos, &k, &nk));
	cr_assert_eq(nk, 1u, "the key stops at the NUL");
	/* "\r" is part of the key when it is not right before "\n". */
	cr_assert_eq(parse("get a\rb\r\n", &cmd), CT_MC_OK);
	pos = 0;
	cr_assert(ct_mc_next_key(&cmd, &pos, &k, &nk));
	cr_assert_eq(nk, 3u);
}

Test(mcproto, long_lines)
{
	static char buf[CT_MC_GET_LINE_MAX + 10];
	struct ct_mc_cmd cmd;

	memset(buf, 'a', sizeof(buf));
	cr_assert_eq(ct_mc_parse(buf, CT_MC_LINE_MAX, &cmd), CT_MC_NEED_MORE, "2048 still waits");
	cr_assert_eq(ct_mc_parse(buf, CT_MC_LINE_MAX + 1, &cmd), CT_MC_TOO_LONG);
	memcpy(buf, "get ", 4);
	cr_assert_eq(ct_mc_parse(buf, 5000, &cmd), CT_MC_NEED_MORE, "a multi-get may be long");
	cr_assert_eq(ct_mc_parse(buf, sizeof(buf), &cmd), CT_MC_TOO_LONG, "but not endless");
	memcpy(buf, "xxxx", 4);
	buf[3000] = '\n';
	cr_assert_eq(ct_mc_parse(buf, 4000, &cmd), CT_MC_OK,
		     "a long line that is complete is parsed");
	cr_assert_str_eq(cmd.reply, "ERROR");
}

Test(mcproto, data_block_and_item_size)
{
	cr_assert(ct_mc_data_ok("abc\r\n", 3));
	cr_assert(!ct_mc_data_ok("abcd\r", 3));
	cr_assert(!ct_mc_item_too_large(1, 1000000, 0, 1 << 20));
	cr_assert(ct_mc_item_too_large(1, 2 * 1024 * 1024, 0, 1 << 20));
	cr_assert(ct_mc_item_too_large(3, (1 << 20) - 60, 0, 1 << 20), "the header counts");
}

Test(mcproto, a_binary_request_is_answered_without_waiting_for_a_newline)
{
	/* A binary version request: magic 0x80, opcode 0x0b, no '\n' at all. */
	static const char req[24] = {(char)0x80, 0x0b};
	struct ct_mc_cmd cmd;

	cr_assert_eq(ct_mc_parse(req, sizeof(req), &cmd), CT_MC_OK);
	cr_assert_eq(cmd.op, CT_MC_OP_BINARY);
	cr_assert_str_eq(cmd.reply, "ERROR");
	cr_assert_eq(ct_mc_parse(req, 1, &cmd), CT_MC_OK, "its first byte is enough");
	cr_assert_eq(cmd.op, CT_MC_OP_BINARY);
	/* 0x80 inside a text line is only a byte of that line. */
	cr_assert_eq(parse("get a\x80\r\n", &cmd), CT_MC_OK);
	cr_assert_eq(cmd.op, CT_MC_OP_GET);
}

Test(mcproto, stats_cachedump_as_memcached_answers_it)
{
	struct ct_mc_cmd cmd;

	cr_assert_eq(parse("stats cachedump 1 0\r\n", &cmd), CT_MC_OK);
	cr_assert_eq(cmd.op, CT_MC_OP_STATS_CACHEDUMP);
	cr_assert_null(err_of("stats cachedump 63 100 x\r\n"));
	cr_assert_str_eq(err_of("stats cachedump 64 0\r\n"), "CLIENT_ERROR Illegal slab id");
	cr_assert_str_eq(err_of("stats cachedump 1\r\n"), "CLIENT_ERROR bad command line");
	cr_assert_str_eq(err_of("stats cachedump x 0\r\n"), "CLIENT_ERROR bad command line format");
	cr_assert_str_eq(err_of("stats cachedump 1 -1\r\n"),
			 "CLIENT_ERROR bad command line format");
}
