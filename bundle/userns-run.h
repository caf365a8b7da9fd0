/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Work on files a non-root user's container owns through its mapping: an
 * extracted rootfs holds files of the image's owners, which are the
 * user's subordinate IDs on disk.  Only root inside a user namespace with
 * the same mapping can create (chown) and remove them, so extraction and
 * its removal run there, in a child process.
 */
#ifndef SIFOCI_USERNS_RUN_H
#define SIFOCI_USERNS_RUN_H

#include "error.h"
#include "idmap.h"

typedef int (*bundle_userns_fn)(void *data, oci_error **err);

/* FN(DATA) in a child that is root in a new user namespace mapped by M
 * (written with newuidmap/newgidmap when M has subordinate ranges, by
 * hand otherwise); its error comes back as ours.  M NULL: FN runs here,
 * as we are (root). */
int bundle_userns_run(const struct idmap *m, bundle_userns_fn fn, void *data, oci_error **err);

#endif
