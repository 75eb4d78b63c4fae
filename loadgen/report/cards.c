/* cards — before and after, for every sweep key that is a kernel setting.
 *
 * A card per value of the key: the best rate that held (and whether it is
 * proven to last), what broke first, the peaks and a small chart of its
 * steps. A card compares like with like: in a sweep of several keys each
 * row of cards keeps the other keys alike (points.c), so that no card
 * mixes a step that failed with another setting's step that held. The
 * first such key gets its cards row by row; the others, a table with one
 * row per context and one cell per value. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "loadgen/report/html.h"
#include "loadgen/report/report_int.h"

/* The peaks over the steps of a card. */
struct peaks {
	double ctp, ctl, twc, tws, p99;
};

static double max_nan(double a, double b)
{
	return isnan(a) ? b : isnan(b) ? a : fmax(a, b);
}

static void value_peaks(struct ct_rep *r, const char *key, const char *val, const json_t *ctx,
			struct peaks *pk)
{
	*pk = (struct peaks){NAN, NAN, NAN, NAN, NAN};
	for (size_t k = 0; k < r->n_steps; k++) {
		const struct ct_rep_step *s = &r->steps[k];
		if (!ct_rep_step_matches(s, key, val, ctx))
			continue;
		pk->ctp = max_nan(pk->ctp, s->ct_peak);
		if (!isnan(s->ct_limit))
			pk->ctl = s->ct_limit;
		pk->twc = max_nan(pk->twc, s->tw_client);
		pk->tws = max_nan(pk->tws, s->tw_server);
		pk->p99 = max_nan(pk->p99, s->p99);
	}
}

/* The card's big number and what it means: the best rate that held,
 * "not proven" when the only rate that held is not proven to last. */
static void card_big(FILE *f, const struct ct_rep_tally *o)
{
	const struct ct_rep_step *b = o->best, *u = o->ff;
	if (o->clean > 0) {
		fprintf(f, "<div class=\"big\">%s/s</div><div class=\"meta\">",
			CT_REP_FC(o->clean));
		if (b && b->has_sustain && b->sustain_off)
			fprintf(f,
				"the highest rate that completed without failures, for its %s s "
				"only ([load] sustain = off)",
				CT_REP_FC(b->duration_s));
		else if (b && b->has_sustain)
			fputs("the highest rate that held, sustained", f);
		else
			fputs("the highest rate that completed without failures", f);
		fputs("</div>", f);
	} else if (u && u->outcome == CT_REP_UNSUSTAINED) {
		fprintf(
		    f,
		    "<div class=\"big uns\">not proven</div><div class=\"meta\">%s/s held %s s, "
		    "not proven to last</div>",
		    CT_REP_FC(u->rate_target), CT_REP_FC(u->duration_s));
	} else {
		fputs("<div class=\"big\">none</div><div class=\"meta\">no step completed without "
		      "failures</div>",
		      f);
	}
}

/* One card: key = val (with ctx), the best rate that held, what broke
 * first, the peaks, and the small chart of its steps. */
static void value_card(struct ct_rep *r, FILE *f, const char *key, const char *val,
		       const json_t *ctx, const struct ct_rep_mini *mini)
{
	const char *shortk = strrchr(key, '.') + 1;
	struct ct_rep_tally o;
	struct peaks pk;
	ct_rep_value_outcome(r, key, val, ctx, &o);
	value_peaks(r, key, val, ctx, &pk);
	fputs("<div class=\"card\" data-value=\"", f);
	ct_html_esc(f, val);
	fputs("\"><h3>", f);
	ct_html_esc(f, shortk);
	fputs(" = ", f);
	ct_html_esc(f, val);
	fputs("</h3>", f);
	card_big(f, &o);
	if (o.ff && o.ff->outcome == CT_REP_UNSUSTAINED) {
		fprintf(f, "<p class=\"uns\">Not proven at %s/s: ", CT_REP_FC(o.ff->rate_target));
		ct_html_esc(f, o.ff->proof);
		fputs(".</p>", f);
	} else if (o.ff) {
		char ph[400];
		ct_rep_cap(ct_rep_outcome_phrase(o.ff), ph, sizeof(ph));
		fputs("<p>", f);
		ct_html_esc(f, ph);
		fprintf(f, " at %s/s.</p>", CT_REP_FC(o.ff->rate_target));
	} else if (o.best && o.best->has_sustain && o.best->sustained && !o.best->sustain_off) {
		const char *why = o.best->proof;
		fputs("<p>No step failed, and it is proven to last: ", f);
		ct_html_esc(f, strncmp(why, "proven: ", 8) ? why : why + 8);
		fputs(".</p>", f);
	} else {
		fputs("<p>No step failed.</p>", f);
	}
	char ms[32];
	ct_rep_fmt_ms(pk.p99, ms, sizeof(ms));
	fprintf(f, "<dl><dt>conntrack peak</dt><dd>%s", CT_REP_FC(pk.ctp));
	if (!isnan(pk.ctl))
		fprintf(f, " of %s", CT_REP_FC(pk.ctl));
	fprintf(f,
		"</dd><dt>TIME_WAIT peak, client</dt><dd>%s</dd><dt>TIME_WAIT peak, "
		"server</dt><dd>%s</dd><dt>worst connect p99</dt><dd>%s</dd></dl>",
		CT_REP_FC(pk.twc), CT_REP_FC(pk.tws), ms);
	if (mini->yc && mini->yf && r->n > 1)
		ct_rep_chart_mini(r, f, key, val, ctx, mini);
	fputs("</div>", f);
}

