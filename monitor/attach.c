/* SPDX-License-Identifier: Apache-2.0 */
/* The attach socket (attach.h). */
#include "attach.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "errors.h"
#include "files.h"
#include "queue.h"
#include "watch.h"

#define FRAMES_PER_DISPATCH 32

/* Output pauses at HIGH; one more broadcast (cut into frames) and HELLO /
 * EXIT must still fit under the hard bound. */
G_STATIC_ASSERT(MON_CLIENT_QUEUE_LOW < MON_CLIENT_QUEUE_HIGH);
G_STATIC_ASSERT(MON_CLIENT_QUEUE_MAX >= MON_CLIENT_QUEUE_HIGH + MON_ATTACH_BROADCAST_MAX +
                                            (MON_ATTACH_BROADCAST_MAX / PROTO_MAX_PAYLOAD + 3) *
                                                (MON_QUEUE_RECORD_OVERHEAD + 8));

typedef struct MonClient MonClient;

struct MonAttach {
  gboolean terminal;
  MonNotes *notes;
  MonAttachEvents ev;
  gpointer user_data;

  int dirfd; /* borrowed: the state dir */
  int listen_fd;
  GSource *listen_src;
  GPtrArray *clients;
  guint8 *rbuf;    /* PROTO_MAX_FRAME + 1: one received frame */
  gboolean paused; /* we asked the owner to stop reading output */
  guint stall_timer;
  guint stall_ms;
  gboolean stdin_blocked; /* on_stdin said no more: clients are not read */
  gboolean exit_announced, exit_known;
  int exit_status, exit_signal;
};

struct MonClient {
  MonAttach *a;
  int fd;
  GSource *src; /* NULL while paused after the peer hung up */
  MonQueue q;
  gboolean done;   /* EXIT (or the end) queued: close once the queue is sent */
  gboolean paused; /* not reading: stdin is blocked */
  gboolean peer_gone;
  gboolean held;        /* HOLD: output waits for it however long (never dropped) */
  gint64 waiting_since; /* its queue's front has waited since (monotonic µs) */
  /* The client's own stdout and stderr (the foreground `oci run`), written
   * directly instead of STDOUT / STDERR frames; -1: frames.  A stream
   * whose fd failed (its reader gone) is dropped, as the client would. */
  int out_fd[2];
  gboolean out_gone[2];
  GSource *out_src; /* G_IO_OUT on the fd the queue's front waits for */
  int out_src_fd;
};

static gboolean on_client(gpointer data, GIOCondition cond);
static void output_maybe_resume(MonAttach *a);

static void client_free(MonClient *c)
{
  mon_watch_destroy(&c->src);
  mon_watch_destroy(&c->out_src);
  mon_close(&c->fd);
  mon_close(&c->out_fd[0]);
  mon_close(&c->out_fd[1]);
  mon_queue_clear(&c->q);
  g_free(c);
}

MonAttach *mon_attach_new(gboolean terminal, MonNotes *notes, const MonAttachEvents *events,
                          gpointer user_data)
{
  MonAttach *a = g_new0(MonAttach, 1);
  a->terminal = terminal;
  a->notes = notes;
  a->ev = *events;
  a->user_data = user_data;
  a->dirfd = a->listen_fd = -1;
  a->stall_ms = MON_CLIENT_STALL_MS;
  a->clients = g_ptr_array_new_with_free_func((GDestroyNotify)client_free);
  return a;
}

void mon_attach_free(MonAttach *a)
{
  if (a == NULL)
    return;
  mon_attach_close_all(a);
  mon_attach_unlink(a);
  g_clear_handle_id(&a->stall_timer, g_source_remove);
  g_ptr_array_unref(a->clients);
  g_free(a->rbuf);
  g_free(a);
}

static guint8 *recv_buf(MonAttach *a)
{
  if (a->rbuf == NULL)
    a->rbuf = g_malloc(PROTO_MAX_FRAME + 1);
  return a->rbuf;
}

