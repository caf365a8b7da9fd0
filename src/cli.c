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
  ctx->max_args = verb->max_args;
  ctx->extra_args_hint = verb->extra_args_hint;
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

/* The option getopt just refused (C: '?' unknown, ':' missing value), as
 * the user wrote it.  argv[optind - 1] is not always it: "-it" stays at
 * optind until its last letter, so it may still be "exec".  getopt's
 * optopt is the letter of a short one and 0 for an unknown long one; a
 * missing value is always at the end, where argv[optind - 1] is it. */
static void refused_option(int c, char **argv, char *buf, size_t size)
{
  const char *arg = argv[optind - 1];
  if ((c == '?' && optopt == 0) || (c == ':' && strncmp(arg, "--", 2) == 0))
    snprintf(buf, size, "%.*s", (int)strcspn(arg, "="), arg);
  else
    snprintf(buf, size, "-%c", optopt);
}

/* The long option NAME of LEN bytes, or NULL. */
static const struct option *long_option(const struct cli_context *ctx, const char *name, size_t len)
{
  for (const struct option *o = ctx->longopts; o->name; o++)
    if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
      return o;
  return NULL;
}

/* Before getopt runs, over the whole command line: runc and Go spell long
 * options with one dash ("-bundle"), which getopt would read as
 * "-b undle": name it.  And words past the verb's last positional are
 * named with the verb's hint, before getopt trips on an option of theirs
 * ("run -b B ID sh -c ls"). */
static int check_args(const struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  int n_positional = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0)
      return 0;
    if (a[0] != '-' || a[1] == '\0') {
      if (ctx->shortopts[0] == '+') /* options end at the first positional */
        return 0;
      if (ctx->max_args >= 0 && ++n_positional > ctx->max_args && ctx->extra_args_hint)
        return cli_usage_error(ctx, err, "'%s' after the ID: %s", a, ctx->extra_args_hint);
      continue;
    }
    if (a[1] == '-') { /* --name VALUE: skip the value */
      const struct option *o = long_option(ctx, a + 2, strcspn(a + 2, "="));
      if (o && o->has_arg && strchr(a, '=') == NULL)
        i++;
      continue;
    }
    size_t n = strcspn(a + 1, "=");
    const struct option *o = n > 1 ? long_option(ctx, a + 1, n) : NULL;
    if (o)
      return cli_usage_error(ctx, err, "unknown option '%s': long options take two dashes ('-%s')",
                             a, a);
    /* a cluster of short ones: the first that takes a value ends it */
    for (const char *p = a + 1; *p; p++) {
      const char *k = strchr(ctx->shortopts, *p);
      if (*p != ':' && *p != '+' && k && k[1] == ':') {
        if (p[1] == '\0')
          i++;
        break;
      }
    }
  }
  return 0;
}

int cli_find_operand(const struct cli_context *ctx, int argc, char **argv, int start, int key,
                     bool *ret_key_seen)
{
  for (int i = start; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0)
      return i + 1 < argc ? i + 1 : argc;
    if (a[0] != '-' || a[1] == '\0')
      return i;
    if (a[1] == '-') {
      const struct option *o = long_option(ctx, a + 2, strcspn(a + 2, "="));
      if (o && o->val == key)
        *ret_key_seen = true;
      if (o && o->has_arg && strchr(a, '=') == NULL)
        i++;
      continue;
    }
    for (const char *p = a + 1; *p; p++) {
      if (*p == key)
        *ret_key_seen = true;
      const char *k = *p != ':' && *p != '+' ? strchr(ctx->shortopts, *p) : NULL;
      if (k && k[1] == ':') {
        if (p[1] == '\0')
          i++;
        break;
      }
    }
  }
  return argc;
}

void cli_permute_options(struct cli_context *ctx, int max_args, const char *hint)
{
  if (ctx->shortopts[0] == '+')
    memmove(ctx->shortopts, ctx->shortopts + 1, strlen(ctx->shortopts));
  ctx->max_args = max_args;
  ctx->extra_args_hint = hint;
}

int cli_next_option(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  if (optind == 0 && check_args(ctx, argc, argv, err) < 0)
    return -1;
  int c = getopt_long(argc, argv, ctx->shortopts, ctx->longopts, NULL);
  if (c == -1)
    return 0;
  if (c == ':' || c == '?') {
    char name[80];
    refused_option(c, argv, name, sizeof(name));
    if (c == ':')
      return cli_usage_error(ctx, err, "option '%s': missing value", name);
    return cli_usage_error(ctx, err, "unknown option '%s'", name);
  }
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
  if (ctx->max_args >= 0 && n > ctx->max_args)
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
    const char *title = verb->option_titles[g];
    for (const struct cli_option *o = verb->options[g]; o && o->name; o++) {
      if (o == verb->options[g] && title != NULL)
        printf("\n%s:\n", title);
      else if (!any && title == NULL)
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
