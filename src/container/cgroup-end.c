/* SPDX-License-Identifier: Apache-2.0 */
#include "cgroup-end.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"

#define CGROUP_EMPTY_WAIT_MS 5000

static void write_str_at(int dfd, const char *name, const char *text)
{
  cleanup_close int fd = openat(dfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0 && write(fd, text, strlen(text)) < 0)
    return; /* not this hierarchy's file, or refused: best effort */
}

/* SIGKILL every pid of DFD's cgroup.procs; their count. */
static int kill_procs(int dfd)
{
  cleanup_close int fd = openat(dfd, "cgroup.procs", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_fclose FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
  if (f == NULL)
    return 0;
  fd = -1; /* the FILE has it */
  int n = 0;
  long pid;
  while (fscanf(f, "%ld", &pid) == 1)
    if (pid > 1 && pid <= INT_MAX && pid != getpid() && kill((pid_t)pid, SIGKILL) == 0)
      n++;
  return n;
}

static bool procs_empty(int dfd)
{
  char c;
  cleanup_close int fd = openat(dfd, "cgroup.procs", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  return fd < 0 || read(fd, &c, 1) <= 0;
}

static void sleep_ms(long ms)
{
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* One hierarchy: MOUNTPOINT + PATH.  Returns 1 when there was a cgroup. */
static int end_in(const char *mountpoint, const char *path, struct cgroup_end_result *r)
{
  char dir[PATH_MAX];
  if (snprintf(dir, sizeof(dir), "%s%s", mountpoint, path) >= (int)sizeof(dir))
    return 0;
  cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return 0;
  /* a frozen (paused) process does not die until thawed */
  write_str_at(dfd, "freezer.state", "THAWED");
  write_str_at(dfd, "cgroup.freeze", "0");
  /* the processes may fork while we kill: again until none is left */
  for (int waited = 0; waited < CGROUP_EMPTY_WAIT_MS; waited += 20) {
    r->killed += kill_procs(dfd);
    if (procs_empty(dfd) && rmdir(dir) == 0)
      break;
    if (errno == ENOENT)
      break;
    sleep_ms(20);
  }
  if (access(dir, F_OK) == 0)
    r->left++;
  else
    r->removed++;
  return 1;
}

void cgroup_end(const char *cgroup_path, struct cgroup_end_result *ret)
{
  *ret = (struct cgroup_end_result){0};
  /* a path that could leave the hierarchy is not one we made */
  if (cgroup_path == NULL || cgroup_path[0] != '/' || strstr(cgroup_path, "/..") != NULL ||
      strcmp(cgroup_path, "/") == 0)
    return;
  cleanup_fclose FILE *mi = fopen("/proc/self/mountinfo", "re");
  if (mi == NULL)
    return;
  cleanup_free char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, mi) > 0) {
    /* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS... - FSTYPE SOURCE SUPER */
    char mountpoint[PATH_MAX], fstype[32];
    const char *dash = strstr(line, " - ");
    if (dash == NULL || sscanf(dash + 3, "%31s", fstype) != 1 ||
        (strcmp(fstype, "cgroup") != 0 && strcmp(fstype, "cgroup2") != 0) ||
        sscanf(line, "%*s %*s %*s %*s %4095s", mountpoint) != 1)
      continue;
    if (strchr(mountpoint, '\\') != NULL) /* an escaped name: not a hierarchy we know */
      continue;
    end_in(mountpoint, cgroup_path, ret);
  }
}
