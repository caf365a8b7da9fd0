/* SPDX-License-Identifier: Apache-2.0 */
/* How `oci run` and `oci attach` end: the container's exit status as
 * ours, from the attach session or else from the exit record. */
#ifndef SIFOCI_ATTACH_STATUS_H
#define SIFOCI_ATTACH_STATUS_H

#include "attach-client.h"
#include "container.h"
#include "error.h"

/* The container's exit status from exit.json: 1 with *ret_status, 0 when
 * it has not ended (or its status is unknown). */
int attach_status_from_record(const struct container *ct, int *ret_status);

/* The exit status for a finished attach session (detached: 0, with a
 * note), or -1 with *err when the monitor left without telling. */
int attach_status(const struct container *ct, const char *id, const struct attach_result *res,
                  oci_error **err);

#endif
