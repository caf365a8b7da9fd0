/* SPDX-License-Identifier: Apache-2.0 */
/* The container's stdio (ctr-stdio.h). */
#include "ctr-stdio.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "errors.h"
#include "files.h"
#include "queue.h"
#include "watch.h"

#define PTY_RETRY_MS 100

struct MonStdio {
  gboolean terminal;
  MonNotes *notes;
  MonStdioEvents ev;
  gpointer user_data;

  /* output: [0] stdout (or a dup of the pty master), [1] stderr */
  int out_fd[2];
  GSource *out_src[2];
  int pty_fd; /* terminal mode: the pty master (stdin_fd, out_fd[0] are dups) */
  guint pty_retry_timer;
  guint8 *rbuf; /* MON_READ_BUF_SIZE, mmap'd, given back when quiet */
  guint quiet_timer;
  gboolean active; /* I/O since the quiet timer last looked */
  gboolean paused; /* the owner asked: output is not read */
  gboolean draining;
  gint64 drain_budget; /* microseconds of reading left for the drain */
  guint drain_idle;    /* continues the drain after a pause */

  /* stdin */
  int stdin_fd;       /* pipe write end or a dup of the pty master */
  GSource *stdin_src; /* exists only while stdin_q has data */
  MonQueue stdin_q;
  gboolean stdin_close_pending, stdin_done, pty_eof_pending;
  gboolean have_winsize;
  struct winsize winsize;
};

static void stdin_arm(MonStdio *s);

MonStdio *mon_stdio_new(gboolean terminal, MonNotes *notes, const MonStdioEvents *events,
                        gpointer user_data)
{
  MonStdio *s = g_new0(MonStdio, 1);
  s->terminal = terminal;
  s->notes = notes;
  s->ev = *events;
  s->user_data = user_data;
  s->out_fd[0] = s->out_fd[1] = s->pty_fd = s->stdin_fd = -1;
  /* Room for one frame past the bound: readers pause at the bound, so the
   * push that reaches it does not fail. */
  mon_queue_init(&s->stdin_q, MON_STDIN_QUEUE_MAX + PROTO_MAX_FRAME + MON_QUEUE_RECORD_OVERHEAD);
  return s;
}

void mon_stdio_free(MonStdio *s)
{
  if (s == NULL)
    return;
  mon_stdio_close(s);
  g_clear_handle_id(&s->quiet_timer, g_source_remove);
  if (s->rbuf)
    munmap(s->rbuf, MON_READ_BUF_SIZE);
  g_free(s);
}

static gboolean pipe_pair(int p[2], GError **error)
{
  if (pipe2(p, O_CLOEXEC) < 0)
    return mon_set_error_errno(error, errno, "pipe");
  return TRUE;
}

static void grow_pipe(int fd)
{
  /* Best effort: above /proc/sys/fs/pipe-max-size needs CAP_SYS_RESOURCE.
   * Pipe pages are allocated only while data waits, so idle costs nothing. */
  if (fcntl(fd, F_SETPIPE_SZ, MON_PIPE_SIZE) < 0 && fcntl(fd, F_SETPIPE_SZ, 1 << 20) < 0)
    (void)fcntl(fd, F_SETPIPE_SZ, 256 * 1024);
}

