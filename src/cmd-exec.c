/* SPDX-License-Identifier: Apache-2.0 */
/* oci exec: a command in a running container; its exit status is ours
 * (126/127 when it cannot be run/found, 125 when oci or the runtime fail). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>

#include "cleanup.h"
#include "cli.h"
#include "session.h"

int cmd_exec(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  static const struct option opts[] = {
      {"tty", no_argument, NULL, 't'},        {"detach", no_argument, NULL, 'd'},
      {"env", required_argument, NULL, 'e'},  {"cwd", required_argument, NULL, 'C'},
      {"user", required_argument, NULL, 'u'}, {NULL, 0, NULL, 0},
  };
  struct rt_exec_opts o = {0};
  /* at most one --env per argument: argc bounds them */
  cleanup_free char **env = calloc((size_t)argc + 1, sizeof(char *));
  size_t n_env = 0;
  if (env == NULL)
    return oci_error_set(err, ENOMEM, "exec");
  int c;
  /* '+': options end at the ID; what follows belongs to the command */
  while ((c = getopt_long(argc, argv, "+tde:u:", opts, NULL)) != -1) {
    switch (c) {
    case 't': o.tty = true; break;
    case 'd': o.detach = true; break;
    case 'e': env[n_env++] = optarg; break;
    case 'C': o.cwd = optarg; break;
    case 'u': o.user = optarg; break;
    default:
      return cli_usage_error(ctx, err, "unknown option or missing value '%s'", argv[optind - 1]);
    }
  }
  if (cli_check_args(ctx, argc - optind, err) < 0 || cli_require_root(ctx, err) < 0)
    return -1;
  o.env = env;
  o.args = argv + optind + 1;
  return session_exec(ctx->root, argv[optind], &o, err);
}
