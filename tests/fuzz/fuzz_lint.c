/* fuzz_lint — libFuzzer target for loadgen/lint.h: the input as a
 * sysctl.d file (and, split at its first NUL byte, a second file linted
 * after it, as sysctl.d merges several), then the cross-line checks. Reads
 * /proc/sys only to tell real keys (opts.live off: no host state). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "loadgen/model/lint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t listen[] = {22, 11211, 32768, 60999};
	struct ct_lint_opts opts = {.proc_root = NULL, .live = false, .listen = listen,
				    .nlisten = sizeof(listen) / sizeof(listen[0])};
	char *s = malloc(size + 2);
	struct ct_lint *l;

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
	ct_lint_free(l);
	free(s);
	return 0;
}
