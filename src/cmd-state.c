/* SPDX-License-Identifier: Apache-2.0 */
/* oci state: the runtime's state JSON plus what the monitor knows (attach
 * socket, monitor pid, log, exit code). */
#include <getopt.h>

#include "cli.h"
#include "container.h"

static int cmd_state(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  if (cli_next_option(ctx, argc, argv, err) != 0 || cli_check_args(ctx, argc - optind, err) < 0)
    return -1;
  const char *id = argv[optind];
  cleanup_container struct container ct = {0};
  json_auto_t *st = NULL;
  if (container_open(ctx->root, id, CTR_LOCK_NONE, CONTAINER_ALLOW_INCOMPLETE, &ct, err) < 0)
    return -1;
  /* its `oci run` has returned: let the monitor finish (a clean-up that
   * failed keeps the dir, stopped) */
  if (!ct.incomplete && ctr_run_is_leaving(ct.c) && container_wait_cleanup(ct.c, err) < 0)
    return -1;
  if (ct.incomplete && !ct.creating)
    return oci_error_set(err, 0,
                         "container '%s' is incomplete (its create did not finish); "
                         "'oci delete -f %s' removes it",
                         id, id);
  if (ct.incomplete)
    st = container_incomplete_json(&ct);
  else if (container_state_json(&ct, &st, err) < 0 && !ctr_is_removed(ct.c))
    return -1;
  /* removed by then (a run-mode monitor's last step) */
  if (ctr_is_removed(ct.c)) {
    oci_error_free(err);
    return ctr_not_found(err, id);
  }
  return cli_print_json(st, err);
}

const struct cli_verb cli_verb_state = {
    .name = "state",
    .usage = "ID",
    .summary = "print a container's state as JSON",
    .min_args = 1,
    .max_args = 1,
    .handler = cmd_state,
};
