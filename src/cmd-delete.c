/* SPDX-License-Identifier: Apache-2.0 */
/* oci delete: the runtime's container, the monitor, the state dir. */
#include <getopt.h>
#include <stdbool.h>

#include "cli.h"
#include "container.h"

static const struct cli_option options[] = {
    {"force", 'f', NULL, "kill a running container first; clean up after a dead monitor"},
    {NULL, 0, NULL, NULL},
};

static int cmd_delete(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  bool force = false;
  int c;
  while ((c = cli_next_option(ctx, argc, argv, err)) > 0)
    force = true; /* -f is the only one */
  if (c < 0 || cli_check_args(ctx, argc - optind, err) < 0)
    return -1;
  cleanup_container struct container ct = {0};
  if (container_open(ctx->root, argv[optind], CTR_LOCK_EXCLUSIVE, CONTAINER_ALLOW_INCOMPLETE, &ct,
                     err) < 0 ||
      container_destroy(&ct, force, err) < 0)
    return -1;
  return 0;
}

const struct cli_verb cli_verb_delete = {
    .name = "delete",
    .usage = "[-f] ID",
    .summary = "delete a container and its state",
    .options = {options},
    .min_args = 1,
    .max_args = 1,
    .handler = cmd_delete,
};
