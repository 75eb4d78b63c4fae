/* HTML escaping: any text from a run directory (a scenario description, a
 * kernel line, a setting) stays text in report.html, in element content and
 * in quoted attributes alike. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen/report/html.h"

Test(html, escaping_hostile_text)
{
	static const char *const hostile[] = {
	    "</p><script>alert('x')</script>",
	    "\"><img src=x onerror=alert(1)>",
	    "' onmouseover='alert(1)",
	    "<!-- --><![CDATA[ ]]>",
	    "a & b &amp; c",
	    "ctl\x01\x1b[31mchars\x7f",
	};
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		char *e = ct_html_esc_str(hostile[i]);
		cr_assert_not_null(e);
		cr_expect_null(strpbrk(e, "<>\"'"), "no markup character survives: %s", e);
		for (const char *p = e; *p; p++)
			cr_expect((unsigned char)*p >= 0x20 && *p != 0x7f, "no control byte in %s",
				  e);
		free(e);
	}
	char *e = ct_html_esc_str("a & b <c> \"d\" 'e'");
	cr_expect_str_eq(e, "a &amp; b &lt;c&gt; &quot;d&quot; &#39;e&#39;");
	free(e);
	e = ct_html_esc_str("caf\xc3\xa9 \xe2\x80\x94 ok\nnext");
	cr_expect_str_eq(e, "caf\xc3\xa9 \xe2\x80\x94 ok\nnext", "UTF-8 and newlines pass through");
	free(e);
}