void mon_attach_trim(MonAttach *a)
{
  g_clear_pointer(&a->rbuf, g_free);
  for (guint i = 0; i < a->clients->len; i++)
    mon_queue_trim(&((MonClient *)g_ptr_array_index(a->clients, i))->q);
}

/* Frames the client sent that nobody will read: closing a socket with
 * unread data makes the peer's next recv() fail with ECONNRESET before it
 * sees what we sent last (the EXIT frame). */
static void discard_input(MonClient *c)
{
  guint8 *buf = recv_buf(c->a);
  for (int i = 0; i < 4096; i++) {
    ssize_t n = recv(c->fd, buf, PROTO_MAX_FRAME + 1, MSG_DONTWAIT | MSG_TRUNC);
    if (n <= 0 && !(n < 0 && errno == EINTR))
      break;
  }
}

static void client_drop(MonClient *c, const char *why)
{
  MonAttach *a = c->a;
  if (why)
    mon_note(a->notes, "attach client dropped: %s", why);
  else
    discard_input(c);
  g_ptr_array_remove_fast(a->clients, c); /* frees it */
  if (a->paused)
    output_maybe_resume(a);
  if (a->clients->len == 0 && a->ev.on_idle)
    a->ev.on_idle(a->user_data);
}

/* ---- backpressure ---- */

/* Does C keep the container's output from being read?  (A client that hung
 * up while we did not read from it gets nothing more sent.) */
static gboolean holds_output(const MonClient *c)
{
  return !c->peer_gone && mon_queue_bytes(&c->q) >= MON_CLIENT_QUEUE_LOW;
}

/* After the end: is C kept until it hangs up?  A held client is the
 * foreground `oci run`, or one that asked to be waited for: once it has
 * EXIT it is let go when it hangs up, not at once, so that nothing is
 * removed before it has done what it does before it reads (`oci run`
 * writes state.json after the create; a container as quick as /bin/true
 * can end before that).  Without a status there is no EXIT, and only EOF
 * tells it the end: it goes once its output is out. */
static gboolean waits_for_hangup(const MonClient *c)
{
  return c->held && c->a->exit_known;
}

/* Does C hold the output back, and would the stall rule drop it?  A held
 * client (the foreground `oci run`) is waited for as a pipe is. */
static gboolean may_be_dropped(const MonClient *c)
{
  return holds_output(c) && !c->held;
}

static gboolean on_stall_check(gpointer data);

/* While paused: a timer for the moment the longest-waiting client that
 * holds the output (and is not held) has taken nothing for the stall time. */
static void stall_timer_arm(MonAttach *a)
{
  gint64 first = G_MAXINT64;
  for (guint i = 0; i < a->clients->len; i++) {
    MonClient *c = g_ptr_array_index(a->clients, i);
    if (may_be_dropped(c))
      first = MIN(first, c->waiting_since);
  }
  g_clear_handle_id(&a->stall_timer, g_source_remove);
  if (first == G_MAXINT64) {
    output_maybe_resume(a); /* (stays paused while a held client is behind) */
    return;
  }
  gint64 due_us = first + a->stall_ms * G_GINT64_CONSTANT(1000) - g_get_monotonic_time();
  guint due_ms = due_us > 0 ? (guint)((due_us + 999) / 1000) : 0;
  a->stall_timer = g_timeout_add(due_ms, on_stall_check, a);
}

static gboolean on_stall_check(gpointer data)
{
  MonAttach *a = data;
  gint64 now = g_get_monotonic_time();
  g_autofree char *why =
      g_strdup_printf("it took no output for %u ms while output waited for it", a->stall_ms);
  a->stall_timer = 0;
  /* Downwards: a drop moves the last client into slot I (and resuming
   * output, which a drop can do, drops nobody). */
  for (guint i = a->clients->len; i-- > 0;) {
    MonClient *c = g_ptr_array_index(a->clients, i);
    if (a->paused && may_be_dropped(c) &&
        now - c->waiting_since >= a->stall_ms * G_GINT64_CONSTANT(1000))
      client_drop(c, why);
  }
  if (a->paused)
    stall_timer_arm(a);
  return G_SOURCE_REMOVE;
}

