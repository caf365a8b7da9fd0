/* SPDX-License-Identifier: Apache-2.0 */
/* `oci`: a verb table drives main(); every verb lives in src/cmd-<verb>.c. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "config.h"
#include "runc-personality.h"

static const struct cli_verb verbs[] = {
    {"inspect", cmd_inspect, 1, 1, "[--json] IMAGE", "show a SIF image's objects and image config",
     "  --json        print JSON instead of a table\n"},
    {"mount", cmd_mount, 2, 2, "[--no-seccomp] IMAGE BUNDLE",
     "make an OCI bundle from a SIF image (read-only image, writable overlay)",
     "  --no-seccomp  leave the default seccomp profile out of config.json\n"},
    {"umount", cmd_umount, 1, 1, "BUNDLE", "undo `oci mount`: unmount and remove the bundle", NULL},
    {"create", cmd_create, 1, 1, "-b BUNDLE [--pid-file F] [--log-path P] [--log-format F] ID",
     "create a container from a bundle, under a monitor",
     "  -b, --bundle DIR       the OCI bundle (required)\n"
     "      --pid-file FILE    write the container's pid here\n"
     "  -l, --log-path FILE    container log (default: STATE/ID/container.log)\n"
     "      --log-format FMT   kubernetes (default) or json\n"},
    {"start", cmd_start, 1, 1, "ID", "start a created container", NULL},
    {"state", cmd_state, 1, 1, "ID", "print a container's state as JSON", NULL},
    {"attach", cmd_attach, 1, 1, "[--detach-keys SEQ] [--no-stdin] ID",
     "attach to a container's console or stdio",
     "      --detach-keys SEQ  detach sequence (default ctrl-p,ctrl-q; '' for none)\n"
     "      --no-stdin         do not forward stdin\n"},
    {"exec", cmd_exec, 2, -1, "[-t] [-d] [-e K=V] [--cwd D] [-u U] ID CMD [ARG...]",
     "run a command in a running container",
     "  -t, --tty          allocate a terminal\n"
     "  -d, --detach       do not wait for the command\n"
     "  -e, --env K=V      set an environment variable (repeatable)\n"
     "      --cwd DIR      working directory\n"
     "  -u, --user U[:G]   user (and group) to run as\n"},
    {"kill", cmd_kill, 1, 2, "[-s SIG] [-f] [-t SECONDS] ID [SIG]", "send a signal to a container",
     "  -s, --signal SIG   signal to send (default: stop it, see --timeout)\n"
     "  -f, --force        send SIGKILL\n"
     "  -t, --timeout SEC  with no signal named: SIGTERM, then SIGKILL after SEC\n"
     "                     seconds if it still runs (default 5; 0: SIGTERM only)\n"},
    {"delete", cmd_delete, 1, 1, "[-f] ID", "delete a container and its state",
     "  -f, --force        kill a running container first; clean up after a dead monitor\n"},
    {"pause", cmd_pause, 1, 1, "ID", "pause all processes in a container", NULL},
    {"resume", cmd_resume, 1, 1, "ID", "resume a paused container", NULL},
    {"update", cmd_update, 1, 1, "[-f FILE|-] ID", "update a container's resource limits",
     "  -f, --from-file F  OCI LinuxResources JSON ('-' reads stdin)\n"},
    {"run", cmd_run, 1, 1,
     "-b BUNDLE [--pid-file F] [--log-path P] [--log-format F] [-d] [--detach-keys SEQ] ID",
     "create, start and attach to a container; remove it when it exits",
     "  -b, --bundle DIR       the OCI bundle (required)\n"
     "      --pid-file FILE    write the container's pid here\n"
     "  -l, --log-path FILE    container log\n"
     "      --log-format FMT   kubernetes (default) or json\n"
     "  -d, --detach           start in the background and return\n"
     "      --detach-keys SEQ  detach sequence (default ctrl-p,ctrl-q; '' for none)\n"},
    {"list", cmd_list, 0, 0, "[--format table|json] [-q]", "list containers",
     "      --format FMT   table (default) or json\n"
     "  -q, --quiet        print IDs only\n"},
    {"logs", cmd_logs, 1, 1, "[-f] [--tail N] ID", "print a container's output from its log",
     "  -f, --follow       keep printing until the container exits\n"
     "      --tail N       only the last N lines\n"},
};

static void print_main_help(FILE *out)
{
  fprintf(out, "Usage: oci [--root DIR] [--runtime runc|crun|PATH] COMMAND [ARGS]\n"
               "\nRun SIF images as OCI containers (root only).\n\nCommands:\n");
  for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
    fprintf(out, "  %-8s %s\n", verbs[i].name, verbs[i].summary);
  fprintf(out, "\nGlobal options:\n"
               "  --root DIR        state directory (default " SIFOCI_DEFAULT_ROOT ")\n"
               "  --runtime NAME    runc (default), crun, or a path to a runc-compatible runtime\n"
               "  -h, --help        this help;  oci COMMAND --help for a command's help\n"
               "  -v, --version     print the version\n");
}

void cli_print_verb_help(const struct cli_verb *verb)
{
  printf("Usage: oci %s %s\n\n%s\n", verb->name, verb->usage, verb->summary);
  if (verb->options)
    printf("\nOptions:\n%s", verb->options);
}

int cli_usage_error(const struct cli_context *ctx, oci_error **err, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;
  va_start(ap, fmt);
  int r = vasprintf(&msg, fmt, ap);
  va_end(ap);
  const char *verb = ctx && ctx->verb ? ctx->verb->name : NULL;
  if (verb)
    return oci_error_set_kind(err, OCI_ERR_USAGE, 0, "%s: %s\nTry 'oci %s --help'.", verb,
                              r < 0 ? "usage error" : msg, verb);
  return oci_error_set_kind(err, OCI_ERR_USAGE, 0, "%s\nTry 'oci --help'.",
                            r < 0 ? "usage error" : msg);
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

int cli_require_root(const struct cli_context *ctx, oci_error **err)
{
  if (geteuid() == 0)
    return 0;
  return oci_error_set(err, 0, "%s: this command must be run as root", ctx->verb->name);
}

static const struct cli_verb *find_verb(const char *name)
{
  for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
    if (strcmp(verbs[i].name, name) == 0)
      return &verbs[i];
  return NULL;
}

static int exit_status(const struct cli_verb *verb, const oci_error *e)
{
  switch (e ? e->kind : OCI_ERR_FAILED) {
  case OCI_ERR_USAGE: return CLI_EXIT_USAGE;
  case OCI_ERR_INTERRUPTED: return 130;
  case OCI_ERR_NOT_FOUND: return CLI_EXIT_NOT_FOUND;
  case OCI_ERR_NOT_EXECUTABLE: return CLI_EXIT_CANNOT_EXEC;
  case OCI_ERR_FAILED:
  case OCI_ERR_KIND_MAX:
  default: break;
  }
  /* run, exec, attach: their own failures are 125, as docker's and
   * podman's, so that the command's statuses stay the command's */
  if (verb && (strcmp(verb->name, "run") == 0 || strcmp(verb->name, "exec") == 0 ||
               strcmp(verb->name, "attach") == 0))
    return CLI_EXIT_RUN_FAILED;
  return CLI_EXIT_ERROR;
}

