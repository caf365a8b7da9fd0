/* SPDX-License-Identifier: Apache-2.0 */
/*
 * STATE/attach: any number of SOCK_SEQPACKET clients (proto.h).  Output is
 * sent without blocking; what a client cannot take yet waits in its own
 * queue.  Backpressure: when a queue reaches MON_CLIENT_QUEUE_HIGH the
 * monitor stops reading the container's output until every queue is below
 * MON_CLIENT_QUEUE_LOW, so a client that reads, however slowly, gets every
 * byte.  A client that takes nothing for MON_CLIENT_STALL_MS while output
 * waits for it is dropped: the container waits for readers, never for a
 * client that stopped.  The log is written as output is read, before any
 * client sees it.
 */
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define FRAMES_PER_DISPATCH 32

/* Output pauses at HIGH; one more read (cut into frames) and HELLO / EXIT
 * must still fit under the hard bound. */
G_STATIC_ASSERT(MON_CLIENT_QUEUE_LOW < MON_CLIENT_QUEUE_HIGH);
G_STATIC_ASSERT(MON_CLIENT_QUEUE_MAX >=
                MON_CLIENT_QUEUE_HIGH + MON_READ_BUF_SIZE +
                    (MON_READ_BUF_SIZE / PROTO_MAX_PAYLOAD + 3) * (MON_QUEUE_RECORD_OVERHEAD + 8));

struct MonClient {
  MonState *m;
  int fd;
  GSource *src; /* NULL while paused after the peer hung up */
  MonQueue q;
  gboolean done;   /* EXIT (or the end) queued: close once the queue is sent */
  gboolean paused; /* not reading: the stdin queue is full */
  gboolean peer_gone;
  gint64 waiting_since; /* its queue's front has waited since (monotonic µs) */
};

static gboolean on_client(gpointer data, GIOCondition cond);
static void output_maybe_resume(MonState *m);

static void client_free(MonClient *c)
{
  mon_watch_destroy(&c->src);
  mon_close(&c->fd);
  mon_queue_clear(&c->q);
  g_free(c);
}

/* Frames the client sent that nobody will read: closing a socket with
 * unread data makes the peer's next recv() fail with ECONNRESET before it
 * sees what we sent last (the EXIT frame). */
static void discard_input(MonClient *c)
{
  for (int i = 0; i < 4096; i++) {
    ssize_t n = recv(c->fd, c->m->rbuf, PROTO_MAX_FRAME + 1, MSG_DONTWAIT | MSG_TRUNC);
    if (n <= 0 && !(n < 0 && errno == EINTR))
      break;
  }
}

static void client_drop(MonClient *c, const char *why)
{
  MonState *m = c->m;
  if (why)
    mon_note(m->notes, "attach client dropped: %s", why);
  else
    discard_input(c);
  g_ptr_array_remove_fast(m->clients, c); /* frees it */
  if (m->output_paused)
    output_maybe_resume(m);
  if (m->phase == MON_PHASE_EXITING && m->clients->len == 0)
    mon_maybe_finish(m);
}

/* ---- backpressure ---- */

/* Does C keep the container's output from being read?  (A client that hung
 * up while we did not read from it gets nothing more sent.) */
static gboolean holds_output(const MonClient *c)
{
  return !c->peer_gone && mon_queue_bytes(&c->q) >= MON_CLIENT_QUEUE_LOW;
}

static gboolean on_stall_check(gpointer data);

/* While paused: a timer for the moment the longest-waiting client that
 * holds the output has taken nothing for MON_CLIENT_STALL_MS. */
static void stall_timer_arm(MonState *m)
{
  gint64 first = G_MAXINT64;
  for (guint i = 0; i < m->clients->len; i++) {
    MonClient *c = g_ptr_array_index(m->clients, i);
    if (holds_output(c))
      first = MIN(first, c->waiting_since);
  }
  g_clear_handle_id(&m->stall_timer, g_source_remove);
  if (first == G_MAXINT64) {
    output_maybe_resume(m);
    return;
  }
  gint64 due_us = first + MON_CLIENT_STALL_MS * G_GINT64_CONSTANT(1000) - g_get_monotonic_time();
  guint due_ms = due_us > 0 ? (guint)((due_us + 999) / 1000) : 0;
  m->stall_timer = g_timeout_add(due_ms, on_stall_check, m);
}

