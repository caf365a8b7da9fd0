/* SPDX-License-Identifier: Apache-2.0 */
/* oci update: new resource limits (OCI LinuxResources JSON) for a
 * container; '-' reads them from stdin. */
#include <getopt.h>

#include "cli.h"
#include "container.h"

static const struct cli_option options[] = {
    {"from-file", 'f', "FILE", "OCI LinuxResources JSON ('-' reads stdin)"},
    {NULL, 0, NULL, NULL},
};

static int cmd_update(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  const char *file = NULL;
  int c;
  while ((c = cli_next_option(ctx, argc, argv, err)) > 0)
    file = optarg; /* -f is the only one */
  if (c < 0 || cli_check_args(ctx, argc - optind, err) < 0)
    return -1;
  /* runc would take "nothing" as a silent no-op */
  if (file == NULL || file[0] == '\0')
    return cli_usage_error(ctx, err, "nothing to update: give -f FILE (or -f - for stdin)");
  cleanup_container struct container ct = {0};
  if (container_open(ctx->root, argv[optind], CTR_LOCK_EXCLUSIVE, 0, &ct, err) < 0 ||
      container_update(&ct, file, err) < 0)
    return -1;
  return 0;
}

const struct cli_verb cli_verb_update = {
    .name = "update",
    .usage = "-f FILE|- ID",
    .summary = "update a container's resource limits",
    .options = {options},
    .min_args = 1,
    .max_args = 1,
    .handler = cmd_update,
};
