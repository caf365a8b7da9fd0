/* SPDX-License-Identifier: Apache-2.0 */
/* oci start, pause, resume: one runtime call on a container, the same
 * handler for the three (the table's .data is the call). */
#include <getopt.h>

#include "cli.h"
#include "container.h"
#include "rootless.h"

static int cmd_runtime_op(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  /* no options: anything that looks like one is an error */
  if (cli_next_option(ctx, argc, argv, err) != 0 || cli_check_args(ctx, argc - optind, err) < 0)
    return -1;
  cleanup_container struct container ct = {0};
  enum rt_op op = (enum rt_op)ctx->verb->data;
  if (container_open(ctx->root, argv[optind], CTR_LOCK_EXCLUSIVE, 0, &ct, err) < 0)
    return -1;
  if (container_runtime_op(&ct, op, err) < 0) {
    /* the freezer is a cgroup's: say why rather than only what runc saw */
    if (op != RT_OP_START && rootless_active() && !rootless_has_cgroup())
      return oci_error_replace(err,
                               "%s '%s': needs the container's cgroup (the freezer), and as a user "
                               "other than root a container has one only where a cgroup v2 "
                               "subtree is delegated to the user",
                               ctx->verb->name, argv[optind]);
    return -1;
  }
  return 0;
}

/* three rows that differ in name, summary and runtime call only */
#define RUNTIME_OP_VERB(verb, text, op)                                                            \
  const struct cli_verb cli_verb_##verb = {                                                        \
      .name = #verb,                                                                               \
      .usage = "ID",                                                                               \
      .summary = text,                                                                             \
      .min_args = 1,                                                                               \
      .max_args = 1,                                                                               \
      .data = op,                                                                                  \
      .handler = cmd_runtime_op,                                                                   \
  }

RUNTIME_OP_VERB(start, "start a created container", RT_OP_START);
RUNTIME_OP_VERB(pause, "pause all processes in a container (cgroup freezer)", RT_OP_PAUSE);
RUNTIME_OP_VERB(resume, "resume a paused container", RT_OP_RESUME);
