/* liveview — the run drawn live on a terminal: the step and its progress
 * bar, the achieved and target rates, failures by cause, a conntrack fill
 * bar (count / max) per netns that tracks, TIME_WAIT per side, the client's
 * ports in use, and the packet counts when a capture runs.
 *
 *   step 2/5  rate = 500/s   [##########..........]  52%  5.2 / 10.0 s
 *     rate 498/s (target 500/s)  done 2,512  inflight 3  connect p99 0.41 ms
 *     failures: none
 *     conntrack server [####................]  12,345 / 262,144  4.7%  drop 0
 *     TIME_WAIT client 2,512  server 0   ports in use 2,515
 *     packets/s  SYN 500  retrans 0  SYN-ACK 500  RST 0  FIN 1,000
 *
 * The caller decides when to use it: on a TTY, and not with --quiet. On a
 * terminal (isatty) the block is redrawn in place with plain ANSI (cursor
 * up, erase to the end of the screen), at most 4 times a second whatever
 * the sample interval; lines are cut to the terminal's width so none wraps.
 * The cursor is hidden while it draws and shown again by ct_liveview_free(),
 * which also ends the last line. On anything else (a file, a memstream:
 * the tests) each redraw is printed as a plain block, no escape codes.
 * At the end of a step (the step hook) the block gives way to one summary
 * line of that step, and the next step draws below it.
 * Messages others print to the same terminal between two redraws are
 * overwritten by the next redraw; they stay in a log file if there is one. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "loadgen/probe/probe.h"

struct ct_liveview;

/* Draw on `out` (not closed by _free). n_steps: how many steps the run
 * plans, 0 when unknown (a search). NULL + errno on ENOMEM. */
struct ct_liveview *ct_liveview_new(FILE *out, unsigned n_steps);
/* Show the cursor again, end the last line, free. NULL is a no-op. */
void ct_liveview_free(struct ct_liveview *lv);

/* A step begins: its index (0-based), a label (the sweep point, e.g.
 * "rate = 500/s"; may be NULL), its duration and its target rate. */
void ct_liveview_step(struct ct_liveview *lv, unsigned step, const char *label, double duration_s,
		      double rate_target);

/* Sample source (ctx = lv): redraws from the sample, throttled to 4 Hz. It
 * only reads the sample; put it last so every other source has filled it. */
struct ct_sample_source ct_liveview_source(struct ct_liveview *lv);
/* Step hook: replaces the block by the step's one-line summary. */
struct ct_sample_source ct_liveview_step_hook(struct ct_liveview *lv);

/* Kind "liveview" of the probe table: open when the run has a terminal
 * for it (cfg->live); a step begins with ct_liveview_step(). */
extern const struct ct_probe_kind ct_probe_liveview;

/* Tests: force ANSI on or off and set the width (default: from the tty,
 * else 100 columns). */
void ct_liveview_set_ansi(struct ct_liveview *lv, bool ansi, unsigned width);
