/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The config.json `oci mount` starts from: SingularityCE 4.x defaults
 * (oci-anchors.md §4.5) plus the maskedPaths/readonlyPaths and cgroup mount
 * that `runc spec` writes, at the runtime-spec version Debian's runc 1.1
 * speaks, and the default seccomp profile (seccomp-profile.h) for the
 * default capability set.
 */
#ifndef SIFOCI_OCI_SPEC_H
#define SIFOCI_OCI_SPEC_H

#include <jansson.h>

#define BUNDLE_SPEC_OCI_VERSION "1.0.2-dev"
/* A placeholder: the bundle is made before any container ID is known, and
 * each container's own bundle gets its ID instead (own-bundle.c), as runc
 * and podman name theirs.  A hostname set to anything else stands. */
#define BUNDLE_SPEC_HOSTNAME "sifoci"
#define BUNDLE_SPEC_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* A new default config whose root.path is ROOTFS_PATH (absolute), with
 * process.args ["/bin/sh"] until the image says otherwise.  NULL only when
 * out of memory. */
json_t *bundle_spec_default(const char *rootfs_path);

#endif
