/* SPDX-License-Identifier: Apache-2.0 */
/* oci exec: a command in a running container; its exit status is ours
 * (126/127 when it cannot be run/found, 125 when oci or the runtime fail). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "container.h"

enum { OPT_CWD = CLI_OPT_LONG };

static const struct cli_option options[] = {
    {"tty", 't', NULL, "allocate a terminal"},
    {"interactive", 'i', NULL, "accepted and ignored: stdin is always forwarded"},
    {"detach", 'd', NULL, "do not wait for the command"},
    {"env", 'e', "K=V", "set an environment variable (repeatable)"},
    {"cwd", OPT_CWD, "DIR", "working directory"},
    {"user", 'u', "U[:G]", "user (and group) to run as"},
    {NULL, 0, NULL, NULL},
};

static int exec_in(const char *root, const char *id, const struct rt_exec_opts *o, oci_error **err)
{
  cleanup_container struct container ct = {0};
  if (o->tty && !o->detach && !isatty(0))
    return oci_error_set(err, 0, "exec -t: stdin is not a terminal (drop -t, or use a terminal)");
  if (container_open(root, id, CTR_LOCK_NONE, 0, &ct, err) < 0)
    return -1;
  int r = container_exec(&ct, o, err);
  return r < 0 ? -1 : r;
}

static int cmd_exec(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  struct rt_exec_opts o = {0};
  /* at most one --env per argument: argc bounds them */
  cleanup_free char **env = calloc((size_t)argc + 1, sizeof(char *));
  size_t n_env = 0;
  if (env == NULL)
    return oci_error_set(err, ENOMEM, "exec");
  int c;
  /* options end at the ID (CLI_OPTS_END_AT_ID): the rest is the command's */
  while ((c = cli_next_option(ctx, argc, argv, err)) > 0) {
    switch (c) {
    case 't': o.tty = true; break;
    case 'd': o.detach = true; break;
    case 'e': env[n_env++] = optarg; break;
    case OPT_CWD: o.cwd = optarg; break;
    case 'u': o.user = optarg; break;
    default: break;
    }
  }
  if (c < 0 || cli_check_args(ctx, argc - optind, err) < 0)
    return -1;
  o.env = env;
  o.args = argv + optind + 1;
  return exec_in(ctx->root, argv[optind], &o, err);
}

const struct cli_verb cli_verb_exec = {
    .name = "exec",
    .usage = "[OPTIONS] ID CMD [ARG...]",
    .summary = "run a command in a running container",
    .options = {options},
    .min_args = 2,
    .max_args = -1,
    .flags = CLI_OPTS_END_AT_ID | CLI_RUN_STATUS,
    .handler = cmd_exec,
};