static const char stall_note[] =
    "it took no output for " G_STRINGIFY(MON_CLIENT_STALL_MS) " ms while output waited for it";

static gboolean on_stall_check(gpointer data)
{
  MonState *m = data;
  gint64 now = g_get_monotonic_time();
  m->stall_timer = 0;
  /* Downwards: a drop moves the last client into slot I (and resuming
   * output, which a drop can do, drops nobody). */
  for (guint i = m->clients->len; i-- > 0;) {
    MonClient *c = g_ptr_array_index(m->clients, i);
    if (m->output_paused && holds_output(c) &&
        now - c->waiting_since >= MON_CLIENT_STALL_MS * G_GINT64_CONSTANT(1000))
      client_drop(c, stall_note);
  }
  if (m->output_paused)
    stall_timer_arm(m);
  return G_SOURCE_REMOVE;
}

static void output_pause(MonState *m)
{
  if (m->output_paused)
    return;
  mon_io_pause_output(m);
  stall_timer_arm(m);
}

static void output_maybe_resume(MonState *m)
{
  for (guint i = 0; i < m->clients->len; i++) {
    if (holds_output(g_ptr_array_index(m->clients, i)))
      return;
  }
  g_clear_handle_id(&m->stall_timer, g_source_remove);
  mon_io_resume_output(m);
}

static void client_update(MonClient *c)
{
  GIOCondition cond = c->paused ? 0 : G_IO_IN;
  if (!mon_queue_is_empty(&c->q))
    cond |= G_IO_OUT;
  if (c->src == NULL && !(c->paused && c->peer_gone))
    c->src = mon_watch_new(c->fd, cond, on_client, c);
  else
    mon_watch_set(c->src, cond);
}

