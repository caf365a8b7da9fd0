/* SPDX-License-Identifier: Apache-2.0 */
#include "mount-users.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"

/* Does /proc/PID/mountinfo list a mount of DEV?  Field 3 is "major:minor"
 * of the mounted file system. */
static bool mountinfo_has(int proc_fd, const char *pid, dev_t dev)
{
  char path[300];
  snprintf(path, sizeof(path), "%s/mountinfo", pid);
  int fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false; /* the process went away */
  cleanup_fclose FILE *f = fdopen(fd, "re");
  if (f == NULL) {
    close(fd);
    return false;
  }
  cleanup_free char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    unsigned maj, min;
    if (sscanf(line, "%*s %*s %u:%u", &maj, &min) == 2 && makedev(maj, min) == dev)
      return true;
  }
  return false;
}

/* A runtime setting up any container copies all of our mounts into the new
 * namespace, and drops them only at pivot_root: give a namespace that
 * holds DEV up to SETTLE_TRIES * SETTLE_USEC to let go before calling it a
 * user, so that one bundle's umount does not fail because another
 * container is starting. */
#define SETTLE_TRIES 20
#define SETTLE_USEC 100000

static bool keeps_mount(int proc_fd, const char *pid, dev_t dev)
{
  for (int i = 0; i < SETTLE_TRIES; i++) {
    if (!mountinfo_has(proc_fd, pid, dev))
      return false;
    usleep(SETTLE_USEC);
  }
  return true;
}

/* /proc for readdir, and its fd (owned by the DIR) in *ret_fd */
static DIR *open_proc(int *ret_fd, oci_error **err)
{
  int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    oci_error_set(err, errno, "opening /proc");
    return NULL;
  }
  DIR *d = fdopendir(fd);
  if (d == NULL) {
    oci_error_set(err, errno, "reading /proc");
    close(fd);
    return NULL;
  }
  *ret_fd = fd;
  return d;
}

int bundle_find_foreign_mount(dev_t dev, pid_t *ret_pid, oci_error **err)
{
  *ret_pid = 0;
  struct stat self_ns;
  if (stat("/proc/self/ns/mnt", &self_ns) < 0)
    return oci_error_set(err, errno, "stat /proc/self/ns/mnt");
  int proc_fd = -1;
  cleanup_dir DIR *d = open_proc(&proc_fd, err);
  if (d == NULL)
    return -1;
  /* Namespaces already looked at: many processes share one. */
  cleanup_free ino_t *seen = NULL;
  size_t n_seen = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char *end;
    errno = 0;
    long pid = strtol(e->d_name, &end, 10);
    if (!isdigit((unsigned char)e->d_name[0]) || *end != '\0' || errno != 0 || pid <= 0 ||
        pid > INT_MAX)
      continue;
    char path[300];
    struct stat ns;
    snprintf(path, sizeof(path), "%s/ns/mnt", e->d_name);
    if (fstatat(proc_fd, path, &ns, 0) < 0 || ns.st_ino == self_ns.st_ino)
      continue;
    bool known = false;
    for (size_t i = 0; i < n_seen && !known; i++)
      known = seen[i] == ns.st_ino;
    if (known)
      continue;
    if (n_seen == cap) {
      size_t ncap = cap ? cap * 2 : 64;
      ino_t *n = realloc(seen, ncap * sizeof(*n));
      if (n == NULL)
        return oci_error_set(err, ENOMEM, "scanning mount namespaces");
      seen = n;
      cap = ncap;
    }
    seen[n_seen++] = ns.st_ino;
    if (keeps_mount(proc_fd, e->d_name, dev)) {
      *ret_pid = (pid_t)pid;
      return 0;
    }
  }
  return 0;
}

int bundle_find_root_user(dev_t dev, ino_t ino, pid_t *ret_pid, oci_error **err)
{
  *ret_pid = 0;
  int proc_fd = -1;
  cleanup_dir DIR *d = open_proc(&proc_fd, err);
  if (d == NULL)
    return -1;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!isdigit((unsigned char)e->d_name[0]))
      continue;
    char path[300];
    struct stat st;
    snprintf(path, sizeof(path), "%s/root", e->d_name);
    /* processes we may not look at cannot be in a tree only we (and our
     * user namespaces) can reach */
    if (fstatat(proc_fd, path, &st, 0) < 0 || st.st_dev != dev || st.st_ino != ino)
      continue;
    *ret_pid = (pid_t)strtol(e->d_name, NULL, 10);
    return 0;
  }
  return 0;
}

int bundle_refuse_foreign_mount(dev_t dev, const char *target, oci_error **err)
{
  pid_t user = 0;
  if (bundle_find_foreign_mount(dev, &user, err) < 0)
    return -1;
  if (user > 0)
    return oci_error_set(err, 0,
                         "'%s' is still mounted in another mount namespace (process %d): is a "
                         "container running from this bundle?",
                         target, (int)user);
  return 0;
}
