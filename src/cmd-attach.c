/* SPDX-License-Identifier: Apache-2.0 */
/* oci attach: the console (or stdio) of a container through its monitor;
 * exits with the container's status, or 0 after the detach keys. */
#include <getopt.h>
#include <stdio.h>

#include "attach-client.h"
#include "attach-status.h"
#include "cli.h"

enum { OPT_DETACH_KEYS = CLI_OPT_LONG, OPT_NO_STDIN, OPT_DROP_IF_SLOW };

static const struct cli_option options[] = {
    {"detach-keys", OPT_DETACH_KEYS, "SEQ", "detach sequence (default ctrl-p,ctrl-q; '' for none)"},
    {"no-stdin", OPT_NO_STDIN, NULL, "do not forward stdin"},
    {"drop-if-slow", OPT_DROP_IF_SLOW, NULL,
     "when we read nothing for 2 s, let the container go on without us\n"
     "(default: it waits for us, as for a pipe)"},
    {NULL, 0, NULL, NULL},
};

/* Nothing to attach to: say so, and how it ended (its status is ours). */
static int stopped(const char *id, int status)
{
  fprintf(stderr, "oci: attach '%s': the container has stopped (exit status %d)\n", id, status);
  return status;
}

static int attach(const char *root, const char *id, struct attach_opts *o, oci_error **err)
{
  cleanup_container struct container ct = {0};
  int status;
  if (container_open(root, id, CTR_LOCK_NONE, 0, &ct, err) < 0)
    return -1;
  /* already over: nothing to show, just how it ended */
  if (attach_status_from_record(&ct, &status))
    return stopped(id, status);
  o->forward_pidfd = -1;
  struct attach_result res;
  if (attach_session(ct.c->dirfd, id, o, &res, err) < 0) {
    if (attach_status_from_record(&ct, &status)) { /* it ended while we connected */
      oci_error_free(err);
      return stopped(id, status);
    }
    if (ctr_monitor_pid(ct.c) <= 0) {
      /* the connect's errno would only say the same again */
      oci_error_free(err);
      return oci_error_set(err, 0,
                           "attach '%s': its monitor is dead, nobody holds its output; "
                           "'oci delete -f %s' cleans up",
                           id, id);
    }
    return -1;
  }
  return attach_status(&ct, id, &res, err);
}

static int cmd_attach(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  struct attach_opts o = {.hold = true};
  const char *keys = NULL;
  int c;
  while ((c = cli_next_option(ctx, argc, argv, err)) > 0) {
    if (c == OPT_DETACH_KEYS)
      keys = optarg;
    else if (c == OPT_NO_STDIN)
      o.no_stdin = true;
    else if (c == OPT_DROP_IF_SLOW)
      o.hold = false;
  }
  if (c < 0 || cli_check_args(ctx, argc - optind, err) < 0 ||
      attach_parse_detach_keys(keys, &o, err) < 0)
    return -1;
  return attach(ctx->root, argv[optind], &o, err);
}

const struct cli_verb cli_verb_attach = {
    .name = "attach",
    .usage = "[OPTIONS] ID",
    .summary = "attach to a container's console or stdio",
    .options = {options},
    .min_args = 1,
    .max_args = 1,
    .flags = CLI_RUN_STATUS,
    .handler = cmd_attach,
};
