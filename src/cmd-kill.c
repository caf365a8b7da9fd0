/* SPDX-License-Identifier: Apache-2.0 */
/* oci kill: signal a container's init.  The signal: the second argument,
 * else --signal, else SIGTERM; --force means SIGKILL whatever was said. */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>

#include "cli.h"
#include "runtime.h"
#include "session.h"

int cmd_kill(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  static const struct option opts[] = {
      {"signal", required_argument, NULL, 's'},
      {"force", no_argument, NULL, 'f'},
      {NULL, 0, NULL, 0},
  };
  const char *sig_text = "SIGTERM";
  bool force = false;
  int c;
  while ((c = getopt_long(argc, argv, "s:f", opts, NULL)) != -1) {
    switch (c) {
    case 's':
      sig_text = optarg;
      break;
    case 'f':
      force = true;
      break;
    default:
      return cli_usage_error(ctx, err, "unknown option or missing value '%s'", argv[optind - 1]);
    }
  }
  if (cli_check_args(ctx, argc - optind, err) < 0)
    return -1;
  if (argc - optind == 2 && argv[optind + 1][0])
    sig_text = argv[optind + 1];
  int signum = SIGKILL;
  if (!force && rt_parse_signal(sig_text, &signum, err) < 0)
    return oci_error_prefix(err, "kill");
  if (cli_require_root(ctx, err) < 0)
    return -1;
  return session_kill(ctx->root, argv[optind], signum, err);
}
