/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MonMonitor, the one owner: the phase, the report to the CLI, the exit
 * record, and the routing between the parts (stdio, attach, child, create,
 * console), which report up to it through callbacks and never call each
 * other.  Everything runs on one GMainLoop, in one thread.
 *   CREATING --create ok--> RUNNING --container gone--> EXITING --clients done--> DONE
 *       \--create failed--> DONE (exit 1)
 * The contract is README.md.
 */
#ifndef SIFOCI_MON_MONITOR_H
#define SIFOCI_MON_MONITOR_H

#include <glib.h>

#include "options.h"

#define MON_CLIENT_FLUSH_TIMEOUT_MS 5000 /* at exit: wait this long for slow clients */

typedef struct MonMonitor MonMonitor;

/* Takes over O's contents (O is left cleared), the report fd included. */
MonMonitor *mon_monitor_new(MonOptions *o);
void mon_monitor_free(MonMonitor *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MonMonitor, mon_monitor_free)

/* Sets up, starts `runtime create` and runs until the container and its
 * clients are done.  Returns the monitor's exit status (0, or 1 when
 * create failed; the error then went to the report fd). */
int mon_monitor_run(MonMonitor *m);

#endif
