/* SPDX-License-Identifier: Apache-2.0 */
/* bundle/toml-parse.c, the reader of --apply-cgroups' TOML files: good
 * files become the JSON object of the same shape; each bad one is refused
 * with the file's name and the line it stopped at. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "toml-parse.h"

/* TEXT parsed, as compact JSON with sorted keys (static), or the error
 * message with "ERR: " in front. */
static const char *parse(const char *text)
{
  static char out[4096];
  json_t *v = NULL;
  oci_error *err = NULL;
  if (bundle_toml_parse(text, strlen(text), "t.toml", &v, &err) < 0) {
    char *msg = oci_error_format(err);
    snprintf(out, sizeof(out), "ERR: %s", msg ? msg : "?");
    free(msg);
    oci_error_free(&err);
    return out;
  }
  char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
  snprintf(out, sizeof(out), "%s", s ? s : "?");
  free(s);
  json_decref(v);
  return out;
}

static void good(void)
{
  TAP_IS_STR(parse(""), "{}", "an empty file is an empty object");
  TAP_IS_STR(parse("# only a comment\n\n   \t\n"), "{}", "comments and blank lines");
  TAP_IS_STR(parse("a = 1\nb = -2\nc = +3\n"), "{\"a\":1,\"b\":-2,\"c\":3}",
             "top-level integers, signed");
  TAP_IS_STR(parse("[memory]\n    limit = 52_428_800 # fifty MiB\n"),
             "{\"memory\":{\"limit\":52428800}}", "a table, an integer with '_', a comment after");
  TAP_IS_STR(parse("x = 9223372036854775807\ny = -9223372036854775808\n"),
             "{\"x\":9223372036854775807,\"y\":-9223372036854775808}", "int64's limits");
  TAP_IS_STR(parse("x = 0\n"), "{\"x\":0}", "zero");
  TAP_IS_STR(parse("t = true\nf = false\n"), "{\"f\":false,\"t\":true}", "booleans");
  TAP_IS_STR(parse("s = \"a \\\"b\\\" \\\\ \\t\\u00e9\"\nl = 'C:\\path'\n"),
             "{\"l\":\"C:\\\\path\",\"s\":\"a \\\"b\\\" \\\\ \\t\xc3\xa9\"}",
             "basic string escapes and \\u, a literal string kept as written");
  TAP_IS_STR(parse("[a.b]\nx = 1\n[a]\ny = 2\n[a.c.d]\nz = 3\n"),
             "{\"a\":{\"b\":{\"x\":1},\"c\":{\"d\":{\"z\":3}},\"y\":2}}",
             "nested tables; a parent defined after its child");
  TAP_IS_STR(parse("[ a . b ]\nk-1 = 1\n"), "{\"a\":{\"b\":{\"k-1\":1}}}",
             "blanks in a header, '-' in a key");
  TAP_IS_STR(parse("[[devices]]\nallow = false\naccess = \"rwm\"\n"
                   "[[devices]]\nallow = true\ntype = \"c\"\nmajor = 1\nminor = 3\n"),
             "{\"devices\":[{\"access\":\"rwm\",\"allow\":false},"
             "{\"allow\":true,\"major\":1,\"minor\":3,\"type\":\"c\"}]}",
             "an array of tables");
  TAP_IS_STR(parse("[[a]]\n[a.b]\nx = 1\n[[a]]\n[a.b]\nx = 2\n"),
             "{\"a\":[{\"b\":{\"x\":1}},{\"b\":{\"x\":2}}]}",
             "the same sub-table in each table of an array");
  TAP_IS_STR(parse("[m]\r\nlimit = 5\r\n"), "{\"m\":{\"limit\":5}}", "CRLF line ends");
  TAP_IS_STR(parse("a = 1"), "{\"a\":1}", "no newline at the end");
}

