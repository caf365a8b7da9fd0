/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container's post-mortem from its cgroup: was it killed for memory,
 * its peak memory, its CPU time.  The cgroup is found while the container
 * runs (/proc/PID/cgroup) and read after its init was reaped but before
 * the runtime's delete removes it.  cgroup v2 (memory.events oom_kill,
 * memory.peak, cpu.stat usage_usec) and v1, also in a hybrid layout where
 * the runtime uses the v1 controllers (memory.oom_control oom_kill,
 * memory.max_usage_in_bytes, cpuacct.usage).  Anything not found stays
 * unknown: the record says so instead of guessing.
 */
#ifndef SIFOCI_MON_POSTMORTEM_H
#define SIFOCI_MON_POSTMORTEM_H

#include <glib.h>
#include <sys/types.h>

typedef struct {
  int oom_killed;     /* 1, 0, or -1 when no memory controller was found */
  gint64 memory_peak; /* bytes, -1 unknown */
  gint64 cpu_time_ns; /* user + system of the whole cgroup, -1 unknown */
} MonPostmortem;

typedef struct MonCgroup MonCgroup;

/* Where PID's memory and CPU accounting are (NULL fields when nowhere). */
MonCgroup *mon_cgroup_find(pid_t pid);
void mon_cgroup_free(MonCgroup *cg);
/* Read the post-mortem now (the cgroup still exists). */
void mon_cgroup_read(const MonCgroup *cg, MonPostmortem *ret);

#endif
