/* SPDX-License-Identifier: Apache-2.0 */
#include "link-table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int bundle_link_table_first(struct bundle_link_table *t, uint64_t dev, uint64_t ino,
                            const char *path, const char **ret, oci_error **err)
{
  *ret = NULL;
  /* linear: images with many multiply-linked files are rare, and a hash
   * would buy little next to writing the files themselves */
  for (size_t i = 0; i < t->n; i++)
    if (t->v[i].dev == dev && t->v[i].ino == ino) {
      *ret = t->v[i].path;
      return 0;
    }
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 64;
    struct bundle_link *v = realloc(t->v, cap * sizeof(*v));
    if (v == NULL)
      return oci_error_set(err, ENOMEM, "remembering hard links");
    t->v = v;
    t->cap = cap;
  }
  char *copy = strdup(path);
  if (copy == NULL)
    return oci_error_set(err, ENOMEM, "remembering hard links");
  t->v[t->n++] = (struct bundle_link){dev, ino, copy};
  return 0;
}

void bundle_link_table_clear(struct bundle_link_table *t)
{
  for (size_t i = 0; i < t->n; i++)
    free(t->v[i].path);
  free(t->v);
  memset(t, 0, sizeof(*t));
}