static void section_head(FILE *f, const char *key, const char *cap)
{
	fputs("<h2>Before and after: ", f);
	ct_html_esc(f, strrchr(key, '.') + 1);
	fputs("</h2><p class=\"cap\">The same load with each value of <code>", f);
	ct_html_esc(f, key + 7);
	fputs("</code>", f);
	fputs(cap, f);
	fputs("</p>", f);
}

/* The cards of key, a row per context. */
static void cards(struct ct_rep *r, FILE *f, const char *key, const char *const *vals, size_t nv,
		  const json_t *ctxs)
{
	struct ct_rep_mini mini;
	size_t nc = json_array_size(ctxs);
	ct_rep_mini_series(r, &mini);
	section_head(f, key, nc > 1 ? "; in each row the other settings are alike." : ".");
	for (size_t c = 0; c < nc; c++) {
		const json_t *ctx = json_array_get(ctxs, c);
		if (nc > 1) {
			char lbl[300];
			ct_rep_ctx_text(ctx, lbl, sizeof(lbl));
			fputs("<h3 class=\"ctx\">With ", f);
			ct_html_esc(f, lbl);
			fputs("</h3>", f);
		}
		fputs("<div class=\"cards\">", f);
		for (size_t j = 0; j < nv; j++)
			value_card(r, f, key, vals[j], nc > 1 ? ctx : NULL, &mini);
		fputs("</div>", f);
	}
	free(mini.yc);
	free(mini.yf);
}

/* The values of key side by side in a table, a row per context. */
static void table(struct ct_rep *r, FILE *f, const char *key, const char *const *vals, size_t nv,
		  const json_t *ctxs)
{
	section_head(f, key, "; in each row the other settings are alike.");
	fputs("<div class=\"tablewrap\"><table class=\"ba\" data-key=\"", f);
	ct_html_esc(f, key);
	fputs("\"><thead><tr><th class=\"l\">other settings</th>", f);
	for (size_t j = 0; j < nv; j++) {
		fputs("<th class=\"l\">", f);
		ct_html_esc(f, strrchr(key, '.') + 1);
		fputs(" = ", f);
		ct_html_esc(f, vals[j]);
		fputs("</th>", f);
	}
	fputs("</tr></thead><tbody>", f);
	for (size_t c = 0; c < json_array_size(ctxs); c++) {
		const json_t *ctx = json_array_get(ctxs, c);
		char lbl[300], cell[700];
		ct_rep_ctx_text(ctx, lbl, sizeof(lbl));
		fputs("<tr><td class=\"l\">", f);
		ct_html_esc(f, lbl);
		fputs("</td>", f);
		for (size_t j = 0; j < nv; j++) {
			const char *cls =
			    ct_rep_outcome_short(r, key, vals[j], ctx, cell, sizeof(cell));
			fprintf(f, "<td class=\"l %s\">", cls);
			ct_html_esc(f, cell);
			fputs("</td>", f);
		}
		fputs("</tr>", f);
	}
	fputs("</tbody></table></div>", f);
}

void ct_rep_before_after(struct ct_rep *r, FILE *f)
{
	bool first = true;
	for (size_t a = 0; a < r->n_sweep; a++) {
		const char *key = r->sweep_keys[a], *vals[16], *others[CT_REP_MAX_SWEEP];
		if (strncmp(key, "sysctl.", 7))
			continue;
		size_t nv = ct_rep_axis_values(r, key, vals, 16);
		if (nv < 2)
			continue;
		size_t no = ct_rep_other_keys(r, key, others, CT_REP_MAX_SWEEP);
		json_t *ctxs = ct_rep_contexts(r, others, no);
		if (!ctxs)
			return;
		if (first || json_array_size(ctxs) <= 1)
			cards(r, f, key, vals, nv, ctxs);
		else
			table(r, f, key, vals, nv, ctxs);
		first = false;
		json_decref(ctxs);
	}
}
