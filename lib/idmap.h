/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The user-namespace mapping a non-root user's containers (and extracted
 * bundles) get: the container's root is the user, and the user's first
 * subordinate range from /etc/subuid and /etc/subgid gives IDs 1..N real
 * IDs.  With no range the mapping is the user alone.  runc writes a
 * mapping of more than one range through newuidmap/newgidmap (Debian's
 * uidmap), and so does bundle/userns-run.c.
 */
#ifndef SIFOCI_IDMAP_H
#define SIFOCI_IDMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

#define IDMAP_MAX_RANGES 2

struct idmap_range {
  uint32_t inside, outside, count;
};

struct idmap {
  struct idmap_range uid[IDMAP_MAX_RANGES], gid[IDMAP_MAX_RANGES];
  size_t n_uid, n_gid;
};

/* The mapping for UID/GID (the caller's real IDs).  The subordinate ID
 * files are /etc/subuid and /etc/subgid. */
int idmap_for_user(uid_t uid, gid_t gid, struct idmap *ret, oci_error **err);

/* More than the user's own ID on either side (needs newuidmap/newgidmap)? */
bool idmap_has_subids(const struct idmap *m);

/* Is ID (inside the namespace) mapped?  GID selects the gid side. */
bool idmap_maps(const struct idmap *m, bool gid, uint32_t id);

/* The highest ID inside the namespace on the uid (or gid) side. */
uint32_t idmap_max_inside(const struct idmap *m, bool gid);

/* newuidmap and newgidmap installed (executable, in /usr/bin or /bin)?
 * The path of newuidmap's directory in *ret_dir. */
bool idmap_helpers_found(const char **ret_dir);

#endif
