/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ending a container through its cgroup, for when the runtime cannot: its
 * state (ROOT/ID/runtime) was removed or damaged, yet the container's
 * processes run on in the cgroup the config named.  Every hierarchy
 * mounted (cgroup v1 controllers and v2) is visited.
 */
#ifndef SIFOCI_CGROUP_END_H
#define SIFOCI_CGROUP_END_H

struct cgroup_end_result {
  int killed;  /* processes sent SIGKILL */
  int removed; /* cgroup directories removed */
  int left;    /* directories that could not be removed (still populated) */
};

/* Thaw, SIGKILL every process of, and remove CGROUP_PATH (absolute, as in
 * config.json's linux.cgroupsPath) in every cgroup hierarchy.  Best
 * effort: what it could not do is counted in ->left. */
void cgroup_end(const char *cgroup_path, struct cgroup_end_result *ret);

#endif