static void output_pause(MonAttach *a)
{
  if (a->paused)
    return;
  a->paused = TRUE;
  a->ev.on_backpressure(TRUE, a->user_data);
  stall_timer_arm(a);
}

static void output_maybe_resume(MonAttach *a)
{
  for (guint i = 0; i < a->clients->len; i++) {
    if (holds_output(g_ptr_array_index(a->clients, i)))
      return;
  }
  g_clear_handle_id(&a->stall_timer, g_source_remove);
  if (!a->paused)
    return;
  a->paused = FALSE;
  a->ev.on_backpressure(FALSE, a->user_data);
}

/* ---- sending ---- */

/* Output of TYPE goes to this fd of the client's, or -1: in frames. */
static int direct_fd(const MonClient *c, uint8_t type)
{
  if (type == PROTO_STDOUT)
    return c->out_fd[0];
  if (type == PROTO_STDERR)
    return c->out_fd[1];
  return -1;
}

static int direct_index(uint8_t type)
{
  return type == PROTO_STDOUT ? 0 : 1;
}

/* The fd the queue's front waits for: one of the client's own, or -1 for
 * the socket (or nothing queued). */
static int front_direct_fd(const MonClient *c)
{
  uint8_t type;
  const uint8_t *data;
  size_t len;
  if (!mon_queue_peek(&c->q, &type, &data, &len))
    return -1;
  return direct_fd(c, type);
}

static gboolean on_client_out(gpointer data, GIOCondition cond);

static void client_update(MonClient *c)
{
  GIOCondition cond = c->paused ? 0 : G_IO_IN;
  int out = front_direct_fd(c);
  /* the direct fd's watch lives only while needed: a pipe whose reader
   * went away polls as an error all the time */
  if (out != c->out_src_fd)
    mon_watch_destroy(&c->out_src);
  if (out >= 0 && c->out_src == NULL) {
    c->out_src = mon_watch_new(out, G_IO_OUT, on_client_out, c);
    c->out_src_fd = out;
  } else if (out < 0) {
    c->out_src_fd = -1;
  }
  if (!mon_queue_is_empty(&c->q) && out < 0)
    cond |= G_IO_OUT;
  if (c->src == NULL && !(c->paused && c->peer_gone))
    c->src = mon_watch_new(c->fd, cond, on_client, c);
  else
    mon_watch_set(c->src, cond);
}

/* Writes output to the client's own fd without blocking: what was
 * written, 0 when the fd is full, or the length when the stream is gone
 * (its reader went away: the rest of it is dropped, the log has it). */
static size_t direct_write(MonClient *c, uint8_t type, const uint8_t *data, size_t len)
{
  int i = direct_index(type);
  if (c->out_gone[i])
    return len;
  ssize_t n;
  do
    n = write(c->out_fd[i], data, len);
  while (n < 0 && errno == EINTR);
  if (n >= 0)
    return (size_t)n;
  if (errno == EAGAIN)
    return 0;
  if (errno != EPIPE)
    mon_note(c->a->notes, "attach client's %s: %s; no more output there",
             i == 0 ? "stdout" : "stderr", g_strerror(errno));
  c->out_gone[i] = TRUE;
  return len;
}

/* Sends queued frames (and writes queued output to the client's own fds)
 * until the socket or fd is full.  FALSE: C was freed. */
