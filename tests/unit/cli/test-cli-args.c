/* SPDX-License-Identifier: Apache-2.0 */
/* src/cli.c's option parsing: what a refused option is called, missing
 * values, runc's single-dash long options, words after the last
 * positional (issue 11, point 5). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "tap.h"

static const struct cli_option opts[] = {
    {"tty", 't', NULL, "t"},     {"interactive", 'i', NULL, "i"},   {"env", 'e', "K=V", "e"},
    {"bundle", 'b', "DIR", "b"}, {"cwd", CLI_OPT_LONG, "DIR", "c"}, {NULL, 0, NULL, NULL},
};

static int handler(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  return 0;
}

static const struct cli_verb verb = {
    .name = "demo",
    .usage = "ID",
    .summary = "s",
    .options = {opts},
    .min_args = 1,
    .max_args = 1,
    .extra_args_hint = "the hint",
    .handler = handler,
};

/* Parses ARGV (NULL-terminated) to its end: NULL when it parsed, else the
 * error's first line (static). */
static const char *parse(char **argv)
{
  static char first[512];
  struct cli_context ctx = {0};
  oci_error *err = NULL;
  int argc = 0;
  while (argv[argc])
    argc++;
  if (cli_set_verb(&ctx, &verb, &err) < 0)
    return "set_verb failed";
  optind = 0;
  opterr = 0;
  int c;
  while ((c = cli_next_option(&ctx, argc, argv, &err)) > 0)
    ;
  if (c == 0) {
    oci_error_free(&err);
    return NULL;
  }
  snprintf(first, sizeof(first), "%.*s", (int)strcspn(err->msg, "\n"), err->msg);
  oci_error_free(&err);
  return first;
}

#define ARGV(...) ((char *[]){"demo", __VA_ARGS__, NULL})

int main(void)
{
  TAP_OK(parse(ARGV("-ti", "id")) == NULL, "-ti parses");
  TAP_OK(parse(ARGV("-it", "id")) == NULL, "-it parses");
  TAP_OK(parse(ARGV("-teFOO=1", "id")) == NULL, "-teFOO=1: a value at the end of a cluster");
  TAP_IS_STR(parse(ARGV("-x", "id")), "demo: unknown option '-x'", "-x is named");
  TAP_IS_STR(parse(ARGV("-tx", "id")), "demo: unknown option '-x'", "-x in '-tx' is named");
  TAP_IS_STR(parse(ARGV("-xt", "id")), "demo: unknown option '-x'", "-x in '-xt' is named");
  TAP_IS_STR(parse(ARGV("--tty", "-xt", "id")), "demo: unknown option '-x'",
             "-x in '-xt' after a long option is named");
  TAP_IS_STR(parse(ARGV("--frob=2", "id")), "demo: unknown option '--frob'", "--frob=2 is named");
  TAP_IS_STR(parse(ARGV("id", "--env")), "demo: option '--env': missing value",
             "--env: missing value");
  TAP_IS_STR(parse(ARGV("id", "--cwd")), "demo: option '--cwd': missing value",
             "a long-only option: missing value");
  TAP_IS_STR(parse(ARGV("id", "-te")), "demo: option '-e': missing value", "-te: missing value");
  TAP_IS_STR(parse(ARGV("-bundle", "/b", "id")),
             "demo: unknown option '-bundle': long options take two dashes ('--bundle')",
             "runc's -bundle is named");
  TAP_OK(parse(ARGV("-b", "-bundle", "id")) == NULL, "'-bundle' as a value is a value");
  TAP_IS_STR(parse(ARGV("-b", "B", "id", "sh", "-c", "ls")), "demo: 'sh' after the ID: the hint",
             "words after the last positional: the verb's hint, before getopt sees -c");
  TAP_OK(parse(ARGV("--env", "a", "id")) == NULL, "a long option's value is no positional");
  return tap_done();
}
