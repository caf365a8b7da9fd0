/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The names already written for inodes with more than one link, so that a
 * walk over a tree (export of a squashfs or of a sandbox directory) makes
 * the later names hard links to the first.
 */
#ifndef SIFOCI_LINK_TABLE_H
#define SIFOCI_LINK_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct bundle_link {
  uint64_t dev, ino;
  char *path;
};

struct bundle_link_table {
  struct bundle_link *v;
  size_t n, cap;
};

/* The first name of (DEV, INO), or NULL after remembering PATH as it. */
int bundle_link_table_first(struct bundle_link_table *t, uint64_t dev, uint64_t ino,
                            const char *path, const char **ret, oci_error **err);

void bundle_link_table_clear(struct bundle_link_table *t);

#endif