static gboolean client_flush(MonClient *c)
{
  MonAttach *a = c->a;
  const uint8_t *frame;
  size_t len;
  size_t before = mon_queue_bytes(&c->q);
  for (;;) {
    uint8_t type;
    const uint8_t *data;
    if (!mon_queue_peek(&c->q, &type, &data, &len))
      break;
    if (direct_fd(c, type) >= 0) {
      size_t n = direct_write(c, type, data, len);
      if (n == 0)
        break;
      mon_queue_consume(&c->q, n);
      continue;
    }
    if (!mon_queue_peek_frame(&c->q, &frame, &len))
      break; /* cannot happen: socket frames are never consumed in part */
    ssize_t n = send(c->fd, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      break;
    if (n < 0) {
      client_drop(c, errno == EPIPE || errno == ECONNRESET ? NULL : g_strerror(errno));
      return FALSE;
    }
    mon_queue_pop(&c->q);
  }
  if (c->done && mon_queue_is_empty(&c->q) && !waits_for_hangup(c)) {
    client_drop(c, NULL);
    return FALSE;
  }
  if (mon_queue_bytes(&c->q) < before) { /* progress */
    c->waiting_since = g_get_monotonic_time();
    if (a->paused && mon_queue_bytes(&c->q) < MON_CLIENT_QUEUE_LOW)
      output_maybe_resume(a);
  }
  return TRUE;
}

/* Output for the client's own fd: written now if nothing waits before it,
 * the rest queued as one record. */
static gboolean client_send_direct(MonClient *c, uint8_t type, const guint8 *data, size_t len)
{
  if (mon_queue_is_empty(&c->q)) {
    size_t n = direct_write(c, type, data, len);
    data += n;
    len -= n;
    if (len == 0)
      return TRUE;
    c->waiting_since = g_get_monotonic_time();
  }
  if (!mon_queue_push(&c->q, type, data, len)) {
    client_drop(c, "its output queue is full"); /* cannot happen, as below */
    return FALSE;
  }
  return TRUE;
}

/* One frame, sent now if nothing waits before it, else queued.  FALSE: C
 * was dropped. */
static gboolean client_send(MonClient *c, uint8_t type, const void *data, size_t len)
{
  if (mon_queue_is_empty(&c->q)) {
    struct iovec iov[2] = {{.iov_base = &type, .iov_len = 1},
                           {.iov_base = (void *)data, .iov_len = len}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = len > 0 ? 2 : 1};
    ssize_t n;
    do
      n = sendmsg(c->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n >= 0)
      return TRUE;
    if (errno != EAGAIN) {
      client_drop(c, errno == EPIPE || errno == ECONNRESET ? NULL : g_strerror(errno));
      return FALSE;
    }
  }
  if (mon_queue_is_empty(&c->q))
    c->waiting_since = g_get_monotonic_time();
  if (!mon_queue_push(&c->q, type, data, len)) {
    /* Cannot happen: output pauses at MON_CLIENT_QUEUE_HIGH. */
    client_drop(c, "its output queue is full");
    return FALSE;
  }
  return TRUE;
}

void mon_attach_broadcast(MonAttach *a, enum proto_frame_type type, const guint8 *data, size_t len)
{
  gboolean behind = FALSE;
  g_return_if_fail(len <= MON_ATTACH_BROADCAST_MAX);
  for (guint i = a->clients->len; i-- > 0;) {
    MonClient *c = g_ptr_array_index(a->clients, i);
    if (c->peer_gone || c->done)
      continue;
    gboolean alive = TRUE;
    if (direct_fd(c, (uint8_t)type) >= 0)
      alive = client_send_direct(c, (uint8_t)type, data, len);
    else
      for (size_t off = 0; alive && off < len; off += PROTO_MAX_PAYLOAD)
        alive =
            client_send(c, (uint8_t)type, data + off, MIN(len - off, (size_t)PROTO_MAX_PAYLOAD));
    if (!alive)
      continue;
    client_update(c);
    if (mon_queue_bytes(&c->q) >= MON_CLIENT_QUEUE_HIGH)
      behind = TRUE;
  }
  if (behind)
    output_pause(a);
}

/* Queues the end for C (EXIT when the status is known).  FALSE: C was
 * freed. */
static gboolean client_end(MonClient *c)
{
  MonAttach *a = c->a;
  uint8_t buf[16];
  size_t n = proto_encode_exit(buf, a->exit_status, a->exit_signal);
  if (a->exit_known && !c->peer_gone && !client_send(c, buf[0], buf + 1, n - 1))
    return FALSE;
  c->done = TRUE;
  if (c->peer_gone || (mon_queue_is_empty(&c->q) && !waits_for_hangup(c))) {
    client_drop(c, NULL);
    return FALSE;
  }
  client_update(c);
  return TRUE;
}

void mon_attach_send_exit(MonAttach *a, gboolean known, int status, int signal)
{
  a->exit_announced = TRUE;
  a->exit_known = known;
  a->exit_status = status;
  a->exit_signal = signal;
  for (guint i = a->clients->len; i-- > 0;) {
    MonClient *c = g_ptr_array_index(a->clients, i);
    if (!c->done)
      (void)client_end(c);
  }
}

/* ---- receiving ---- */

static gboolean handle_frame(MonClient *c, const guint8 *buf, size_t len)
{
  MonAttach *a = c->a;
  struct proto_frame f;
  if (proto_parse(buf, len, &f) < 0) {
    client_drop(c, "malformed frame");
    return FALSE;
  }
  switch (f.type) {
  case PROTO_STDIN:
    if (!a->ev.on_stdin(f.data, f.len, a->user_data))
      a->stdin_blocked = TRUE;
    return TRUE;
  case PROTO_RESIZE: a->ev.on_resize(f.rows, f.cols, a->user_data); return TRUE;
  case PROTO_CLOSE_STDIN: a->ev.on_close_stdin(a->user_data); return TRUE;
  case PROTO_DETACH: client_drop(c, NULL); return FALSE;
  case PROTO_HOLD:
    c->held = TRUE;
    if (a->paused)
      stall_timer_arm(a);
    return TRUE;
  default: client_drop(c, "unexpected frame type"); return FALSE;
  }
}

/* Reads a bounded number of frames.  FALSE: C was freed. */
static gboolean client_read(MonClient *c)
{
  MonAttach *a = c->a;
  for (int i = 0; i < FRAMES_PER_DISPATCH; i++) {
    if (a->stdin_blocked) {
      c->paused = TRUE; /* resumed by mon_attach_resume_readers() */
      return TRUE;
    }
    guint8 *buf = recv_buf(a);
    ssize_t n = recv(c->fd, buf, PROTO_MAX_FRAME + 1, MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return TRUE;
    if (n <= 0) { /* hung up */
      client_drop(c, n < 0 && errno != ECONNRESET ? g_strerror(errno) : NULL);
      return FALSE;
    }
    if ((size_t)n > PROTO_MAX_FRAME) {
      client_drop(c, "frame too long");
      return FALSE;
    }
    if (!handle_frame(c, buf, (size_t)n))
      return FALSE;
  }
  return TRUE;
}

static gboolean on_client_out(gpointer data, GIOCondition cond)
{
  MonClient *c = data;
  if (client_flush(c))
    client_update(c);
  return G_SOURCE_CONTINUE;
}

static gboolean on_client(gpointer data, GIOCondition cond)
{
  MonClient *c = data;
  if ((cond & G_IO_OUT) && !client_flush(c))
    return G_SOURCE_CONTINUE;
  if (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR)) {
    if (c->paused) {
      /* Hung up while we do not read: keep its frames for later, stop
       * polling (POLLHUP would spin). */
      c->peer_gone = TRUE;
      mon_watch_destroy(&c->src);
      return G_SOURCE_CONTINUE;
    }
    if (!client_read(c))
      return G_SOURCE_CONTINUE;
  }
  client_update(c);
  return G_SOURCE_CONTINUE;
}

void mon_attach_resume_readers(MonAttach *a)
{
  a->stdin_blocked = FALSE;
  for (guint i = a->clients->len; i-- > 0;) {
    MonClient *c = g_ptr_array_index(a->clients, i);
    if (!c->paused)
      continue;
    c->paused = FALSE;
    client_update(c);
  }
}

/* ---- connections ---- */

static void add_client(MonAttach *a, int fd, gboolean held, const int out_fds[2])
{
  MonClient *c = g_new0(MonClient, 1);
  c->a = a;
  c->fd = fd;
  c->held = held;
  c->out_fd[0] = out_fds ? out_fds[0] : -1;
  c->out_fd[1] = out_fds ? out_fds[1] : -1;
  c->out_src_fd = -1;
  mon_queue_init(&c->q, MON_CLIENT_QUEUE_MAX);
  if (c->out_fd[0] >= 0 || c->out_fd[1] >= 0)
    mon_queue_set_keep(&c->q, TRUE); /* a pipe's writer: fills and drains all the time */
  g_ptr_array_add(a->clients, c);
  uint8_t buf[16];
  size_t n = proto_encode_hello(buf, a->terminal, a->ev.state(a->user_data));
  if (!client_send(c, buf[0], buf + 1, n - 1))
    return;
  if (a->exit_announced) { /* (before that it gets the rest of the drain) */
    (void)client_end(c);
    return;
  }
  client_update(c);
}

void mon_attach_add_client(MonAttach *a, int fd)
{
  add_client(a, fd, FALSE, NULL);
}

void mon_attach_add_held_client(MonAttach *a, int fd, const int out_fds[2])
{
  add_client(a, fd, TRUE, out_fds);
}

static gboolean on_accept(gpointer data, GIOCondition cond)
{
  MonAttach *a = data;
  for (int i = 0; i < 16; i++) {
    int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
      break;
    if (a->clients->len >= MON_MAX_CLIENTS) {
      close(fd);
      continue;
    }
    mon_attach_add_client(a, fd);
  }
  return G_SOURCE_CONTINUE;
}

gboolean mon_attach_listen(MonAttach *a, int dirfd, const char *shown_dir, GError **error)
{
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  /* Through the dir fd: the state dir path may be longer than sun_path. */
  snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/attach", dirfd);
  a->dirfd = dirfd;
  a->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (a->listen_fd < 0)
    return mon_set_error_errno(error, errno, "attach socket '%s/attach'", shown_dir);
  /* Mode 0600 from the umask: no window with a wider mode, no chmod. */
  mode_t old = umask(0177);
  int r = bind(a->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
  if (r < 0 && errno == EADDRINUSE) { /* a stale socket from an earlier monitor */
    unlinkat(dirfd, "attach", 0);
    r = bind(a->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
  }
  umask(old);
  if (r < 0 || listen(a->listen_fd, 16) < 0)
    return mon_set_error_errno(error, errno, "attach socket '%s/attach'", shown_dir);
  a->listen_src = mon_watch_new(a->listen_fd, G_IO_IN, on_accept, a);
  return TRUE;
}

void mon_attach_close_all(MonAttach *a)
{
  g_ptr_array_set_size(a->clients, 0);
}

guint mon_attach_close_unheld(MonAttach *a)
{
  guint closed = 0;
  for (guint i = a->clients->len; i-- > 0;) {
    if (((MonClient *)g_ptr_array_index(a->clients, i))->held)
      continue;
    g_ptr_array_remove_index_fast(a->clients, i);
    closed++;
  }
  return closed;
}

void mon_attach_unlink(MonAttach *a)
{
  if (a->listen_fd < 0)
    return;
  mon_watch_destroy(&a->listen_src);
  mon_close(&a->listen_fd);
  unlinkat(a->dirfd, "attach", 0);
}

guint mon_attach_n_clients(const MonAttach *a)
{
  return a->clients->len;
}

void mon_attach_set_stall_ms(MonAttach *a, guint ms)
{
  a->stall_ms = ms;
}

size_t mon_attach_max_queued(const MonAttach *a)
{
  size_t max = 0;
  for (guint i = 0; i < a->clients->len; i++)
    max = MAX(max, mon_queue_bytes(&((const MonClient *)g_ptr_array_index(a->clients, i))->q));
  return max;
}
