/* SPDX-License-Identifier: Apache-2.0 */
/* `oci`: main() walks the verb table (cli.h; each verb in its cmd-X.c):
 * global options, the verb's generated --help, the root check its flags
 * ask for, and the one place an error is printed and its kind turned into
 * an exit status. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "config.h"
#include "runc-personality.h"
#include "state-dir.h"
#include "version.h"

#define CLI_VERB_POINTER(v) &cli_verb_##v,
static const struct cli_verb *const verbs[] = {CLI_VERBS(CLI_VERB_POINTER)};
#undef CLI_VERB_POINTER

static void print_main_help(FILE *out)
{
  fprintf(out, "Usage: oci [--root DIR] [--runtime runc|crun|PATH] COMMAND [ARGS]\n"
               "\nRun SIF images as OCI containers.\n\nCommands:\n");
  for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
    fprintf(out, "  %-8s %s\n", verbs[i]->name, verbs[i]->summary);
  fprintf(out, "\nGlobal options:\n"
               "  --root DIR        state directory (default " SIFOCI_DEFAULT_ROOT " for root,\n"
               "                    $XDG_RUNTIME_DIR/sifoci or /tmp/sifoci-UID for others)\n"
               "  --runtime NAME    runc (default), crun, or a path to a runc-compatible runtime\n"
               "  -h, --help        this help;  oci COMMAND --help for a command's help\n"
               "  -v, --version     print the version\n");
}

static const struct cli_verb *find_verb(const char *name)
{
  for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
    if (strcmp(verbs[i]->name, name) == 0)
      return verbs[i];
  return NULL;
}

/* Edits (insert, delete, replace, swap two neighbours) from A to B, up to
 * a cap: A longer than a verb is no typo of one. */
static size_t edit_distance(const char *a, const char *b)
{
  enum { MAX = 16 };
  size_t la = strlen(a), lb = strlen(b);
  if (la >= MAX || lb >= MAX)
    return MAX;
  size_t d[MAX + 1][MAX + 1];
  for (size_t i = 0; i <= la; i++)
    for (size_t j = 0; j <= lb; j++) {
      if (i == 0 || j == 0) {
        d[i][j] = i + j;
        continue;
      }
      size_t best = MIN(d[i - 1][j] + 1, d[i][j - 1] + 1);
      best = MIN(best, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]));
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        best = MIN(best, d[i - 2][j - 2] + 1);
      d[i][j] = best;
    }
  return d[la][lb];
}

/* The verb NAME is a typo of (at most 2 edits, fewer than its length), or
 * NULL. */
static const char *closest_verb(const char *name)
{
  const char *best = NULL;
  size_t best_d = 3;
  for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
    size_t d = edit_distance(name, verbs[i]->name);
    if (d < best_d && d < strlen(name)) {
      best_d = d;
      best = verbs[i]->name;
    }
  }
  return best;
}

/* The option of VERB that ARG (written "--name" or "-k") names, or NULL. */
static const struct cli_option *find_option(const struct cli_verb *verb, const char *arg)
{
  for (int g = 0; g < CLI_OPTION_GROUPS; g++)
    for (const struct cli_option *o = verb->options[g]; o && o->name; o++)
      if ((arg[1] == '-' && strcmp(arg + 2, o->name) == 0) ||
          (arg[1] == o->key && arg[2] == '\0' && o->key < CLI_OPT_LONG))
        return o;
  return NULL;
}

/* -h or --help among the verb's options?  Option values are skipped, and
 * so is what follows the ID when the command after it is not ours. */
static bool wants_help(const struct cli_verb *verb, int argc, char **argv)
{
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0)
      return false;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
      return true;
    if (a[0] != '-' || a[1] == '\0') {
      if (verb->flags & CLI_OPTS_END_AT_ID)
        return false;
      continue;
    }
    const struct cli_option *o = find_option(verb, a);
    if (o && o->arg)
      i++; /* its value, even one that reads "-h" */
  }
  return false;
}

static int exit_status(const struct cli_verb *verb, const oci_error *e)
{
  switch (e ? e->kind : OCI_ERR_FAILED) {
  case OCI_ERR_USAGE: return CLI_EXIT_USAGE;
  case OCI_ERR_INTERRUPTED: return CLI_EXIT_INTERRUPTED;
  case OCI_ERR_NOT_FOUND: return CLI_EXIT_NOT_FOUND;
  case OCI_ERR_NOT_EXECUTABLE: return CLI_EXIT_CANNOT_EXEC;
  case OCI_ERR_FAILED:
  case OCI_ERR_KIND_MAX:
  default: break;
  }
  return verb && (verb->flags & CLI_RUN_STATUS) ? CLI_EXIT_RUN_FAILED : CLI_EXIT_ERROR;
}