gboolean mon_stdio_open(MonStdio *s, int child[3], GError **error)
{
  int p[2];
  child[0] = child[1] = child[2] = -1;
  /* mmap: no resident memory until output arrives, and it can be given back
   * (MADV_DONTNEED) when the container is quiet. */
  void *buf =
      mmap(NULL, MON_READ_BUF_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (buf == MAP_FAILED)
    return mon_set_error_errno(error, errno, "mmap");
  s->rbuf = buf;
  if (s->terminal)
    return TRUE;
  if (!pipe_pair(p, error))
    return FALSE;
  s->stdin_fd = p[1];
  child[0] = p[0];
  for (int i = 0; i < 2; i++) {
    if (!pipe_pair(p, error))
      return FALSE;
    s->out_fd[i] = p[0];
    child[i + 1] = p[1];
    grow_pipe(p[0]);
  }
  for (int i = 0; i < 3; i++)
    (void)fchmod(child[i], 0777); /* a non-root container user may reopen /proc/self/fd/N */
  return mon_set_nonblock(s->stdin_fd, error) && mon_set_nonblock(s->out_fd[0], error) &&
         mon_set_nonblock(s->out_fd[1], error);
}

/* ---- output ---- */

static gboolean on_quiet_check(gpointer data)
{
  MonStdio *s = data;
  if (s->active) {
    s->active = FALSE;
    return G_SOURCE_CONTINUE;
  }
  /* Quiet for a while: give the buffer back, and tell the owner, who has
   * buffers of its own. */
  s->quiet_timer = 0;
  if (s->rbuf)
    (void)madvise(s->rbuf, MON_READ_BUF_SIZE, MADV_DONTNEED);
  if (s->ev.on_quiet)
    s->ev.on_quiet(s->user_data);
  return G_SOURCE_REMOVE;
}

static void note_activity(MonStdio *s)
{
  s->active = TRUE;
  if (s->quiet_timer == 0)
    s->quiet_timer = g_timeout_add(MON_STDIO_QUIET_MS, on_quiet_check, s);
}

static void close_output(MonStdio *s, int i)
{
  mon_watch_destroy(&s->out_src[i]);
  mon_close(&s->out_fd[i]);
}

static gboolean on_stdout(gpointer data, GIOCondition cond);
static gboolean on_stderr(gpointer data, GIOCondition cond);

void mon_stdio_start(MonStdio *s)
{
  MonWatchFunc funcs[2] = {on_stdout, on_stderr};
  if (s->paused || s->draining)
    return; /* mon_stdio_resume() / the drain read instead */
  for (int i = 0; i < 2; i++)
    if (s->out_fd[i] >= 0 && s->out_src[i] == NULL)
      s->out_src[i] = mon_watch_new(s->out_fd[i], G_IO_IN, funcs[i], s);
}

static gboolean pty_retry(gpointer data)
{
  MonStdio *s = data;
  s->pty_retry_timer = 0;
  mon_stdio_start(s);
  return G_SOURCE_REMOVE;
}

/* One read.  Returns FALSE when there is nothing more to read now. */
static gboolean read_once(MonStdio *s, int i)
{
  ssize_t n = read(s->out_fd[i], s->rbuf, MON_READ_BUF_SIZE);
  if (n > 0) {
    note_activity(s);
    s->ev.on_output(i == 0 ? PROTO_STDOUT : PROTO_STDERR, s->rbuf, (size_t)n, s->user_data);
    return TRUE;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return FALSE;
  if (n < 0 && errno == EIO && s->terminal && i == 0) {
    /* No slave open right now (the container closed its terminal, or it
     * is gone).  Stop polling, which would spin on POLLHUP, and look again
     * a bit later; the final drain reads whatever is left. */
    mon_watch_destroy(&s->out_src[i]);
    if (s->pty_retry_timer == 0 && !s->draining)
      s->pty_retry_timer = g_timeout_add(PTY_RETRY_MS, pty_retry, s);
    return FALSE;
  }
  if (n < 0)
    mon_note(s->notes, "read container %s: %s", i == 0 ? "stdout" : "stderr", g_strerror(errno));
  close_output(s, i); /* EOF: every writer is gone */
  return FALSE;
}

static gboolean on_output(MonStdio *s, int i)
{
  /* (paused by the other stream's read in this same loop iteration?) */
  if (s->out_fd[i] >= 0 && !s->paused)
    (void)read_once(s, i);
  return G_SOURCE_CONTINUE;
}

static gboolean on_stdout(gpointer data, GIOCondition cond)
{
  return on_output(data, 0);
}

static gboolean on_stderr(gpointer data, GIOCondition cond)
{
  return on_output(data, 1);
}

void mon_stdio_read_stderr_now(MonStdio *s)
{
  while (s->out_fd[1] >= 0 && read_once(s, 1))
    ;
}

/* The watches go, not just their events: a pipe whose writers are gone
 * would still report POLLHUP. */
void mon_stdio_pause(MonStdio *s)
{
  s->paused = TRUE;
  for (int i = 0; i < 2; i++)
    mon_watch_destroy(&s->out_src[i]);
}

static gboolean drain_again(gpointer data);

void mon_stdio_resume(MonStdio *s)
{
  if (!s->paused)
    return;
  s->paused = FALSE;
  if (s->draining) {
    /* From the loop, not from here: the caller may be in the middle of
     * sending to clients. */
    if (s->drain_idle == 0)
      s->drain_idle = g_idle_add(drain_again, s);
  } else {
    mon_stdio_start(s);
  }
}

/* Reads until the pipes / pty are empty, the owner pauses (then
 * mon_stdio_resume() goes on), or the reading time is used up. */
static void drain_step(MonStdio *s)
{
  gint64 start = g_get_monotonic_time();
  gint64 deadline = start + s->drain_budget;
  for (int i = 0; i < 2; i++) {
    while (s->out_fd[i] >= 0 && !s->paused && g_get_monotonic_time() < deadline) {
      if (!read_once(s, i))
        break;
    }
  }
  s->drain_budget -= g_get_monotonic_time() - start;
  if (s->paused)
    return;
  s->draining = FALSE;
  s->ev.on_drained(s->user_data); /* last: the owner may close us */
}

static gboolean drain_again(gpointer data)
{
  MonStdio *s = data;
  s->drain_idle = 0;
  if (s->draining && !s->paused)
    drain_step(s);
  return G_SOURCE_REMOVE;
}

/* At most MON_DRAIN_TIMEOUT_MS of reading, in case something outside the
 * container keeps writing. */
void mon_stdio_drain(MonStdio *s)
{
  g_clear_handle_id(&s->pty_retry_timer, g_source_remove);
  for (int i = 0; i < 2; i++)
    mon_watch_destroy(&s->out_src[i]);
  s->draining = TRUE;
  s->drain_budget = MON_DRAIN_TIMEOUT_MS * 1000;
  if (!s->paused)
    drain_step(s);
}

/* ---- stdin ---- */

static void stdin_gone(MonStdio *s)
{
  mon_watch_destroy(&s->stdin_src);
  mon_queue_clear(&s->stdin_q);
  mon_close(&s->stdin_fd);
  s->stdin_done = TRUE;
  s->stdin_close_pending = FALSE;
  s->ev.on_stdin_room(s->user_data);
}

/* Writes queued stdin until the fd would block.  FALSE: stdin is gone. */
static gboolean stdin_flush(MonStdio *s)
{
  const uint8_t *data;
  size_t len;
  while (s->stdin_fd >= 0 && mon_queue_peek(&s->stdin_q, NULL, &data, &len)) {
    ssize_t n = write(s->stdin_fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      break;
    if (n <= 0) { /* EPIPE: the container closed its stdin */
      stdin_gone(s);
      return FALSE;
    }
    mon_queue_consume(&s->stdin_q, (size_t)n);
  }
  if (mon_queue_is_empty(&s->stdin_q) && s->stdin_close_pending && !s->terminal) {
    stdin_gone(s);
    return FALSE;
  }
  if (mon_queue_bytes(&s->stdin_q) < MON_STDIN_QUEUE_MAX / 2)
    s->ev.on_stdin_room(s->user_data);
  return TRUE;
}

static gboolean on_stdin_writable(gpointer data, GIOCondition cond)
{
  MonStdio *s = data;
  if (stdin_flush(s))
    stdin_arm(s);
  return G_SOURCE_CONTINUE;
}

/* The G_IO_OUT watch exists only while there is something to write: an idle
 * watch on a pty master would spin on POLLHUP. */
static void stdin_arm(MonStdio *s)
{
  gboolean want = s->stdin_fd >= 0 && !mon_queue_is_empty(&s->stdin_q);
  if (want && s->stdin_src == NULL)
    s->stdin_src = mon_watch_new(s->stdin_fd, G_IO_OUT, on_stdin_writable, s);
  else if (!want)
    mon_watch_destroy(&s->stdin_src);
}

gboolean mon_stdio_stdin_push(MonStdio *s, const guint8 *data, size_t len)
{
  gboolean waiting_for_pty = s->terminal && s->pty_fd < 0;
  note_activity(s);
  if (s->stdin_done || s->stdin_close_pending || s->pty_eof_pending ||
      (s->stdin_fd < 0 && !waiting_for_pty))
    return TRUE; /* dropped: nobody reads it */
  if (s->stdin_fd >= 0 && mon_queue_is_empty(&s->stdin_q)) {
    ssize_t n = write(s->stdin_fd, data, len);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      stdin_gone(s);
      return TRUE;
    }
    if (n > 0) {
      data += n;
      len -= (size_t)n;
    }
  }
  if (len > 0 && !mon_queue_push(&s->stdin_q, 0, data, len))
    mon_note(s->notes, "stdin queue full, %zu bytes dropped", len);
  stdin_arm(s);
  return mon_queue_bytes(&s->stdin_q) < MON_STDIN_QUEUE_MAX;
}

/* Terminal: VEOF (usually ^D) ends input for a reader in canonical mode;
 * the pty itself stays open since it is also the container's output. */
void mon_stdio_close_stdin(MonStdio *s)
{
  if (!s->terminal) {
    if (s->stdin_fd < 0)
      return;
    s->stdin_close_pending = TRUE;
    if (stdin_flush(s))
      stdin_arm(s);
    return;
  }
  if (s->pty_fd < 0) {
    s->pty_eof_pending = TRUE; /* applied when the terminal arrives */
    return;
  }
  s->pty_eof_pending = FALSE;
  struct termios tio;
  guint8 eof = 4;
  if (tcgetattr(s->pty_fd, &tio) == 0 && tio.c_cc[VEOF] != _POSIX_VDISABLE)
    eof = tio.c_cc[VEOF];
  (void)mon_stdio_stdin_push(s, &eof, 1);
}

void mon_stdio_resize(MonStdio *s, guint16 rows, guint16 cols)
{
  struct winsize now;
  s->winsize.ws_row = rows;
  s->winsize.ws_col = cols;
  s->have_winsize = TRUE;
  if (s->pty_fd < 0)
    return;
  /* The same size again is a client attaching (or re-attaching after the
   * detach keys): the kernel signals nobody when nothing changed, so the
   * screen stays blank until a key is pressed.  Tell the foreground
   * process group as a resize would, and it redraws (podman nudges the
   * size for the same reason). */
  if (ioctl(s->pty_fd, TIOCGWINSZ, &now) == 0 && now.ws_row == rows && now.ws_col == cols) {
    pid_t fg = tcgetpgrp(s->pty_fd);
    if (fg > 0)
      (void)kill(-fg, SIGWINCH);
    return;
  }
  if (ioctl(s->pty_fd, TIOCSWINSZ, &s->winsize) < 0)
    mon_note(s->notes, "resize terminal: %s", g_strerror(errno));
}

void mon_stdio_set_pty(MonStdio *s, int master)
{
  s->pty_fd = master;
  s->out_fd[0] = fcntl(master, F_DUPFD_CLOEXEC, 3);
  s->stdin_fd = fcntl(master, F_DUPFD_CLOEXEC, 3);
  if (s->out_fd[0] >= 0)
    (void)mon_set_nonblock(s->out_fd[0], NULL);
  if (s->stdin_fd >= 0)
    (void)mon_set_nonblock(s->stdin_fd, NULL);
  if (s->have_winsize && ioctl(master, TIOCSWINSZ, &s->winsize) < 0)
    mon_note(s->notes, "resize terminal: %s", g_strerror(errno));
  mon_stdio_start(s);
  if (s->pty_eof_pending) /* CLOSE_STDIN came before the terminal */
    mon_stdio_close_stdin(s);
  stdin_arm(s);
}

void mon_stdio_close(MonStdio *s)
{
  for (int i = 0; i < 2; i++)
    close_output(s, i);
  mon_watch_destroy(&s->stdin_src);
  mon_queue_clear(&s->stdin_q);
  mon_close(&s->stdin_fd);
  mon_close(&s->pty_fd);
  s->stdin_done = TRUE;
  g_clear_handle_id(&s->pty_retry_timer, g_source_remove);
  g_clear_handle_id(&s->drain_idle, g_source_remove);
  s->draining = FALSE;
}
