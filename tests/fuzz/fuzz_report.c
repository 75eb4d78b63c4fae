/* fuzz_report — libFuzzer target for loadgen/report/report.h: a run directory
 * with hostile or cut-short files, as a killed run may leave them.
 *
 * The input holds up to three files separated by NUL bytes: summary.json,
 * timeseries.jsonl, events.log (an input with no NUL is a timeseries.jsonl
 * alone: the report rebuilds the steps from the samples). scenario.ini is a
 * fixed valid one. ct_report_build() must not crash, leak, or read out of
 * bounds; it may refuse (an error) but a partial input is not an error. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "loadgen/report/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char dir[64];

static const char scenario[] = "[scenario]\nname = fuzz\ntopology = lab\n"
			       "[load]\nrate = 300/s\nduration = 4s\n"
			       "[sweep]\nnet.ipv4.tcp_tw_reuse = 0,1\n";

static void put(const char *name, const void *p, size_t n)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!p) {
		unlink(path);
		return;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		abort();
	if (n && write(fd, p, n) != (ssize_t)n)
		abort();
	close(fd);
}

static void cleanup(void)
{
	static const char *const names[] = {"scenario.ini", "summary.json", "timeseries.jsonl",
					    "events.log", "report.html", "timeseries.csv"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		put(names[i], NULL, 0);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "/tmp/ctload-fuzz-report.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	atexit(cleanup);
	put("scenario.ini", scenario, sizeof(scenario) - 1);
	ct_log_set_level(CT_LOG_ERROR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *part[3] = {NULL, NULL, NULL};
	size_t len[3] = {0, 0, 0};
	const uint8_t *p = data, *end = data + size, *nul;
	struct ct_err err = {0};
	int n = 0;

	nul = memchr(p, 0, size);
	if (!nul) {
		part[1] = data;
		len[1] = size;
	} else {
		while (n < 3) {
			nul = memchr(p, 0, (size_t)(end - p));
			part[n] = p;
			len[n] = nul ? (size_t)(nul - p) : (size_t)(end - p);
			n++;
			if (!nul)
				break;
			p = nul + 1;
		}
	}
	put("summary.json", part[0], len[0]);
	put("timeseries.jsonl", part[1], len[1]);
	put("events.log", part[2], len[2]);
	(void)ct_report_build(dir, &err);
	return 0;
}