static int report(const struct cli_verb *verb, oci_error *e)
{
  cleanup_free char *text = oci_error_format(e);
  fprintf(stderr, "oci: %s\n", text ? text : "out of memory");
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
      .root = SIFOCI_DEFAULT_ROOT,
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
  /* '+': stop at the verb; its options are its own. */
  while ((c = getopt_long(argc, argv, "+hv", global_opts, NULL)) != -1) {
    switch (c) {
    case 'r': ctx.root = optarg; break;
    case 'R': ctx.runtime = optarg; break;
    case 'h': print_main_help(stdout); return 0;
    case 'v': printf("oci version %s\n", SIFOCI_VERSION); return 0;
    default:
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
  ctx.verb = find_verb(name);
  if (ctx.verb == NULL) {
    cli_usage_error(NULL, &err, "unknown command '%s'", name);
    return report(NULL, err);
  }
  /* Verb argv: argv[0] is the verb name, as getopt expects. */
  int vargc = argc - optind;
  char **vargv = argv + optind;
  for (int i = 1; i < vargc; i++) {
    if (strcmp(vargv[i], "--") == 0)
      break;
    if (strcmp(vargv[i], "--help") == 0 || strcmp(vargv[i], "-h") == 0) {
      /* exec's command may take -h of its own: only before the ID counts */
      cli_print_verb_help(ctx.verb);
      return 0;
    }
    if (vargv[i][0] != '-' && strcmp(ctx.verb->name, "exec") == 0)
      break;
  }
  optind = 0; /* full getopt reset for the verb */
  opterr = 0;
  int r = ctx.verb->handler(&ctx, vargc, vargv, &err);
  fflush(stdout);
  if (r < 0)
    return report(ctx.verb, err);
  return r;
}
