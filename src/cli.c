/* SPDX-License-Identifier: Apache-2.0 */
/* What every verb shares: its option table read by getopt, the help
 * generated from that table, usage errors, JSON output. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

#define HELP_COLUMN 25 /* where an option's help text starts */

int cli_set_verb(struct cli_context *ctx, const struct cli_verb *verb, oci_error **err)
{
  ctx->verb = verb;
  size_t n = 0;
  char *s = ctx->shortopts;
  /* '+': stop at the first positional; ':': tell a missing value apart */
  if (verb->flags & CLI_OPTS_END_AT_ID)
    *s++ = '+';
  *s++ = ':';
  for (int g = 0; g < CLI_OPTION_GROUPS; g++) {
    for (const struct cli_option *o = verb->options[g]; o && o->name; o++) {
      if (n == CLI_MAX_OPTIONS) /* a table that outgrew cli.h: a build's error */
        return oci_error_set(err, 0, "%s: more than %d options", verb->name, CLI_MAX_OPTIONS);
      ctx->longopts[n++] = (struct option){
          .name = o->name, .has_arg = o->arg ? required_argument : no_argument, .val = o->key};
      if (o->key < CLI_OPT_LONG) {
        *s++ = (char)o->key;
        if (o->arg)
          *s++ = ':';
      }
    }
  }
  *s = '\0';
  ctx->longopts[n] = (struct option){0};
  return 0;
}

int cli_next_option(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  int c = getopt_long(argc, argv, ctx->shortopts, ctx->longopts, NULL);
  if (c == -1)
    return 0;
  if (c == ':')
    return cli_usage_error(ctx, err, "option '%s' needs a value", argv[optind - 1]);
  if (c == '?')
    return cli_usage_error(ctx, err, "unknown option '%s'", argv[optind - 1]);
  return c;
}

int cli_usage_error(const struct cli_context *ctx, oci_error **err, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;
  va_start(ap, fmt);
  int r = vasprintf(&msg, fmt, ap);
  va_end(ap);
  const char *verb = ctx && ctx->verb ? ctx->verb->name : NULL;
  /* the "Try 'oci VERB --help'." line is report()'s (src/oci.c): a
   * message is one line */
  if (verb)
    return oci_error_set_kind(err, OCI_ERR_USAGE, 0, "%s: %s", verb, r < 0 ? "usage error" : msg);
  return oci_error_set_kind(err, OCI_ERR_USAGE, 0, "%s", r < 0 ? "usage error" : msg);
}

int cli_check_args(const struct cli_context *ctx, int n, oci_error **err)
{
  const struct cli_verb *v = ctx->verb;
  if (n < v->min_args)
    return cli_usage_error(ctx, err, "missing argument (usage: oci %s %s)", v->name, v->usage);
  if (v->max_args >= 0 && n > v->max_args)
    return cli_usage_error(ctx, err, "too many arguments (usage: oci %s %s)", v->name, v->usage);
  return 0;
}

/* "  -b, --bundle DIR       the OCI bundle", continuation lines indented */
static void print_option(const struct cli_option *o)
{
  char head[64];
  int n = snprintf(head, sizeof(head), "  %c%c%s--%s%s%s", o->key < CLI_OPT_LONG ? '-' : ' ',
                   o->key < CLI_OPT_LONG ? o->key : ' ', o->key < CLI_OPT_LONG ? ", " : "  ",
                   o->name, o->arg ? " " : "", o->arg ? o->arg : "");
  printf("%-*s", HELP_COLUMN - 1, head);
  if (n >= HELP_COLUMN - 1)
    printf("\n%*s", HELP_COLUMN - 1, "");
  for (const char *p = o->help ? o->help : ""; *p;) {
    const char *nl = strchrnul(p, '\n');
    printf(" %.*s\n", (int)(nl - p), p);
    if (*nl == '\0')
      return;
    p = nl + 1;
    printf("%*s", HELP_COLUMN - 1, "");
  }
  putchar('\n');
}

void cli_print_verb_help(const struct cli_verb *verb)
{
  printf("Usage: oci %s %s\n\n%s\n", verb->name, verb->usage, verb->summary);
  bool any = false;
  for (int g = 0; g < CLI_OPTION_GROUPS; g++) {
    for (const struct cli_option *o = verb->options[g]; o && o->name; o++) {
      if (!any)
        printf("\nOptions:\n");
      any = true;
      print_option(o);
    }
  }
  if (verb->flags & CLI_ROOT)
    printf("\n'oci %s' must be run as root.\n", verb->name);
}

int cli_print_json(json_t *j, oci_error **err)
{
  cleanup_free char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  if (text == NULL)
    return oci_error_set(err, ENOMEM, "JSON output");
  puts(text);
  return 0;
}
