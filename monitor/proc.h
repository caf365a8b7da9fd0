/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The monitor process itself: waiting for and killing its children outside
 * the main loop (cleanup paths, where blocking for a bounded time is what we
 * want), and giving back the memory start-up used.
 */
#ifndef SIFOCI_MON_PROC_H
#define SIFOCI_MON_PROC_H

#include <glib.h>
#include <sys/types.h>

#define MON_KILL_TIMEOUT_MS 2000 /* reaping leftover children after a failed create */
#define MON_TRIM_DELAY_MS 200    /* from the container's start to mon_trim_mappings() */

/* Reaps PID, waiting at most TIMEOUT_MS.  FALSE: still running (or not our
 * child). */
gboolean mon_wait_child(pid_t pid, int timeout_ms, int *ret_status);
/* SIGKILL and reap every child we still have, and what their deaths hand
 * down to us (we are a subreaper); bounded in time. */
void mon_kill_children(void);
/* Drops the resident pages of file mappings only ever read (see proc.c). */
void mon_trim_mappings(void);

#endif
