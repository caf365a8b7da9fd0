/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by mount (undo on failure) and umount: one code path that takes
 * a bundle apart from its record. */
#ifndef SIFOCI_BUNDLE_UNDO_H
#define SIFOCI_BUNDLE_UNDO_H

#include <stdbool.h>

#include "error.h"
#include "mount-record.h"

/* A bundle path made absolute and canonical: ABS = PARENT "/" BASE, PARENT
 * resolved with realpath, BASE one component (also resolved when PATH
 * exists, so a symlink to a bundle works).  Fails for "/" , "." or "..". */
struct bundle_path {
  char *abs;
  char *parent;
  char *base;
};

int bundle_path_resolve(const char *path, struct bundle_path *ret, oci_error **err);
void bundle_path_clear(struct bundle_path *p);

/* Undo what REC lists under DIRFD, newest first: unmount (checking each
 * mount point holds a mount of the recorded type; never lazily), release a
 * loop device we bound that lost autoclear, remove what was created, the
 * record, and BASE under PARENT_FD when mount made it.  *ret_kept is set
 * when that last directory holds foreign files and stays. */
int bundle_undo(int parent_fd, const char *base, int dirfd, const struct bundle_record *rec,
                bool *ret_kept, oci_error **err);

#endif
