/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor process itself (proc.h). */
#include "proc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* SIGCHLD is blocked (it arrives through the signalfd), so a wait for it
 * is a sigtimedwait().  One taken here is raised again at the end, so the
 * main loop's signalfd still sees it. */
typedef struct {
  gint64 deadline;
  gboolean took;
} ChildWait;

static void child_wait_begin(ChildWait *w, int timeout_ms)
{
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, NULL); /* already, unless setup failed early */
  w->deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  w->took = FALSE;
}

/* Until some child changed state (TRUE) or the deadline (FALSE). */
static gboolean child_wait_next(ChildWait *w)
{
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (;;) {
    gint64 left = w->deadline - g_get_monotonic_time();
    if (left <= 0)
      return FALSE;
    struct timespec ts = {.tv_sec = left / G_USEC_PER_SEC,
                          .tv_nsec = (left % G_USEC_PER_SEC) * 1000};
    if (sigtimedwait(&set, NULL, &ts) == SIGCHLD) {
      w->took = TRUE;
      return TRUE;
    }
    if (errno != EINTR)
      return FALSE; /* EAGAIN: timed out */
  }
}

static void child_wait_end(ChildWait *w)
{
  if (w->took)
    raise(SIGCHLD);
}

gboolean mon_wait_child(pid_t pid, int timeout_ms, int *ret_status)
{
  ChildWait w;
  int status = 0;
  pid_t r;
  child_wait_begin(&w, timeout_ms);
  do
    r = waitpid(pid, &status, WNOHANG);
  while ((r == 0 && child_wait_next(&w)) || (r < 0 && errno == EINTR));
  child_wait_end(&w);
  if (r != pid)
    return FALSE;
  if (ret_status)
    *ret_status = status;
  return TRUE;
}

/* Our children, from /proc (subreaper: leftovers of a failed create). */
static GArray *list_children(void)
{
  GArray *pids = g_array_new(FALSE, FALSE, sizeof(pid_t));
  g_autofree char *path = g_strdup_printf("/proc/self/task/%d/children", (int)getpid());
  g_autofree char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, NULL))
    return pids;
  for (char *p = text; *p;) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p)
      break;
    pid_t pid = (pid_t)v;
    g_array_append_val(pids, pid);
    p = end;
  }
  return pids;
}

void mon_kill_children(void)
{
  ChildWait w;
  child_wait_begin(&w, MON_KILL_TIMEOUT_MS);
  for (;;) {
    while (waitpid(-1, NULL, WNOHANG) > 0)
      ;
    g_autoptr(GArray) pids = list_children();
    if (pids->len == 0)
      break;
    for (guint i = 0; i < pids->len; i++)
      kill(g_array_index(pids, pid_t, i), SIGKILL);
    if (!child_wait_next(&w))
      break;
  }
  child_wait_end(&w);
}

/* Idle memory: unmap the file-backed pages this process only ever read
 * (code and constants of the binary and its libraries).  What start-up
 * touched (option parsing, relocation, the create path) then no longer
 * counts as resident; what runs again faults back in from the page cache.
 * A forked daemon gets the same effect for free; we keep our pid instead.
 * Mappings holding private copies (relocated or written data) and shared
 * ones are left alone: dropping those would lose data. */
void mon_trim_mappings(void)
{
  FILE *f = fopen("/proc/self/smaps", "re");
  if (f == NULL)
    return;
  GArray *ranges = g_array_new(FALSE, FALSE, sizeof(unsigned long) * 2);
  char line[512], perms[8];
  unsigned long start = 0, end = 0, anon;
  gboolean candidate = FALSE;
  while (fgets(line, sizeof(line), f)) {
    unsigned long s0, e0, inode;
    /* (field lines like "Anonymous:" begin with a hex digit too) */
    if (sscanf(line, "%lx-%lx %7s %*s %*s %lu", &s0, &e0, perms, &inode) == 4) {
      start = s0;
      end = e0;
      candidate = inode != 0 && perms[0] == 'r' && perms[1] == '-' && perms[3] == 'p';
    } else if (candidate && sscanf(line, "Anonymous: %lu kB", &anon) == 1) {
      if (anon == 0) {
        unsigned long r[2] = {start, end};
        g_array_append_val(ranges, r);
      }
      candidate = FALSE;
    }
  }
  fclose(f);
  for (guint i = 0; i < ranges->len; i++) {
    unsigned long *r = &g_array_index(ranges, unsigned long, 2 * i);
    (void)madvise((void *)r[0], r[1] - r[0], MADV_DONTNEED);
  }
  g_array_free(ranges, TRUE);
}
