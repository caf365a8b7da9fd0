/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A sandbox directory (as `singularity build --sandbox` makes it) as one
 * OCI layer tar for `oci export`, the counterpart of export-layer.h for a
 * tree on disk: files, directories, symlinks, hard links, device nodes and
 * FIFOs with mode, owner and mtime, and the xattrs of files and
 * directories.  Nothing outside the directory is followed: every name is
 * opened from its parent's fd without following symlinks, and a mount
 * inside the sandbox is refused (its files are not the sandbox's).
 */
#ifndef SIFOCI_EXPORT_DIR_H
#define SIFOCI_EXPORT_DIR_H

#include "error.h"
#include "export-layer.h"

/* Write the tree under DIR_FD (not owned) as a tar to FD; STOP_FD as
 * bundle_tar_init takes it. */
int bundle_export_dir_layer(int dir_fd, int fd, int stop_fd, struct bundle_layer_result *ret,
                            oci_error **err);

#endif
