/* html — report.html: the page, and the escaping every text from a run
 * directory goes through.
 *
 * Escaping: the scenario name and description, kernel messages, settings
 * and every label go through ct_html_esc(), which is safe both as element
 * text and inside a double- or single-quoted attribute (the SVG charts are
 * inline in the page, so the same rule holds for them). Control characters
 * other than tab and newline are dropped; UTF-8 passes through. */
#pragma once

#include <stdio.h>

/* Write s (NULL: nothing) to f, safe in HTML/SVG text and quoted attributes. */
void ct_html_esc(FILE *f, const char *s);

/* The same into a new string (free()); NULL on ENOMEM. */
char *ct_html_esc_str(const char *s);
