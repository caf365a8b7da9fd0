/* SPDX-License-Identifier: Apache-2.0 */
#include "idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fs.h"

#define SUBID_FILE_MAX (4u << 20)

/* The first "NAME:START:COUNT" (or "UID:START:COUNT") line of FILE for the
 * user: 1 with *ret_start and *ret_count, 0 when there is none. */
static int find_range(const char *file, const char *name, uid_t id, uint32_t *ret_start,
                      uint32_t *ret_count, oci_error **err)
{
  cleanup_free char *text = NULL;
  int r = fs_read_file_at(AT_FDCWD, file, SUBID_FILE_MAX, 0, &text, NULL, err);
  if (r != 0)
    return r == 1 ? 0 : oci_error_prefix(err, "reading '%s'", file);
  char idstr[16];
  snprintf(idstr, sizeof(idstr), "%lu", (unsigned long)id);
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *c1 = strchr(line, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2 == NULL)
      continue;
    *c1 = '\0';
    if (strcmp(line, idstr) != 0 && (name == NULL || strcmp(line, name) != 0))
      continue;
    char *end1, *end2;
    errno = 0;
    unsigned long start = strtoul(c1 + 1, &end1, 10);
    unsigned long count = strtoul(c2 + 1, &end2, 10);
    if (errno != 0 || end1 != c2 || (*end2 != '\0' && *end2 != ' ') || count == 0 ||
        start > UINT32_MAX || count > UINT32_MAX - start || count > UINT32_MAX - 1)
      continue; /* not a range we can use; shadow's tools skip it too */
    *ret_start = (uint32_t)start;
    *ret_count = (uint32_t)count;
    return 1;
  }
  return 0;
}

static int fill_side(const char *file, const char *name, uid_t user, uint32_t own,
                     struct idmap_range *ranges, size_t *n, oci_error **err)
{
  ranges[0] = (struct idmap_range){0, own, 1};
  *n = 1;
  uint32_t start = 0, count = 0;
  int r = find_range(file, name, user, &start, &count, err);
  if (r < 0)
    return -1;
  if (r == 1 && !(own >= start && own - start < count)) {
    ranges[1] = (struct idmap_range){1, start, count};
    *n = 2;
  }
  return 0;
}

int idmap_for_user(uid_t uid, gid_t gid, struct idmap *ret, oci_error **err)
{
  memset(ret, 0, sizeof(*ret));
  /* the name only matches lines; a user without one still has the UID */
  struct passwd pw, *found = NULL;
  char buf[4096];
  const char *name = NULL;
  if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) == 0 && found != NULL)
    name = found->pw_name;
  if (fill_side("/etc/subuid", name, uid, (uint32_t)uid, ret->uid, &ret->n_uid, err) < 0 ||
      fill_side("/etc/subgid", name, uid, (uint32_t)gid, ret->gid, &ret->n_gid, err) < 0)
    return -1;
  return 0;
}

bool idmap_has_subids(const struct idmap *m)
{
  return m->n_uid > 1 || m->n_gid > 1;
}

bool idmap_maps(const struct idmap *m, bool gid, uint32_t id)
{
  const struct idmap_range *r = gid ? m->gid : m->uid;
  size_t n = gid ? m->n_gid : m->n_uid;
  for (size_t i = 0; i < n; i++)
    if (id >= r[i].inside && id - r[i].inside < r[i].count)
      return true;
  return false;
}

uint32_t idmap_max_inside(const struct idmap *m, bool gid)
{
  const struct idmap_range *r = gid ? m->gid : m->uid;
  size_t n = gid ? m->n_gid : m->n_uid;
  return r[n - 1].inside + r[n - 1].count - 1;
}

bool idmap_helpers_found(const char **ret_dir)
{
  static const char *const dirs[] = {"/usr/bin", "/bin", "/usr/sbin", "/sbin"};
  for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
    char u[64], g[64];
    snprintf(u, sizeof(u), "%s/newuidmap", dirs[i]);
    snprintf(g, sizeof(g), "%s/newgidmap", dirs[i]);
    if (fs_is_executable_file(u) && fs_is_executable_file(g)) {
      if (ret_dir)
        *ret_dir = dirs[i];
      return true;
    }
  }
  return false;
}
