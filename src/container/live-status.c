/* SPDX-License-Identifier: Apache-2.0 */
/* A container's status from its state dir and its init's cgroup
 * (live-status.h). */
#include "live-status.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

#define CGROUP_FS "/sys/fs/cgroup"

/* PID exists and is not a zombie (reaped soon by the monitor); its
 * parent in *ret_ppid. */
static bool pid_alive(pid_t pid, pid_t *ret_ppid)
{
  char path[64], buf[512];
  snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
  if (n <= 0)
    return false;
  buf[n] = '\0';
  const char *paren = strrchr(buf, ')'); /* the name may hold anything */
  if (paren == NULL || paren[1] != ' ' || paren[2] == 'Z' || paren[2] == 'X')
    return false;
  long ppid = 0;
  *ret_ppid = sscanf(paren + 2, "%*c %ld", &ppid) == 1 ? (pid_t)ppid : 0;
  return true;
}

static bool file_starts_with(const char *path, const char *text)
{
  char buf[64];
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
  if (n <= 0)
    return false;
  buf[n] = '\0';
  return strncmp(buf, text, strlen(text)) == 0;
}

/* Is PID's cgroup frozen?  The v1 freezer where it is mounted (runc uses
 * it on a hybrid host), else cgroup v2's cgroup.freeze. */
static bool frozen(pid_t pid)
{
  char path[64], line[4096];
  snprintf(path, sizeof(path), "/proc/%ld/cgroup", (long)pid);
  cleanup_fclose FILE *f = fopen(path, "re");
  cleanup_free char *v2 = NULL;
  while (f && fgets(line, sizeof(line), f)) {
    line[strcspn(line, "\n")] = '\0';
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2 == NULL || c2[1] != '/' || strstr(c2, "/..") != NULL)
      continue;
    *c2 = '\0';
    const char *controllers = c1 + 1, *cg = c2 + 1;
    cleanup_free char *file = NULL;
    if (strcmp(controllers, "freezer") == 0) {
      if (asprintf(&file, CGROUP_FS "/freezer%s/freezer.state", cg) < 0)
        return false;
      return file_starts_with(file, "FROZEN") || file_starts_with(file, "FREEZING");
    }
    if (controllers[0] == '\0' && v2 == NULL)
      v2 = strdup(cg);
  }
  if (v2 == NULL)
    return false;
  cleanup_free char *file = NULL;
  struct stat st;
  const char *mount =
      stat(CGROUP_FS "/cgroup.controllers", &st) == 0 ? CGROUP_FS : CGROUP_FS "/unified";
  if (asprintf(&file, "%s%s/cgroup.freeze", mount, v2) < 0)
    return false;
  return file_starts_with(file, "1");
}

const char *live_status(const struct ctr *c, pid_t pid, pid_t monitor)
{
  pid_t ppid = 0;
  if (pid <= 0)
    return NULL;
  if (!pid_alive(pid, &ppid))
    return "stopped";
  /* the init is the monitor's child (its subreaper); another parent is a
   * reused pid or a runtime that keeps its init: the runtime says */
  if (ppid != monitor)
    return NULL;
  /* runc and crun remove exec.fifo when `start` opens it */
  char fifo[512];
  struct stat st;
  snprintf(fifo, sizeof(fifo), "runtime/%s/exec.fifo", c->id);
  if (fstatat(c->dirfd, fifo, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return frozen(pid) ? "paused" : "created";
  return frozen(pid) ? "paused" : "running";
}
