/* SPDX-License-Identifier: Apache-2.0 */
/* The container's post-mortem from its cgroup (postmortem.h). */
#include "postmortem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CGROUP_FS "/sys/fs/cgroup"
#define SMALL_FILE_MAX 4096

struct MonCgroup {
  char *v2;        /* the unified hierarchy's dir of the container, or NULL */
  char *v1_memory; /* the v1 memory controller's dir, or NULL */
  char *v1_cpuacct;
};

/* A cgroup path from /proc/PID/cgroup is the kernel's, but ".." would take
 * a read elsewhere: refused. */
static gboolean path_is_plain(const char *p)
{
  return p[0] == '/' && strstr(p, "/..") == NULL;
}

static char *dir_if_exists(const char *mount, const char *path)
{
  char *dir = g_strconcat(mount, path, NULL);
  if (access(dir, F_OK) == 0)
    return dir;
  g_free(dir);
  return NULL;
}

/* The v1 line's controller list holds NAME ("cpu,cpuacct", "memory"). */
static gboolean has_controller(const char *list, const char *name)
{
  g_auto(GStrv) parts = g_strsplit(list, ",", -1);
  return g_strv_contains((const gchar *const *)parts, name);
}

/* The mount of a v1 controller: its own dir, or the co-mounted "cpu,cpuacct". */
static char *v1_dir(const char *list, const char *name, const char *path)
{
  g_autofree char *own = g_strconcat(CGROUP_FS "/", name, NULL);
  char *dir = dir_if_exists(own, path);
  if (dir == NULL) {
    g_autofree char *mount = g_strconcat(CGROUP_FS "/", list, NULL);
    dir = dir_if_exists(mount, path);
  }
  return dir;
}

MonCgroup *mon_cgroup_find(pid_t pid)
{
  MonCgroup *cg = g_new0(MonCgroup, 1);
  g_autofree char *proc = g_strdup_printf("/proc/%d/cgroup", (int)pid);
  g_autofree char *text = NULL;
  if (!g_file_get_contents(proc, &text, NULL, NULL))
    return cg;
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  for (char **l = lines; *l; l++) {
    /* HIERARCHY-ID:CONTROLLERS:PATH */
    g_auto(GStrv) f = g_strsplit(*l, ":", 3);
    if (g_strv_length(f) != 3 || !path_is_plain(f[2]))
      continue;
    if (strcmp(f[0], "0") == 0 && f[1][0] == '\0' && cg->v2 == NULL) {
      /* pure v2 mounts it at CGROUP_FS, hybrid at CGROUP_FS/unified */
      g_autofree char *probe = g_strconcat(CGROUP_FS, "/cgroup.controllers", NULL);
      cg->v2 = dir_if_exists(access(probe, F_OK) == 0 ? CGROUP_FS : CGROUP_FS "/unified", f[2]);
    } else if (has_controller(f[1], "memory") && cg->v1_memory == NULL) {
      cg->v1_memory = v1_dir(f[1], "memory", f[2]);
    } else if (has_controller(f[1], "cpuacct") && cg->v1_cpuacct == NULL) {
      cg->v1_cpuacct = v1_dir(f[1], "cpuacct", f[2]);
    }
  }
  return cg;
}

void mon_cgroup_free(MonCgroup *cg)
{
  if (cg == NULL)
    return;
  g_free(cg->v2);
  g_free(cg->v1_memory);
  g_free(cg->v1_cpuacct);
  g_free(cg);
}

/* DIR/NAME's text, or NULL. */
static char *read_small(const char *dir, const char *name)
{
  if (dir == NULL)
    return NULL;
  g_autofree char *path = g_build_filename(dir, name, NULL);
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return NULL;
  char *buf = g_malloc(SMALL_FILE_MAX + 1);
  ssize_t n = read(fd, buf, SMALL_FILE_MAX);
  close(fd);
  if (n < 0) {
    g_free(buf);
    return NULL;
  }
  buf[n] = '\0';
  return buf;
}

/* A number alone in DIR/NAME, or -1. */
static gint64 read_number(const char *dir, const char *name)
{
  g_autofree char *t = read_small(dir, name);
  guint64 v;
  if (t == NULL || !g_ascii_string_to_unsigned(g_strstrip(t), 10, 0, G_MAXINT64, &v, NULL))
    return -1;
  return (gint64)v;
}

/* The value of "KEY N" in a flat keyed file (memory.events, cpu.stat,
 * memory.oom_control), or -1. */
static gint64 read_key(const char *dir, const char *name, const char *key)
{
  g_autofree char *t = read_small(dir, name);
  if (t == NULL)
    return -1;
  size_t klen = strlen(key);
  for (char *l = t; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
    guint64 v;
    if (strncmp(l, key, klen) != 0 || l[klen] != ' ')
      continue;
    char *end = strchr(l, '\n');
    g_autofree char *num =
        end ? g_strndup(l + klen + 1, (gsize)(end - l - (gssize)klen - 1)) : g_strdup(l + klen + 1);
    if (g_ascii_string_to_unsigned(num, 10, 0, G_MAXINT64, &v, NULL))
      return (gint64)v;
    return -1;
  }
  return -1;
}

void mon_cgroup_read(const MonCgroup *cg, MonPostmortem *ret)
{
  *ret = (MonPostmortem){.oom_killed = -1, .memory_peak = -1, .cpu_time_ns = -1};
  if (cg == NULL)
    return;
  /* the runtime's memory accounting is wherever the memory controller is:
   * v1 when mounted there (hybrid), else v2 */
  gint64 kills = -1;
  if (cg->v1_memory) {
    kills = read_key(cg->v1_memory, "memory.oom_control", "oom_kill");
    ret->memory_peak = read_number(cg->v1_memory, "memory.max_usage_in_bytes");
  } else if (cg->v2) {
    kills = read_key(cg->v2, "memory.events", "oom_kill");
    ret->memory_peak = read_number(cg->v2, "memory.peak");
  }
  if (kills >= 0)
    ret->oom_killed = kills > 0;
  if (cg->v1_cpuacct)
    ret->cpu_time_ns = read_number(cg->v1_cpuacct, "cpuacct.usage");
  if (ret->cpu_time_ns < 0 && cg->v2) {
    gint64 us = read_key(cg->v2, "cpu.stat", "usage_usec");
    ret->cpu_time_ns = us >= 0 ? us * 1000 : -1;
  }
}