static void bad(void)
{
  static const struct {
    const char *text, *want, *what;
  } cases[] = {
      {"[memory]\nlimit = 1.5\n", "'t.toml': line 2: floats are not supported here", "a float"},
      {"a = 1e3\n", "line 1: floats", "an exponent"},
      {"a = 0x10\n", "line 1: only decimal integers", "hex"},
      {"a = 1979-05-27\n", "line 1: only decimal integers", "a date"},
      {"a = 007\n", "line 1: integers may not have leading zeros", "leading zeros"},
      {"a = 1__0\n", "line 1: '_' must be between digits", "a double '_'"},
      {"a = 10_\n", "line 1: '_' must be between digits", "a trailing '_'"},
      {"a = 9223372036854775808\n", "line 1: integer out of range", "beyond int64"},
      {"a = -9223372036854775809\n", "line 1: integer out of range", "below int64"},
      {"\n\n[a]\n[a]\n", "line 4: table defined twice", "a table twice"},
      {"a = 1\na = 2\n", "line 2: key defined twice", "a key twice"},
      {"a = 1\n[a]\n", "line 2: a table header names a key that already holds a value",
       "a header over a value"},
      {"[a]\n[[a]]\n", "line 2: [[array]] names a table", "[[a]] over a table"},
      {"[a\n", "line 1: expected ']'", "an unclosed header"},
      {"[[a]\n", "line 1: expected ']]'", "an unclosed array header"},
      {"[]\n", "line 1: expected a key", "an empty header"},
      {"[a.b.c.d.e.f.g.h.i]\n", "line 1: tables nested too deep", "too deep"},
      {"a = [1, 2]\n", "line 1: arrays and inline tables are not supported", "an array"},
      {"a = {b = 1}\n", "line 1: arrays and inline tables", "an inline table"},
      {"a.b = 1\n", "line 1: dotted keys are not supported", "a dotted key"},
      {"\"a\" = 1\n", "line 1: quoted keys are not supported", "a quoted key"},
      {"a\n", "line 1: expected '=' after the key", "a key alone"},
      {"a =\n", "line 1: a key without a value", "no value"},
      {"a = truex\n", "line 1: expected a value", "a word after true"},
      {"a = nope\n", "line 1: expected a value", "a bare word"},
      {"a = 1 2\n", "line 1: unexpected text after the value", "two values"},
      {"a = \"open\n", "line 1: unclosed string", "an unclosed string"},
      {"a = \"\"\"x\"\"\"\n", "line 1: multi-line strings are not supported", "a multi-line one"},
      {"a = \"\\q\"\n", "line 1: unknown escape", "an unknown escape"},
      {"a = \"\\u12\"\n", "line 1: \\u needs 4 hex digits", "a short \\u"},
      {"a = \"\\u0000\"\n", "line 1: \\u names NUL or a surrogate", "\\u0000"},
      {"a = \"\\ud800\"\n", "line 1: \\u names NUL or a surrogate", "a surrogate"},
      {"a = \"x\x01y\"\n", "line 1: a control character", "a control character"},
      {"a = \"\xff\"\n", "line 1: a string that is not UTF-8", "not UTF-8"},
      {"= 1\n", "line 1: expected a key", "no key"},
      {"\n\n\nkey = 1 # ok\n%\n", "line 5: expected a key", "the line counted past comments"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const char *got = parse(cases[i].text);
    TAP_OK(strncmp(got, "ERR: 't.toml': line ", 20) == 0 && strstr(got, cases[i].want) != NULL,
           "%s: refused with the file, the line and '%s'", cases[i].what, cases[i].want);
    if (strstr(got, cases[i].want) == NULL)
      printf("#   got: %s\n", got);
  }
  /* a NUL byte: the length given, not strlen, is the file */
  json_t *v = NULL;
  oci_error *err = NULL;
  TAP_OK(bundle_toml_parse("a = 1\n\0b = 2\n", 13, "n.toml", &v, &err) < 0 && err != NULL &&
             strstr(err->msg, "'n.toml': holds a NUL byte") != NULL && v == NULL,
         "a NUL byte in the file is refused, *ret untouched");
  oci_error_free(&err);
}

int main(void)
{
  good();
  bad();
  return tap_done();
}
