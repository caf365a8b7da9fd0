/* SPDX-License-Identifier: Apache-2.0 */
/* Finding the runtime, and telling runc from crun by the file it really is. */
#include "runtime.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"

/* root's PATH may lack the sbin directories (sudo, cron); runc lives there */
static const char fallback_path[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/* 0 when PATH is an executable regular file and not this very program (a
 * `runc` link to oci-runc earlier in PATH would otherwise exec us forever);
 * else a negative errno: -ENOEXEC for a file that is not executable, -ELOOP
 * for ourselves. */
static int usable(const char *path)
{
  struct stat st, self;
  if (stat(path, &st) < 0)
    return -errno;
  if (!fs_is_executable_file(path))
    return -ENOEXEC;
  if (stat("/proc/self/exe", &self) == 0 && self.st_dev == st.st_dev && self.st_ino == st.st_ino)
    return -ELOOP;
  return 0;
}

/* NAME in DIR (DIRLEN bytes), allocated when usable.  Empty entries (the
 * current directory) are skipped on purpose: a runtime runs as root. */
static char *search_dir(const char *dir, size_t dirlen, const char *name)
{
  char *p = NULL;
  if (dirlen == 0)
    return NULL;
  if (asprintf(&p, "%.*s/%s", (int)dirlen, dir, name) < 0)
    return NULL;
  if (usable(p) == 0)
    return p;
  free(p);
  return NULL;
}

static char *search_dirs(const char *dirs, const char *name)
{
  for (const char *d = dirs; d && *d;) {
    const char *end = strchrnul(d, ':');
    char *found = search_dir(d, (size_t)(end - d), name);
    if (found)
      return found;
    d = *end ? end + 1 : end;
  }
  return NULL;
}

static char *search_path(const char *name)
{
  char *found = search_dirs(getenv("PATH"), name);
  return found ? found : search_dirs(fallback_path, name);
}

enum rt_kind rt_kind_of(const char *path)
{
  /* By the real file's name: some distributions make `runc` a link to
   * crun, and then crun's flags are the ones that work. */
  char real[PATH_MAX];
  const char *name = realpath(path, real) ? real : path;
  const char *base = strrchr(name, '/');
  base = base ? base + 1 : name;
  return strncmp(base, "crun", 4) == 0 ? RT_CRUN : RT_RUNC;
}

static int fill(struct rt_runtime *ret, const char *path, oci_error **err)
{
  const char *base = strrchr(path, '/');
  ret->path = strdup(path);
  ret->name = strdup(base ? base + 1 : path);
  ret->kind = rt_kind_of(path);
  if (ret->path == NULL || ret->name == NULL) {
    rt_clear(ret);
    return oci_error_set(err, ENOMEM, "runtime");
  }
  return 0;
}

static int check_usable(const char *spec, const char *path, oci_error **err)
{
  int r = usable(path);
  if (r == -ENOEXEC)
    return oci_error_set(err, 0, "runtime '%s' is not an executable file", spec);
  if (r == -ELOOP)
    return oci_error_set(err, 0, "runtime '%s' is %s itself", spec, program_invocation_short_name);
  if (r < 0)
    return oci_error_set(err, -r, "runtime '%s'", spec);
  return 0;
}

int rt_resolve(const char *spec, struct rt_runtime *ret, oci_error **err)
{
  *ret = (struct rt_runtime){0};
  if (spec == NULL || spec[0] == '\0')
    return oci_error_set_kind(err, OCI_ERR_USAGE, 0, "--runtime: empty name");
  if (strchr(spec, '/') == NULL) {
    cleanup_free char *found = search_path(spec);
    if (found == NULL)
      return oci_error_set(err, 0, "runtime '%s' not found in PATH or in %s", spec, fallback_path);
    return fill(ret, found, err);
  }
  if (check_usable(spec, spec, err) < 0)
    return -1;
  /* an absolute path, so that the record of a create means the same file
   * whatever the directory of a later command */
  char abs[PATH_MAX];
  if (realpath(spec, abs) == NULL)
    return oci_error_set(err, errno, "runtime '%s'", spec);
  return fill(ret, abs, err);
}

int rt_from_record(const char *name, const char *path, struct rt_runtime *ret, oci_error **err)
{
  *ret = (struct rt_runtime){0};
  if (path == NULL || path[0] != '/')
    return oci_error_set(err, 0, "no runtime path recorded");
  if (usable(path) < 0)
    return oci_error_set(err, 0, "runtime '%s' (recorded at create) is gone", path);
  if (fill(ret, path, err) < 0)
    return -1;
  if (name && name[0]) {
    free(ret->name);
    ret->name = strdup(name);
    if (ret->name == NULL) {
      rt_clear(ret);
      return oci_error_set(err, ENOMEM, "runtime");
    }
  }
  return 0;
}

void rt_clear(struct rt_runtime *rt)
{
  free(rt->name);
  free(rt->path);
  *rt = (struct rt_runtime){0};
}
