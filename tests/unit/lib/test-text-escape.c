/* SPDX-License-Identifier: Apache-2.0 */
/* Escaping untrusted text for the terminal, and oci_error_format using it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "tap.h"
#include "text-escape.h"

static void is_escaped(const char *in, const char *want, const char *what)
{
  char *got = text_escape(in);
  TAP_IS_STR(got, want, "%s", what);
  TAP_IS_INT(text_escaped_len(in), strlen(want), "%s: length", what);
  free(got);
}

int main(void)
{
  is_escaped("plain/path_1.sif", "plain/path_1.sif", "printable ASCII is kept");
  is_escaped("a\nb\tc\rd", "a\\nb\\tc\\rd", "newline, tab, CR by name");
  is_escaped("\x1b[31mred", "\\x1b[31mred", "ESC as \\x1b");
  is_escaped("x\x7fy\x01", "x\\x7fy\\x01", "DEL and other C0 as \\xHH");
  is_escaped("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
             "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "valid UTF-8 is kept");
  is_escaped("a\x9b"
             "31m",
             "a\\x9b31m", "a raw C1 byte (CSI) is escaped");
  is_escaped("a\xc2\x9b"
             "31m",
             "a\\xc2\\x9b31m", "a UTF-8-encoded C1 control is escaped");
  is_escaped("\xc3(\xe9\xff", "\\xc3(\\xe9\\xff", "invalid UTF-8 bytes are escaped");
  is_escaped("\xc0\xaf \xed\xa0\x80", "\\xc0\\xaf \\xed\\xa0\\x80", "overlong and surrogate forms");
  is_escaped("\xe2\x82", "\\xe2\\x82", "a sequence cut by the end");
  is_escaped("", "", "empty");

  oci_error *e = NULL;
  oci_error_set(&e, ENOENT, "container 'a\nb': open '%s'", "/x\x1b]0;t\x07");
  char *text = oci_error_format(e);
  TAP_IS_STR(text, "container 'a\\nb': open '/x\\x1b]0;t\\x07': No such file or directory",
             "an error is formatted on one line, escaped");
  free(text);
  oci_error_free(&e);
  return tap_done();
}
