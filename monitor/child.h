/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MonChild: signals (one signalfd: the handlers never run, the loop just
 * wakes up), reaping as child subreaper, and the container's exit status.
 * The status is what waitpid() said, or "unknown" -- never made up: a
 * container init that is not our child is watched with a pidfd; when it
 * ends and is not handed to us (the subreaper) within
 * MON_CHILD_REPARENT_GRACE_MS, it ends with known = FALSE.
 */
#ifndef SIFOCI_MON_CHILD_H
#define SIFOCI_MON_CHILD_H

#include <glib.h>
#include <sys/types.h>
#include <time.h>

#include "notes.h"

/* An intermediate runtime process exits within milliseconds; the bound is
 * for a loaded machine. */
#define MON_CHILD_REPARENT_GRACE_MS 2000

typedef struct {
  gboolean known;
  int status;         /* WEXITSTATUS, or 128+N for signal N */
  int signal;         /* N, 0 for a normal exit */
  const char *reason; /* !known: why (valid during the callback) */
  struct timespec finished;
} MonExit;

typedef struct {
  /* The `runtime create` process ended with this wait status. */
  void (*on_create_exited)(int wait_status, gpointer user_data);
  /* The container ended (reported once). */
  void (*on_container_exit)(const MonExit *exit, gpointer user_data);
  /* SIGTERM, SIGINT or SIGHUP came to the monitor: forward it. */
  void (*on_signal)(int sig, gpointer user_data);
} MonChildEvents;

typedef struct MonChild MonChild;

/* Blocks the signals and opens the signalfd. */
MonChild *mon_child_new(MonNotes *notes, const MonChildEvents *events, gpointer user_data,
                        GError **error);
void mon_child_free(MonChild *child);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MonChild, mon_child_free)

/* The `runtime create` pid to report (0: none any more). */
void mon_child_watch_create(MonChild *child, pid_t pid);
/* The container's pid is known: reaped already (on_container_exit now),
 * ours to reap, or only to watch.  Exits reaped before this are kept. */
void mon_child_watch_container(MonChild *child, pid_t pid);

#endif
