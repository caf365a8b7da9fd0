/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's status without starting the runtime, while its monitor
 * lives: the monitor holds the container (its init is the monitor's
 * child), and the state dir shows the rest: runtime/ID/exec.fifo until
 * `start` opens it (created), the init's freezer cgroup (paused), the
 * init gone before exit.json (stopped).  This is what runc itself reads
 * for `runc state`, without a runtime start-up per container.
 */
#ifndef SIFOCI_CONTAINER_LIVE_STATUS_H
#define SIFOCI_CONTAINER_LIVE_STATUS_H

#include <sys/types.h>

#include "state-dir.h"

/* "created", "running", "paused" or "stopped" of the container whose init
 * is PID (from container.pid) under MONITOR; NULL when PID is 0 or not
 * MONITOR's child (then only the runtime can tell). */
const char *live_status(const struct ctr *c, pid_t pid, pid_t monitor);

#endif
