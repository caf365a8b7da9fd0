/* SPDX-License-Identifier: Apache-2.0 */
/* oci delete: the runtime's container, the monitor, the state dir. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "cleanup.h"

#include "cli.h"
#include "container.h"
#include "ephemeral.h"
#include "text-escape.h"

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
  const char *id = argv[optind];
  cleanup_container struct container ct = {0};
  int flags = CONTAINER_ALLOW_INCOMPLETE | CONTAINER_ALLOW_DAMAGED;
  if (container_open(ctx->root, id, CTR_LOCK_EXCLUSIVE, flags, &ct, err) < 0) {
    /* ROOT/ID removed under a live container: -f still ends what it left */
    cleanup_free char *note = NULL;
    cleanup_error oci_error *e = NULL;
    if (!force || container_destroy_orphan(ctx->root, id, &note, &e) == 0)
      return -1;
    oci_error_free(err);
    if (note) {
      cleanup_free char *text = text_escape(note);
      fprintf(stderr, "oci: %s\n", text ? text : note);
    }
    *err = steal_ptr(&e);
    return *err ? -1 : 0;
  }
  /* a bundle made from an image in the state dir goes with it */
  ct.before_remove = cli_ephemeral_remove;
  return container_destroy(&ct, force, err);
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
