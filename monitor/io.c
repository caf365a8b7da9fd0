/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container's stdio: output pipes (or the pty master) read in big chunks
 * into the log and to attach clients; stdin written without ever blocking
 * (a queue plus a G_IO_OUT watch while it has data).  Reading output pauses
 * while an attach client is behind (attach-server.c decides): the
 * container then waits on its full pipe, and nothing read is ever dropped.
 */
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define RT_MSG_MAX (64u * 1024)
#define TRIM_INTERVAL_MS 2000
#define PTY_RETRY_MS 100

static gboolean on_output(MonState *m, int i, GIOCondition cond);
static gboolean on_stdout(gpointer data, GIOCondition cond)
{
  return on_output(data, 0, cond);
}
static gboolean on_stderr(gpointer data, GIOCondition cond)
{
  return on_output(data, 1, cond);
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

static gboolean alloc_rbuf(MonState *m, GError **error)
{
  /* mmap: no resident memory until output arrives, and it can be given back
   * (MADV_DONTNEED) when the container is quiet. */
  void *p =
      mmap(NULL, MON_READ_BUF_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    mon_set_error_errno(error, errno, "mmap");
    return FALSE;
  }
  m->rbuf = p;
  return TRUE;
}

/* Our ends are nonblocking; the child's ends go to the runtime as 0, 1, 2
 * (-1: /dev/null).  Terminal mode: only a pipe for the runtime's stderr. */
gboolean mon_io_setup_pipes(MonState *m, int child[3], GError **error)
{
  int p[2];
  child[0] = child[1] = child[2] = -1;
  if (!alloc_rbuf(m, error))
    return FALSE;
  if (m->terminal) {
    if (!pipe_pair(p, error))
      return FALSE;
    m->rt_err_fd = p[0];
    child[2] = p[1];
    return mon_set_nonblock(m->rt_err_fd, error);
  }
  if (!pipe_pair(p, error))
    return FALSE;
  m->stdin_fd = p[1];
  child[0] = p[0];
  for (int i = 0; i < 2; i++) {
    if (!pipe_pair(p, error))
      return FALSE;
    m->out_fd[i] = p[0];
    child[i + 1] = p[1];
    grow_pipe(p[0]);
  }
  for (int i = 0; i < 3; i++)
    (void)fchmod(child[i], 0777); /* a non-root container user may reopen /proc/self/fd/N */
  return mon_set_nonblock(m->stdin_fd, error) && mon_set_nonblock(m->out_fd[0], error) &&
         mon_set_nonblock(m->out_fd[1], error);
}

static void stdin_arm(MonState *m);

void mon_io_set_pty(MonState *m, int master)
{
  m->pty_fd = master;
  m->out_fd[0] = fcntl(master, F_DUPFD_CLOEXEC, 3);
  m->stdin_fd = fcntl(master, F_DUPFD_CLOEXEC, 3);
  if (m->out_fd[0] >= 0)
    (void)mon_set_nonblock(m->out_fd[0], NULL);
  if (m->stdin_fd >= 0)
    (void)mon_set_nonblock(m->stdin_fd, NULL);
  if (m->have_winsize && ioctl(master, TIOCSWINSZ, &m->winsize) < 0)
    mon_note(m->notes, "resize terminal: %s", g_strerror(errno));
  mon_io_watch(m);
  if (m->pty_eof_pending) /* CLOSE_STDIN came before the terminal */
    mon_io_close_stdin(m);
  stdin_arm(m);
}

void mon_io_watch(MonState *m)
{
  MonWatchFunc funcs[2] = {on_stdout, on_stderr};
  if (m->output_paused || m->draining)
    return; /* mon_io_resume_output() / the drain read instead */
  for (int i = 0; i < 2; i++)
    if (m->out_fd[i] >= 0 && m->out_src[i] == NULL)
      m->out_src[i] = mon_watch_new(m->out_fd[i], G_IO_IN, funcs[i], m);
}

/* ---- output ---- */

static gboolean on_trim(gpointer data)
{
  MonState *m = data;
  if (m->io_active) {
    m->io_active = FALSE;
    return G_SOURCE_CONTINUE;
  }
  /* Quiet for a while: give the buffers back. */
  if (m->rbuf)
    (void)madvise(m->rbuf, MON_READ_BUF_SIZE, MADV_DONTNEED);
  if (m->log)
    mon_log_trim(m->log);
  malloc_trim(0);
  if (m->phase == MON_PHASE_RUNNING)
    mon_trim_mappings();
  m->trim_timer = 0;
  return G_SOURCE_REMOVE;
}

void mon_io_note_activity(MonState *m)
{
  m->io_active = TRUE;
  if (m->trim_timer == 0)
    m->trim_timer = g_timeout_add(TRIM_INTERVAL_MS, on_trim, m);
}

static void keep_runtime_message(MonState *m, const guint8 *data, size_t len)
{
  if (m->rt_msg == NULL)
    m->rt_msg = g_string_new(NULL);
  g_string_append_len(m->rt_msg, (const char *)data, (gssize)len);
  if (m->rt_msg->len > RT_MSG_MAX) /* keep the end: the error is last */
    g_string_erase(m->rt_msg, 0, (gssize)(m->rt_msg->len - RT_MSG_MAX));
}

static void handle_output(MonState *m, int i, const guint8 *data, size_t len)
{
  if (i == 1 && m->phase == MON_PHASE_CREATING) {
    /* Before the container can run, stderr carries the runtime's own words. */
    keep_runtime_message(m, data, len);
    return;
  }
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  mon_log_write(m->log, i == 0 ? MON_STREAM_STDOUT : MON_STREAM_STDERR, &ts, data, len);
  mon_attach_broadcast(m, i == 0 ? PROTO_STDOUT : PROTO_STDERR, data, len);
}

static void close_output(MonState *m, int i)
{
  mon_watch_destroy(&m->out_src[i]);
  mon_close(&m->out_fd[i]);
}

static gboolean pty_retry(gpointer data)
{
  MonState *m = data;
  m->pty_retry_timer = 0;
  if (m->phase < MON_PHASE_EXITING)
    mon_io_watch(m);
  return G_SOURCE_REMOVE;
}

/* One read.  Returns FALSE when there is nothing more to read now. */
static gboolean read_once(MonState *m, int i)
{
  ssize_t n = read(m->out_fd[i], m->rbuf, MON_READ_BUF_SIZE);
  if (n > 0) {
    mon_io_note_activity(m);
    handle_output(m, i, m->rbuf, (size_t)n);
    return TRUE;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return FALSE;
  if (n < 0 && errno == EIO && m->terminal && i == 0) {
    /* No slave open right now (the container closed its terminal, or it
     * is gone).  Stop polling, which would spin on POLLHUP, and look again
     * a bit later; the final drain reads whatever is left. */
    mon_watch_destroy(&m->out_src[i]);
    if (m->pty_retry_timer == 0 && m->phase < MON_PHASE_EXITING)
      m->pty_retry_timer = g_timeout_add(PTY_RETRY_MS, pty_retry, m);
    return FALSE;
  }
  if (n < 0)
    mon_note(m->notes, "read container %s: %s", i == 0 ? "stdout" : "stderr", g_strerror(errno));
  close_output(m, i); /* EOF: every writer is gone */
  return FALSE;
}

static gboolean on_output(MonState *m, int i, GIOCondition cond)
{
  /* (paused by the other stream's read in this same loop iteration?) */
  if (m->out_fd[i] >= 0 && !m->output_paused)
    (void)read_once(m, i);
  return G_SOURCE_CONTINUE;
}

/* A client is behind: stop polling the output.  The watches go, not just
 * their events: a pipe whose writers are gone would still report POLLHUP. */
void mon_io_pause_output(MonState *m)
{
  m->output_paused = TRUE;
  for (int i = 0; i < 2; i++)
    mon_watch_destroy(&m->out_src[i]);
}

static gboolean drain_again(gpointer data);

void mon_io_resume_output(MonState *m)
{
  if (!m->output_paused)
    return;
  m->output_paused = FALSE;
  if (m->draining) {
    /* From the loop, not from here: the caller may be in the middle of
     * sending to clients. */
    if (m->drain_idle == 0)
      m->drain_idle = g_idle_add(drain_again, m);
  } else {
    mon_io_watch(m);
  }
}

static gboolean on_runtime_stderr(gpointer data, GIOCondition cond)
{
  MonState *m = data;
  guint8 buf[4096];
  ssize_t n = read(m->rt_err_fd, buf, sizeof(buf));
  if (n > 0) {
    if (m->phase == MON_PHASE_CREATING)
      keep_runtime_message(m, buf, (size_t)n);
    else
      mon_note(m->notes, "runtime: %.*s", (int)n, (const char *)buf);
  } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
    mon_watch_destroy(&m->rt_err_src);
    mon_close(&m->rt_err_fd);
  }
  return G_SOURCE_CONTINUE;
}

void mon_io_watch_runtime_stderr(MonState *m)
{
  if (m->rt_err_fd >= 0 && m->rt_err_src == NULL)
    m->rt_err_src = mon_watch_new(m->rt_err_fd, G_IO_IN, on_runtime_stderr, m);
}

/* Everything the runtime wrote before it exited. */
void mon_io_drain_runtime_stderr(MonState *m)
{
  int fd = m->terminal ? m->rt_err_fd : m->out_fd[1];
  guint8 buf[4096];
  ssize_t n;
  if (fd < 0)
    return;
  while ((n = read(fd, buf, sizeof(buf))) > 0)
    keep_runtime_message(m, buf, (size_t)n);
}

/* Reads until the pipes / pty are empty, a client is behind (then
 * mon_io_resume_output() calls again), or the reading time is used up. */
static void drain_step(MonState *m)
{
  gint64 start = g_get_monotonic_time();
  gint64 deadline = start + m->drain_budget;
  for (int i = 0; i < 2; i++) {
    while (m->out_fd[i] >= 0 && !m->output_paused && g_get_monotonic_time() < deadline) {
      if (!read_once(m, i))
        break;
    }
  }
  m->drain_budget -= g_get_monotonic_time() - start;
  if (m->output_paused)
    return;
  m->draining = FALSE;
  mon_container_output_done(m);
}

static gboolean drain_again(gpointer data)
{
  MonState *m = data;
  m->drain_idle = 0;
  if (m->draining && !m->output_paused)
    drain_step(m);
  return G_SOURCE_REMOVE;
}

/* At container exit: whatever is still in the pipes / pty, then
 * mon_container_output_done() -- now, or once behind clients caught up
 * (or were dropped).  At most MON_DRAIN_TIMEOUT_MS of reading, in case
 * something outside the container keeps writing; time paused for clients
 * does not count. */
void mon_io_drain(MonState *m)
{
  g_clear_handle_id(&m->pty_retry_timer, g_source_remove);
  for (int i = 0; i < 2; i++)
    mon_watch_destroy(&m->out_src[i]);
  m->draining = TRUE;
  m->drain_budget = MON_DRAIN_TIMEOUT_MS * 1000;
  if (!m->output_paused)
    drain_step(m);
}

/* ---- stdin ---- */

static void stdin_gone(MonState *m)
{
  mon_watch_destroy(&m->stdin_src);
  mon_queue_clear(&m->stdin_q);
  mon_close(&m->stdin_fd);
  m->stdin_done = TRUE;
  m->stdin_close_pending = FALSE;
  mon_attach_resume_readers(m);
}

/* Writes queued stdin until the fd would block. */
static void stdin_flush(MonState *m)
{
  const uint8_t *data;
  size_t len;
  while (m->stdin_fd >= 0 && mon_queue_peek(&m->stdin_q, NULL, &data, &len)) {
    ssize_t n = write(m->stdin_fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      break;
    if (n <= 0) { /* EPIPE: the container closed its stdin */
      stdin_gone(m);
      return;
    }
    mon_queue_consume(&m->stdin_q, (size_t)n);
  }
  if (mon_queue_is_empty(&m->stdin_q) && m->stdin_close_pending && !m->terminal) {
    stdin_gone(m);
    return;
  }
  if (mon_queue_bytes(&m->stdin_q) < MON_STDIN_QUEUE_MAX / 2)
    mon_attach_resume_readers(m);
}

static gboolean on_stdin_writable(gpointer data, GIOCondition cond)
{
  MonState *m = data;
  stdin_flush(m);
  stdin_arm(m);
  return G_SOURCE_CONTINUE;
}

/* The G_IO_OUT watch exists only while there is something to write: an idle
 * watch on a pty master would spin on POLLHUP. */
static void stdin_arm(MonState *m)
{
  gboolean want = m->stdin_fd >= 0 && !mon_queue_is_empty(&m->stdin_q);
  if (want && m->stdin_src == NULL)
    m->stdin_src = mon_watch_new(m->stdin_fd, G_IO_OUT, on_stdin_writable, m);
  else if (!want)
    mon_watch_destroy(&m->stdin_src);
}

gboolean mon_io_stdin_full(MonState *m)
{
  return mon_queue_bytes(&m->stdin_q) >= MON_STDIN_QUEUE_MAX;
}

void mon_io_stdin_push(MonState *m, const guint8 *data, size_t len)
{
  gboolean waiting_for_pty = m->terminal && m->pty_fd < 0 && m->phase == MON_PHASE_CREATING;
  if (m->stdin_done || m->stdin_close_pending || m->pty_eof_pending ||
      (m->stdin_fd < 0 && !waiting_for_pty))
    return;
  if (m->stdin_fd >= 0 && mon_queue_is_empty(&m->stdin_q)) {
    ssize_t n = write(m->stdin_fd, data, len);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      stdin_gone(m);
      return;
    }
    if (n > 0) {
      data += n;
      len -= (size_t)n;
    }
  }
  /* The queue's limit leaves room for one frame past MON_STDIN_QUEUE_MAX:
   * readers pause at the bound, so this push does not fail. */
  if (len > 0 && !mon_queue_push(&m->stdin_q, 0, data, len))
    mon_note(m->notes, "stdin queue full, %zu bytes dropped", len);
  stdin_arm(m);
}

/* Pipe: close after what is queued.  Terminal: type the EOF character
 * (VEOF, usually ^D), which ends input for a reader in canonical mode; the
 * pty itself stays open since it is also the container's output. */
void mon_io_close_stdin(MonState *m)
{
  if (!m->terminal) {
    if (m->stdin_fd < 0)
      return;
    m->stdin_close_pending = TRUE;
    stdin_flush(m);
    stdin_arm(m);
    return;
  }
  if (m->pty_fd < 0) {
    m->pty_eof_pending = TRUE; /* applied when the terminal arrives */
    return;
  }
  m->pty_eof_pending = FALSE;
  struct termios tio;
  guint8 eof = 4;
  if (tcgetattr(m->pty_fd, &tio) == 0 && tio.c_cc[VEOF] != _POSIX_VDISABLE)
    eof = tio.c_cc[VEOF];
  mon_io_stdin_push(m, &eof, 1);
}

void mon_io_resize(MonState *m, guint16 rows, guint16 cols)
{
  m->winsize.ws_row = rows;
  m->winsize.ws_col = cols;
  m->have_winsize = TRUE;
  if (m->pty_fd >= 0 && ioctl(m->pty_fd, TIOCSWINSZ, &m->winsize) < 0)
    mon_note(m->notes, "resize terminal: %s", g_strerror(errno));
}

void mon_io_close(MonState *m)
{
  for (int i = 0; i < 2; i++)
    close_output(m, i);
  mon_watch_destroy(&m->stdin_src);
  mon_queue_clear(&m->stdin_q);
  mon_close(&m->stdin_fd);
  mon_close(&m->pty_fd);
  m->stdin_done = TRUE;
  g_clear_handle_id(&m->pty_retry_timer, g_source_remove);
  g_clear_handle_id(&m->drain_idle, g_source_remove);
  m->draining = FALSE;
}
