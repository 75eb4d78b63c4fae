/* fuzz_lint — libFuzzer target for loadgen/model/lint.h and sysctl_file.h:
 * the input as a sysctl.d file (and, split at its first NUL byte, a second
 * file linted after it, as sysctl.d merges several), then the cross-line
 * checks and the writes sysctl would make (globs expanded under /proc/sys);
 * its first lines as file names for the order sysctl reads files in. Reads
 * /proc/sys only, and stats those names (opts.live off: no other host state). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "loadgen/model/lint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Up to 8 lines as paths: each order is a permutation of them. */
static void order_files(const char *s)
{
	char buf[8][128];
	const char *paths[8];
	struct ct_sysctl_file out[8];
	size_t n = 0;

	for (const char *p = s; *p && n < 8; n++) {
		size_t len = strcspn(p, "\n");

		snprintf(buf[n], sizeof(buf[n]), "%.*s", (int)(len < 127 ? len : 127), p);
		paths[n] = buf[n];
		p += len + (p[len] == '\n');
	}
	for (int o = 0; o < 2; o++) {
		unsigned seen = 0;

		if (ct_sysctl_file_order(paths, n, o ? CT_SYSCTL_ORDER_GIVEN : CT_SYSCTL_ORDER_SYSTEM,
					 out) < 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			if (out[i].arg >= n || (seen & (1u << out[i].arg)) ||
			    (out[i].skip == CT_SFILE_SHADOWED && out[i].by >= n))
				abort();
			seen |= 1u << out[i].arg;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t listen[] = {22, 11211, 32768, 60999};
	struct ct_lint_opts opts = {.proc_root = NULL, .live = false, .listen = listen,
				    .nlisten = sizeof(listen) / sizeof(listen[0])};
	char *s = malloc(size + 2);
	struct ct_sysctl_assign *w;
	struct ct_lint *l;
	size_t nw;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = s[size + 1] = '\0';
	l = ct_lint_new(&opts);
	if (!l) {
		free(s);
		return 0;
	}
	(void)ct_lint_text(l, "a.conf", s);
	(void)ct_lint_text(l, "b.conf", s + strlen(s) + (strlen(s) < size ? 1 : 0));
	ct_lint_finish(l);
	for (size_t i = 0; i < ct_lint_count(l); i++) {
		const struct ct_lint_finding *f = ct_lint_at(l, i);
		if (!f || !ct_lint_code_name(f->code) || !memchr(f->msg, '\0', sizeof(f->msg)))
			abort();
	}
	if (ct_lint_writes(l, &w, &nw) == 0) {
		/* one write a key: no path twice */
		for (size_t i = 0; i + 1 < nw; i++)
			for (size_t j = i + 1; j < nw && j < i + 64; j++)
				if (strcmp(w[i].path, w[j].path) == 0)
					abort();
		free(w);
	}
	ct_lint_free(l);
	order_files(s);
	free(s);
	return 0;
}