/* Sends queued frames until the socket is full.  FALSE: C was freed. */
static gboolean client_flush(MonClient *c)
{
  const uint8_t *frame;
  size_t len;
  size_t before = mon_queue_bytes(&c->q);
  while (mon_queue_peek_frame(&c->q, &frame, &len)) {
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
  if (c->done && mon_queue_is_empty(&c->q)) {
    client_drop(c, NULL);
    return FALSE;
  }
  if (mon_queue_bytes(&c->q) < before) { /* progress */
    c->waiting_since = g_get_monotonic_time();
    if (c->m->output_paused && mon_queue_bytes(&c->q) < MON_CLIENT_QUEUE_LOW)
      output_maybe_resume(c->m);
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

void mon_attach_broadcast(MonState *m, enum proto_frame_type type, const guint8 *data, size_t len)
{
  gboolean behind = FALSE;
  if (m->clients == NULL)
    return;
  for (guint i = m->clients->len; i-- > 0;) {
    MonClient *c = g_ptr_array_index(m->clients, i);
    if (c->peer_gone || c->done)
      continue;
    gboolean alive = TRUE;
    for (size_t off = 0; alive && off < len; off += PROTO_MAX_PAYLOAD)
      alive = client_send(c, (uint8_t)type, data + off, MIN(len - off, (size_t)PROTO_MAX_PAYLOAD));
    if (!alive)
      continue;
    client_update(c);
    if (mon_queue_bytes(&c->q) >= MON_CLIENT_QUEUE_HIGH)
      behind = TRUE;
  }
  if (behind)
    output_pause(m);
}

/* Ends every connection after what is queued: with EXIT when the status is
 * known, without it when it is not (the client then reads exit.json). */
void mon_attach_send_exit(MonState *m)
{
  uint8_t buf[16];
  size_t n = proto_encode_exit(buf, m->exit_status, m->exit_signal);
  for (guint i = m->clients->len; i-- > 0;) {
    MonClient *c = g_ptr_array_index(m->clients, i);
    if (c->done)
      continue;
    if (m->exit_known && !c->peer_gone && !client_send(c, buf[0], buf + 1, n - 1))
      continue;
    c->done = TRUE;
    if (mon_queue_is_empty(&c->q) || c->peer_gone)
      client_drop(c, NULL);
    else
      client_update(c);
  }
}

static gboolean handle_frame(MonClient *c, const guint8 *buf, size_t len)
{
  MonState *m = c->m;
  struct proto_frame f;
  if (proto_parse(buf, len, &f) < 0) {
    client_drop(c, "malformed frame");
    return FALSE;
  }
  switch (f.type) {
  case PROTO_STDIN: mon_io_stdin_push(m, f.data, f.len); return TRUE;
  case PROTO_RESIZE: mon_io_resize(m, f.rows, f.cols); return TRUE;
  case PROTO_CLOSE_STDIN: mon_io_close_stdin(m); return TRUE;
  case PROTO_DETACH: client_drop(c, NULL); return FALSE;
  default: client_drop(c, "unexpected frame type"); return FALSE;
  }
}

/* Reads a bounded number of frames.  FALSE: C was freed. */
static gboolean client_read(MonClient *c)
{
  MonState *m = c->m;
  for (int i = 0; i < FRAMES_PER_DISPATCH; i++) {
    if (mon_io_stdin_full(m)) {
      c->paused = TRUE; /* resumed by mon_attach_resume_readers() */
      return TRUE;
    }
    mon_io_note_activity(m);
    ssize_t n = recv(c->fd, m->rbuf, PROTO_MAX_FRAME + 1, MSG_DONTWAIT | MSG_TRUNC);
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
    if (!handle_frame(c, m->rbuf, (size_t)n))
      return FALSE;
  }
  return TRUE;
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

void mon_attach_resume_readers(MonState *m)
{
  if (m->clients == NULL || mon_io_stdin_full(m))
    return;
  for (guint i = m->clients->len; i-- > 0;) {
    MonClient *c = g_ptr_array_index(m->clients, i);
    if (!c->paused)
      continue;
    c->paused = FALSE;
    client_update(c);
  }
}

static void client_new(MonState *m, int fd)
{
  MonClient *c = g_new0(MonClient, 1);
  c->m = m;
  c->fd = fd;
  mon_queue_init(&c->q, MON_CLIENT_QUEUE_MAX);
  g_ptr_array_add(m->clients, c);
  uint8_t buf[16];
  size_t n = proto_encode_hello(buf, m->terminal, mon_proto_state(m));
  if (!client_send(c, buf[0], buf + 1, n - 1))
    return;
  if (m->exit_announced) { /* (before that it gets the rest of the drain) */
    uint8_t ebuf[16];
    size_t en = proto_encode_exit(ebuf, m->exit_status, m->exit_signal);
    if (m->exit_known && !client_send(c, ebuf[0], ebuf + 1, en - 1))
      return;
    c->done = TRUE;
    if (mon_queue_is_empty(&c->q)) {
      client_drop(c, NULL);
      return;
    }
  }
  client_update(c);
}

static gboolean on_accept(gpointer data, GIOCondition cond)
{
  MonState *m = data;
  for (int i = 0; i < 16; i++) {
    int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
      break;
    if (m->clients->len >= MON_MAX_CLIENTS || m->phase == MON_PHASE_DONE) {
      close(fd);
      continue;
    }
    client_new(m, fd);
  }
  return G_SOURCE_CONTINUE;
}

gboolean mon_attach_listen(MonState *m, GError **error)
{
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  /* Through the dir fd: the state dir path may be longer than sun_path. */
  snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/attach", m->state_dfd);
  m->clients = g_ptr_array_new_with_free_func((GDestroyNotify)client_free);
  m->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (m->listen_fd < 0)
    goto fail;
  /* Mode 0600 from the umask: no window with a wider mode, no chmod. */
  mode_t old = umask(0177);
  int r = bind(m->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
  if (r < 0 && errno == EADDRINUSE) { /* a stale socket from an earlier monitor */
    unlinkat(m->state_dfd, "attach", 0);
    r = bind(m->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
  }
  umask(old);
  if (r < 0 || listen(m->listen_fd, 16) < 0)
    goto fail;
  m->listen_src = mon_watch_new(m->listen_fd, G_IO_IN, on_accept, m);
  return TRUE;
fail:
  mon_set_error_errno(error, errno, "attach socket '%s/attach'", m->state_dir);
  return FALSE;
}

void mon_attach_close_all(MonState *m)
{
  if (m->clients)
    g_ptr_array_set_size(m->clients, 0);
}

void mon_attach_unlink(MonState *m)
{
  if (m->listen_fd < 0)
    return;
  mon_watch_destroy(&m->listen_src);
  mon_close(&m->listen_fd);
  unlinkat(m->state_dfd, "attach", 0);
}
