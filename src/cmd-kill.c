/* SPDX-License-Identifier: Apache-2.0 */
/* oci kill: signal a container's init.  The signal: the second argument,
 * else --signal, else SIGTERM; --force means SIGKILL whatever was said.
 * When no signal was named, kill stops the container: SIGTERM, then SIGKILL
 * after --timeout seconds if it is still running. */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>

#include "cli.h"
#include "runtime.h"
#include "session.h"

int cmd_kill(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  static const struct option opts[] = {
      {"signal", required_argument, NULL, 's'},
      {"force", no_argument, NULL, 'f'},
      {"timeout", required_argument, NULL, 't'},
      {NULL, 0, NULL, 0},
  };
  const char *sig_text = "SIGTERM";
  bool force = false, named = false;
  int grace = 5;
  int c;
  char *end;
  while ((c = getopt_long(argc, argv, "s:ft:", opts, NULL)) != -1) {
    switch (c) {
    case 's':
      sig_text = optarg;
      named = true;
      break;
    case 't':
      grace = (int)strtol(optarg, &end, 10);
      if (*optarg == '\0' || *end != '\0' || grace < 0 || grace > 3600)
        return cli_usage_error(ctx, err, "--timeout '%s' is not a number of seconds (0-3600)",
                               optarg);
      break;
    case 'f': force = true; break;
    default:
      return cli_usage_error(ctx, err, "unknown option or missing value '%s'", argv[optind - 1]);
    }
  }
  if (cli_check_args(ctx, argc - optind, err) < 0)
    return -1;
  if (argc - optind == 2 && argv[optind + 1][0]) {
    sig_text = argv[optind + 1];
    named = true;
  }
  int signum = SIGKILL;
  if (!force && rt_parse_signal(sig_text, &signum, err) < 0)
    return oci_error_prefix(err, "kill");
  if (cli_require_root(ctx, err) < 0)
    return -1;
  return session_kill(ctx->root, argv[optind], signum, force || named ? 0 : grace, err);
}
