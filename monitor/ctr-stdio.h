/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MonStdio, the container's stdio: the output pipes (or the pty master)
 * read in big chunks and handed up through on_output(), stdin written
 * without ever blocking (a queue plus a G_IO_OUT watch while it has data),
 * and the drain at container exit.  The owner pauses reading while an
 * attach client is behind: the container then waits on its full pipe, and
 * nothing read is ever dropped.  Knows nothing of the log or the clients.
 * (Not "stdio.h": with monitor/ on the include path that would hide libc's.)
 */
#ifndef SIFOCI_MON_CTR_STDIO_H
#define SIFOCI_MON_CTR_STDIO_H

#include <glib.h>
#include <stddef.h>

#include "notes.h"
#include "proto.h"

#define MON_READ_BUF_SIZE (1u << 20)   /* one read() of container output */
#define MON_STDIN_QUEUE_MAX (1u << 20) /* stdin queued for the container */
#define MON_PIPE_SIZE (4 << 20)        /* container stdout/stderr pipes, best effort */
#define MON_DRAIN_TIMEOUT_MS 1000      /* at exit: read leftover output this long at most */
#define MON_STDIO_QUIET_MS 2000        /* no I/O this long: the read buffer goes back */

typedef struct {
  /* Output read: STREAM is PROTO_STDOUT or PROTO_STDERR (terminal: all
   * STDOUT); DATA is valid during the call only. */
  void (*on_output)(enum proto_frame_type stream, const guint8 *data, size_t len,
                    gpointer user_data);
  /* mon_stdio_drain() is done: the rest was read (or the time was up). */
  void (*on_drained)(gpointer user_data);
  /* The stdin queue has room again, or stdin is gone: readers may go on. */
  void (*on_stdin_room)(gpointer user_data);
  /* No I/O for a while; the read buffer was given back.  May be NULL. */
  void (*on_quiet)(gpointer user_data);
} MonStdioEvents;

typedef struct MonStdio MonStdio;

MonStdio *mon_stdio_new(gboolean terminal, MonNotes *notes, const MonStdioEvents *events,
                        gpointer user_data);
void mon_stdio_free(MonStdio *stdio);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MonStdio, mon_stdio_free)

/* Pipe mode: makes the stdin, stdout and stderr pipes and returns the
 * container's ends in RET_CHILD (ours are nonblocking; the caller closes
 * the child's after the spawn).  Terminal mode: RET_CHILD is all -1, the
 * pty comes later (mon_stdio_set_pty). */
gboolean mon_stdio_open(MonStdio *stdio, int ret_child[3], GError **error);
/* Terminal mode: the pty master (taken), with any resize and CLOSE_STDIN
 * that came before it; reading starts. */
void mon_stdio_set_pty(MonStdio *stdio, int master);
/* Starts reading the output. */
void mon_stdio_start(MonStdio *stdio);
/* Reads what stderr holds right now (pipe mode: the runtime's words when
 * `create` ended) and hands it to on_output. */
void mon_stdio_read_stderr_now(MonStdio *stdio);
/* Stops / restarts reading the output (backpressure).  Resuming from inside
 * a callback is safe: a paused drain goes on from the main loop. */
void mon_stdio_pause(MonStdio *stdio);
void mon_stdio_resume(MonStdio *stdio);
/* At container exit: reads what is left (at most MON_DRAIN_TIMEOUT_MS of
 * reading; paused time does not count), then on_drained. */
void mon_stdio_drain(MonStdio *stdio);
/* Queues DATA for the container's stdin.  FALSE: the queue is full, stop
 * taking input until on_stdin_room.  Kept while the pty has not come. */
gboolean mon_stdio_stdin_push(MonStdio *stdio, const guint8 *data, size_t len);
/* Pipe: close after what is queued.  Terminal: type the EOF character. */
void mon_stdio_close_stdin(MonStdio *stdio);
/* TIOCSWINSZ on the pty (kept for it when it has not come yet).  The size
 * it already has: SIGWINCH to its foreground process group, so that a
 * client that attaches sees the screen redrawn. */
void mon_stdio_resize(MonStdio *stdio, guint16 rows, guint16 cols);
/* Closes every fd and stops every source (the drain too). */
void mon_stdio_close(MonStdio *stdio);

#endif
