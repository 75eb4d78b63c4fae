/* procfs — parsers of /proc text (pure: they take a line, so they are
 * unit-tested on fixtures) and the readers that feed them from a file.
 *
 * The /proc/net files are seq_files: one read() returns at most about a
 * page of whole lines (some 27 rows of /proc/net/tcp), so a reader reads to
 * the end of the file, never once. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* One row of /proc/net/tcp or /proc/net/tcp6 ("  12: 010013C6:2BCB
 * 00000000:0000 0A ..."): true and its local port in *port when the row is
 * a listening socket (st 0A), false for any other row, the header line or
 * text that is no row at all. */
bool ct_procfs_tcp_listen_port(const char *line, uint16_t *port);

/* Called for each listening port; return true to stop reading. */
typedef bool (*ct_procfs_port_fn)(void *ctx, uint16_t port);

/* Read a /proc/net/tcp-format file from `fd` (from offset 0, with pread, so
 * the same fd can be read again later) to its end, and call fn for the
 * local port of every LISTEN row, in file order, once per row. Returns 1
 * when fn stopped it, 0 at the end of the file, or -errno. */
int ct_procfs_tcp_listen_each(int fd, ct_procfs_port_fn fn, void *ctx);

/* The text of /proc/PID/stat: its state (field 3: 'R', 'S', 'Z' ...; '\0'
 * if unreadable) and start time (field 22, clock ticks since boot). The
 * command name (field 2) may hold spaces and ')', so fields are counted
 * from the last ')'. 0, or -EIO when the text is no stat line. */
int ct_procfs_stat_parse(const char *text, char *state, unsigned long long *start);

/* Start time of `pid` in clock ticks since boot (field 22 of /proc/PID/stat).
 * Returns 0 or -errno (-ESRCH: no such process). */
int ct_proc_start_time(pid_t pid, unsigned long long *out);
/* True when `pid` is alive (not a zombie) and still has start time `start`:
 * a recycled PID is someone else. */
bool ct_proc_is(pid_t pid, unsigned long long start);
