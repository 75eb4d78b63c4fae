/* html — see html.h. */
#include "loadgen/report/html.h"

#include <stdlib.h>

void ct_html_esc(FILE *f, const char *s)
{
	if (!s)
		return;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			/* C0 controls and DEL are not allowed in HTML text. */
			if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
				break;
			fputc(*p, f);
		}
	}
}

char *ct_html_esc_str(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	ct_html_esc(f, s);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
