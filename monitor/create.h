/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MonCreate: `runtime create`, or `runtime run --detach` that also starts
 * the container (asynchronous, with a timeout, its stderr
 * kept for the error message) and `runtime delete --force` (synchronous,
 * for cleanup).  The command lines come from lib/'s runtime adapter; the
 * error message from the runtime's stderr or runtime.log, one line.
 * fork/exec by hand: no helper threads, and the child gets exactly the fds
 * we mean.  Who reaps the create process is the owner's business (it
 * calls mon_create_exited()).
 */
#ifndef SIFOCI_MON_CREATE_H
#define SIFOCI_MON_CREATE_H

#include <glib.h>
#include <stddef.h>
#include <sys/types.h>

#include "notes.h"

#define MON_CLEANUP_TIMEOUT_MS 10000 /* `runtime delete --force` */

/* Borrowed: they must outlive the part. */
typedef struct {
  const char *runtime; /* absolute path */
  char *const *runtime_args;
  const char *id, *bundle, *state_dir;
  int state_dfd;
  int timeout_s;
  gboolean start; /* `run --detach`: the container starts as it is created */
} MonCreateConfig;

typedef struct {
  void (*on_created)(gpointer user_data);
  /* MESSAGE: one line, the runtime's own words when it had any. */
  void (*on_create_failed)(const char *message, gpointer user_data);
} MonCreateEvents;

typedef struct MonCreate MonCreate;

MonCreate *mon_create_new(const MonCreateConfig *config, MonNotes *notes,
                          const MonCreateEvents *events, gpointer user_data);
void mon_create_free(MonCreate *create);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MonCreate, mon_create_free)

/* Starts `runtime create` in its own process group with STDIO_FDS as its
 * 0, 1, 2 (-1: /dev/null), and the console socket when CONSOLE is set.
 * STDIO_FDS[2] -1: the runtime's stderr goes to a pipe of our own (terminal
 * mode, where the container's output is the pty). */
gboolean mon_create_spawn(MonCreate *create, const char *console, const int stdio_fds[3],
                          GError **error);
/* The create process while it runs, else 0. */
pid_t mon_create_pid(const MonCreate *create);
/* The runtime's stderr (pipe mode: the owner reads it) while it creates. */
void mon_create_keep_message(MonCreate *create, const guint8 *data, size_t len);
/* The create process ended: on_created or on_create_failed. */
void mon_create_exited(MonCreate *create, int wait_status);
/* Create failed for another reason: kill its process group and reap it. */
void mon_create_abort(MonCreate *create);
/* After success: what the runtime said (warnings) goes to the notes. */
void mon_create_note_warnings(MonCreate *create);
/* `runtime delete --force ID`, waited for (bounded), best effort; nothing
 * when create was never started. */
void mon_create_delete(MonCreate *create);

#endif
