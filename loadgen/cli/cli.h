/* cli — the ctload subcommands. Each takes the argv after the command name
 * (argv[0] is the command), handles its own --help, and returns an exit code
 * from enum ct_exit. Only main() exits. */
#pragma once

#include "loadgen/base/err.h" /* enum ct_exit */

struct ct_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

int ct_cmd_run(int argc, char **argv);
int ct_cmd_model(int argc, char **argv);
int ct_cmd_check(int argc, char **argv);
int ct_cmd_lint(int argc, char **argv);
int ct_cmd_lab(int argc, char **argv);
int ct_cmd_report(int argc, char **argv);
int ct_cmd_respond(int argc, char **argv);