static int report(const struct cli_verb *verb, oci_error *e)
{
  cleanup_free char *text = oci_error_format(e);
  fprintf(stderr, "oci: %s\n", text ? text : "out of memory");
  /* the hint is a line of its own: the message itself never holds a
   * newline (oci_error_format escapes one) */
  if (e != NULL && e->kind == OCI_ERR_USAGE) {
    if (verb)
      fprintf(stderr, "Try 'oci %s --help'.\n", verb->name);
    else
      fputs("Try 'oci --help'.\n", stderr);
  }
  return exit_status(verb, e);
}

int main(int argc, char **argv)
{
  if (runc_personality_selected(argv[0]))
    return runc_personality_main(argc, argv);
  cleanup_error oci_error *err = NULL;
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  self[n > 0 ? n : 0] = '\0';

  struct cli_context ctx = {
      .root = ctr_default_root(),
      .runtime = SIFOCI_DEFAULT_RUNTIME,
      .self_path = self,
  };
  /* unset or empty: the build's default */
  const char *env_runtime = getenv("SIFOCI_RUNTIME");
  if (env_runtime != NULL && env_runtime[0] != '\0')
    ctx.runtime = env_runtime;

  static const struct option global_opts[] = {
      {"root", required_argument, NULL, 'r'},
      {"runtime", required_argument, NULL, 'R'},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'v'},
      {NULL, 0, NULL, 0},
  };
  int c;
  opterr = 0;
  /* '+': stop at the verb; its options are its own.  ':': a missing value
   * apart from an unknown option. */
  while ((c = getopt_long(argc, argv, "+:hv", global_opts, NULL)) != -1) {
    switch (c) {
    case 'r': ctx.root = optarg; break;
    case 'R': ctx.runtime = optarg; break;
    case 'h': print_main_help(stdout); return 0;
    case 'v': printf("oci version %s\n", SIFOCI_VERSION); return 0;
    case ':': /* always the last argument: argv[optind - 1] is it */
      cli_usage_error(NULL, &err, "option '%s': missing value", argv[optind - 1]);
      return report(NULL, err);
    default:
      /* optopt: the letter of an unknown short one (perhaps mid "-xy") */
      if (optopt != 0)
        cli_usage_error(NULL, &err, "unknown global option '-%c'", optopt);
      else
        cli_usage_error(NULL, &err, "unknown global option '%s'", argv[optind - 1]);
      return report(NULL, err);
    }
  }
  if (optind >= argc) {
    print_main_help(stderr);
    return CLI_EXIT_USAGE;
  }
  if (ctx.root[0] != '/') {
    oci_error_set_kind(&err, OCI_ERR_USAGE, 0, "--root '%s' must be an absolute path", ctx.root);
    return report(NULL, err);
  }
  const char *name = argv[optind];
  const struct cli_verb *verb = find_verb(name);
  if (verb == NULL) {
    const char *guess = closest_verb(name);
    if (guess)
      cli_usage_error(NULL, &err, "unknown command '%s': did you mean '%s'?", name, guess);
    else
      cli_usage_error(NULL, &err, "unknown command '%s'", name);
    return report(NULL, err);
  }
  if (cli_set_verb(&ctx, verb, &err) < 0)
    return report(verb, err);
  /* Verb argv: argv[0] is the verb name, as getopt expects. */
  int vargc = argc - optind;
  char **vargv = argv + optind;
  if (wants_help(verb, vargc, vargv)) {
    cli_print_verb_help(verb);
    return 0;
  }
  if ((verb->flags & CLI_ROOT) && geteuid() != 0) {
    oci_error_set(&err, 0, "%s: this command must be run as root", verb->name);
    return report(verb, err);
  }
  if (ctr_root_act_as_owner(ctx.root, &err) < 0)
    return report(verb, err);
  optind = 0; /* full getopt reset for the verb */
  opterr = 0;
  int r = verb->handler(&ctx, vargc, vargv, &err);
  fflush(stdout);
  if (r < 0)
    return report(verb, err);
  return r;
}
