/* SPDX-License-Identifier: Apache-2.0 */
#include "attach-status.h"

#include <stdio.h>
#include <unistd.h>

#include "proto.h"

/* After the session: the exit record, when the socket could not say. */
int attach_status_from_record(const struct container *ct, int *ret_status)
{
  struct ctr_exit ex;
  if (ctr_read_exit(ct->c, &ex, NULL) == 1 && ex.exit_code >= 0) {
    *ret_status = ex.exit_code;
    return 1;
  }
  return 0;
}

int attach_status(const struct container *ct, const char *id, const struct attach_result *res,
                  oci_error **err)
{
  switch (res->how) {
  case ATTACH_EXITED: return res->status;
  case ATTACH_DETACHED:
    /* on a line of its own: on a terminal the cursor is wherever the
     * container left it (after its prompt) */
    fprintf(stderr, "%sdetached from container %s\n", res->terminal && isatty(2) ? "\n" : "", id);
    return 0;
  case ATTACH_SIGNALLED: return 128 + res->signal;
  case ATTACH_LOST: {
    /* No EXIT frame: the monitor dropped this client (it stopped reading
     * for too long) or could not learn the exit status.  Say which; the
     * log still holds every byte of output. */
    struct ctr_exit ex;
    if (ctr_read_exit(ct->c, &ex, NULL) == 1) {
      if (ex.exit_code < 0)
        return oci_error_set(err, 0,
                             "attach '%s': the container ended but its exit status is unknown (%s)",
                             id, ex.error);
      fprintf(stderr,
              "oci: attach '%s': disconnected by the monitor before the end of the output; "
              "the full output is in the log ('oci logs %s')\n",
              id, id);
      return ex.exit_code;
    }
    if (ctr_monitor_pid(ct->c) > 0) /* it lives on: it dropped us */
      return oci_error_set(err, 0,
                           "attach '%s': detached: you read nothing for %d s; the container is "
                           "still running (its output is in 'oci logs %s')",
                           id, PROTO_STALL_MS / 1000, id);
    return oci_error_set(err, 0,
                         "attach '%s': the monitor closed the connection without an exit status "
                         "(see 'oci state %s')",
                         id, id);
  }
  default: return oci_error_set(err, 0, "attach '%s': lost", id);
  }
}
