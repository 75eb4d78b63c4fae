/* fuzz_scenario — libFuzzer target for loadgen/scenario/scenario.h.
 *
 * The input is a scenario file (read by ct_scenario_load through a memfd,
 * the way a user's file is read). When it loads, its resolved form
 * (ct_scenario_write) must read back to an equal scenario, as the run
 * directory's scenario.ini promises. Then every input line that holds '='
 * is also tried as a --set KEY=VALUE, on a copy of the loaded scenario or
 * of a minimal one, followed by the cross-key checks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"
#include "loadgen/scenario/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const char minimal[] = "[scenario]\nname = minimal\n[load]\nrate = 500/s\n";

/* Load `len` bytes of text as a scenario file. */
static struct ct_scenario *load_bytes(const void *text, size_t len, struct ct_err *err)
{
	char path[64];
	struct ct_scenario *sc = NULL;
	int fd = memfd_create("fuzz.ini", 0);

	if (fd < 0)
		return NULL;
	if (len == 0 || write(fd, text, len) == (ssize_t)len) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		sc = ct_scenario_load(path, NULL, 0, err);
	}
	close(fd);
	return sc;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ct_log_set_level(CT_LOG_ERROR);
	return 0;
}

static void try_sets(const struct ct_scenario *base, const char *text)
{
	char *copy = strdup(text), *save = NULL;
	struct ct_err err;

	if (!copy)
		return;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		struct ct_scenario *sc;
		if (!eq)
			continue;
		*eq = '\0';
		sc = ct_scenario_dup(base);
		if (!sc)
			break;
		if (ct_scenario_set(sc, line, eq + 1, &err) == 0)
			(void)ct_scenario_check(sc, &err);
		ct_scenario_free(sc);
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ct_err err;
	struct ct_scenario *sc, *base;
	char *text;

	sc = load_bytes(data, size, &err);
	if (sc) {
		char *out = NULL;
		size_t outlen = 0;
		FILE *f = open_memstream(&out, &outlen);
		if (f && ct_scenario_write(sc, f) == 0 && fclose(f) == 0) {
			struct ct_scenario *back = load_bytes(out, outlen, &err);
			if (!back || !ct_scenario_equal(sc, back)) {
				fprintf(stderr, "resolved scenario does not read back equal:\n%s\n%s\n",
					out, back ? "" : err.msg);
				abort();
			}
			ct_scenario_free(back);
		} else if (f) {
			fclose(f);
		}
		free(out);
	}

	text = malloc(size + 1);
	if (text) {
		memcpy(text, data, size);
		text[size] = '\0';
		base = sc ? sc : load_bytes(minimal, sizeof(minimal) - 1, &err);
		if (base) {
			try_sets(base, text);
			if (base != sc)
				ct_scenario_free(base);
		}
		free(text);
	}
	ct_scenario_free(sc);
	return 0;
}
