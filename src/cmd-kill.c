/* SPDX-License-Identifier: Apache-2.0 */
/* oci kill: signal a container's init.  The signal: the second argument,
 * else --signal, else SIGTERM; --force means SIGKILL whatever was said.
 * When no signal was named, kill stops the container: SIGTERM, then SIGKILL
 * after --timeout seconds if it is still running. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/pidfd.h>

#include "cleanup.h"
#include "cli.h"
#include "container.h"
#include "runtime.h"

#define GRACE_MAX_S 3600

static const struct cli_option options[] = {
    {"signal", 's', "SIG", "signal to send (default: stop it, see --timeout)"},
    {"force", 'f', NULL, "send SIGKILL"},
    {"timeout", 't', "SEC",
     "with no signal named: SIGTERM, then SIGKILL after SEC\n"
     "seconds if it still runs (default 5; 0: SIGTERM only)"},
    {NULL, 0, NULL, NULL},
};

/* A pidfd for the container's init, opened before it is signalled so that a
 * reused pid can never be mistaken for it; -1 when it has already gone. */
static int container_pidfd(const struct container *ct)
{
  pid_t pid = ctr_read_pid(ct->c, "container.pid");
  return pid > 1 ? (int)pidfd_open(pid, 0) : -1;
}

/* Signal the container.  GRACE_SECONDS > 0: if it is still running that
 * long after the signal, send SIGKILL. */
static int kill_container(const char *root, const char *id, int signum, int grace_seconds,
                          oci_error **err)
{
  cleanup_container struct container ct = {0};
  if (container_open(root, id, CTR_LOCK_NONE, 0, &ct, err) < 0)
    return -1;
  if (!ctr_runtime_has(ct.c))
    return oci_error_set(err, 0, "container '%s' is not running", id);
  cleanup_close int pidfd = grace_seconds > 0 ? container_pidfd(&ct) : -1;
  if (container_kill(&ct, signum, err) < 0)
    return -1;
  if (pidfd < 0)
    return 0;
  /* A container init ignores signals it has no handler for (an
   * interactive shell as pid 1 ignores SIGTERM), so a stop that asked for
   * no particular signal ends with SIGKILL, as podman stop does. */
  struct pollfd p = {.fd = pidfd, .events = POLLIN};
  int r;
  do {
    r = poll(&p, 1, grace_seconds * 1000);
  } while (r < 0 && errno == EINTR);
  if (r != 0)
    return 0;
  fprintf(stderr, "oci: kill '%s': still running after %d s, sending SIGKILL\n", id, grace_seconds);
  return container_kill(&ct, SIGKILL, err) < 0 ? -1 : 0;
}

static int cmd_kill(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  const char *sig_text = "SIGTERM";
  bool force = false, named = false;
  int grace = 5;
  int c;
  while ((c = cli_next_option(ctx, argc, argv, err)) > 0) {
    switch (c) {
    case 's':
      sig_text = optarg;
      named = true;
      break;
    case 't': {
      char *end;
      errno = 0;
      long v = strtol(optarg, &end, 10);
      if (errno || end == optarg || *end != '\0' || v < 0 || v > GRACE_MAX_S)
        return cli_usage_error(ctx, err, "--timeout '%s' is not a number of seconds (0-%d)", optarg,
                               GRACE_MAX_S);
      grace = (int)v;
      break;
    }
    case 'f': force = true; break;
    default: break;
    }
  }
  if (c < 0 || cli_check_args(ctx, argc - optind, err) < 0)
    return -1;
  if (argc - optind == 2 && argv[optind + 1][0]) {
    sig_text = argv[optind + 1];
    named = true;
  }
  int signum = SIGKILL;
  if (!force && rt_parse_signal(sig_text, &signum, err) < 0)
    return oci_error_prefix(err, "kill");
  return kill_container(ctx->root, argv[optind], signum, force || named ? 0 : grace, err);
}

const struct cli_verb cli_verb_kill = {
    .name = "kill",
    .usage = "[OPTIONS] ID [SIG]",
    .summary = "send a signal to a container",
    .options = {options},
    .min_args = 1,
    .max_args = 2,
    .handler = cmd_kill,
};
