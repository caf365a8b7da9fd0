/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MonAttach without a runtime: clients are real SOCK_SEQPACKET sockets (a
 * socketpair handed in, or a connection to the listener in a temp dir), the
 * owner is this file's callbacks, and the default main context is driven
 * by hand.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "attach.h"
#include "spin.h"
#include "tap.h"

typedef struct {
  MonAttach *a;
  GString *in; /* STDIN received */
  gboolean stdin_ok;
  int rows, cols, close_stdin, idle;
  int pauses, resumes;
  size_t queued_at_pause, queued_at_resume;
  enum proto_state state;
} Owner;

static gboolean ev_stdin(const guint8 *data, size_t len, gpointer user)
{
  Owner *o = user;
  g_string_append_len(o->in, (const char *)data, (gssize)len);
  return o->stdin_ok;
}

static void ev_resize(guint16 rows, guint16 cols, gpointer user)
{
  Owner *o = user;
  o->rows = rows;
  o->cols = cols;
}

static void ev_close_stdin(gpointer user)
{
  ((Owner *)user)->close_stdin++;
}

static void ev_backpressure(gboolean pause, gpointer user)
{
  Owner *o = user;
  if (pause) {
    o->pauses++;
    o->queued_at_pause = mon_attach_max_queued(o->a);
  } else {
    o->resumes++;
    o->queued_at_resume = mon_attach_max_queued(o->a);
  }
}

static void ev_idle(gpointer user)
{
  ((Owner *)user)->idle++;
}

static enum proto_state ev_state(gpointer user)
{
  return ((Owner *)user)->state;
}

static const MonAttachEvents events = {
    .on_stdin = ev_stdin,
    .on_resize = ev_resize,
    .on_close_stdin = ev_close_stdin,
    .on_backpressure = ev_backpressure,
    .on_idle = ev_idle,
    .state = ev_state,
};

static void owner_init(Owner *o, gboolean terminal, MonNotes *notes)
{
  memset(o, 0, sizeof(*o));
  o->in = g_string_new(NULL);
  o->stdin_ok = TRUE;
  o->state = PROTO_STATE_RUNNING;
  o->a = mon_attach_new(terminal, notes, &events, o);
}

static void owner_clear(Owner *o)
{
  mon_attach_free(o->a);
  g_string_free(o->in, TRUE);
}

/* A client on a socketpair; returns the test's end. */
static int add_client(Owner *o)
{
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
    abort();
  mon_attach_add_client(o->a, sv[0]);
  return sv[1];
}

static guint8 frame_buf[PROTO_MAX_FRAME + 1];

/* The next frame for client FD, running the loop meanwhile: its length, 0
 * at the end of the connection, -1 when nothing came within MS. */
static ssize_t next_frame(int fd, int ms)
{
  gint64 end = g_get_monotonic_time() + ms * 1000;
  for (;;) {
    ssize_t n = recv(fd, frame_buf, sizeof(frame_buf), MSG_DONTWAIT);
    if (n >= 0)
      return n;
    if (errno != EAGAIN && errno != EINTR)
      return 0; /* ECONNRESET: ended too */
    if (g_get_monotonic_time() >= end)
      return -1;
    if (!g_main_context_iteration(NULL, FALSE))
      g_usleep(500);
  }
}

static void send_frame(int fd, const guint8 *buf, size_t len)
{
  if (send(fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len)
    abort();
}

/* The listener: a socket of mode 0600 in the dir; HELLO first, with the
 * terminal flag and the owner's state; on_idle when the last one leaves;
 * unlink removes the socket. */
static void test_listener(void)
{
  Owner o;
  char tmpl[] = "/tmp/test-attach-XXXXXX";
  g_autoptr(GError) error = NULL;
  struct stat st;
  TAP_OK(mkdtemp(tmpl) != NULL, "temp dir");
  int dfd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  owner_init(&o, TRUE, NULL);
  o.state = PROTO_STATE_CREATED;
  TAP_OK(mon_attach_listen(o.a, dfd, tmpl, &error), "listen: %s", error ? error->message : "ok");
  TAP_OK(fstatat(dfd, "attach", &st, 0) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600,
         "STATE/attach is a socket of mode 0600 (%o)", st.st_mode & 0777);
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  g_snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/attach", tmpl);
  TAP_OK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect");
  ssize_t n = next_frame(fd, 2000);
  struct proto_frame f;
  TAP_OK(n > 0 && proto_parse(frame_buf, (size_t)n, &f) == 0 && f.type == PROTO_HELLO,
         "HELLO first");
  TAP_OK(n > 0 && f.terminal == 1 && f.state == PROTO_STATE_CREATED,
         "HELLO carries the terminal flag and the owner's state");
  TAP_IS_INT(mon_attach_n_clients(o.a), 1, "one client");
  close(fd);
  SPIN_UNTIL(o.idle > 0, 2000);
  TAP_IS_INT(o.idle, 1, "on_idle when the last client hung up");
  TAP_IS_INT(mon_attach_n_clients(o.a), 0, "no client left");
  mon_attach_unlink(o.a);
  TAP_OK(fstatat(dfd, "attach", &st, 0) < 0 && errno == ENOENT, "unlink removes the socket");
  owner_clear(&o);
  close(dfd);
  rmdir(tmpl);
}

/* Output goes to every client after HELLO, in order, cut into frames of at
 * most PROTO_MAX_PAYLOAD; a client gets only what came after it. */
static void test_broadcast(void)
{
  Owner o;
  static guint8 big[100000];
  owner_init(&o, FALSE, NULL);
  for (size_t i = 0; i < sizeof(big); i++)
    big[i] = (guint8)(i * 7);
  int c1 = add_client(&o), c2 = add_client(&o);
  mon_attach_broadcast(o.a, PROTO_STDOUT, (const guint8 *)"abc", 3);
  mon_attach_broadcast(o.a, PROTO_STDERR, (const guint8 *)"def", 3);
  mon_attach_broadcast(o.a, PROTO_STDOUT, big, sizeof(big));
  int late = add_client(&o);
  int fds[2] = {c1, c2};
  for (int k = 0; k < 2; k++) {
    struct proto_frame f;
    ssize_t n = next_frame(fds[k], 2000);
    TAP_OK(n > 0 && proto_parse(frame_buf, (size_t)n, &f) == 0 && f.type == PROTO_HELLO &&
               f.terminal == 0,
           "client %d: HELLO first", k);
    n = next_frame(fds[k], 2000);
    TAP_OK(n == 4 && frame_buf[0] == PROTO_STDOUT && memcmp(frame_buf + 1, "abc", 3) == 0,
           "client %d: STDOUT abc", k);
    n = next_frame(fds[k], 2000);
    TAP_OK(n == 4 && frame_buf[0] == PROTO_STDERR && memcmp(frame_buf + 1, "def", 3) == 0,
           "client %d: STDERR def", k);
    size_t got = 0;
    gboolean same = TRUE, small = TRUE;
    while (got < sizeof(big) && (n = next_frame(fds[k], 2000)) > 0) {
      size_t len = (size_t)n - 1;
      small = small && len <= PROTO_MAX_PAYLOAD && frame_buf[0] == PROTO_STDOUT;
      same = same && got + len <= sizeof(big) && memcmp(frame_buf + 1, big + got, len) == 0;
      got += len;
    }
    TAP_IS_INT(got, sizeof(big), "client %d: all of the big write", k);
    TAP_OK(same && small, "client %d: in order, in STDOUT frames of at most %d bytes", k,
           PROTO_MAX_PAYLOAD);
  }
  ssize_t n = next_frame(late, 2000);
  TAP_OK(n > 0 && frame_buf[0] == PROTO_HELLO, "a later client gets HELLO");
  TAP_IS_INT(next_frame(late, 50), -1, "and none of the output before it");
  close(c1);
  close(c2);
  close(late);
  owner_clear(&o);
}

/* STDIN, RESIZE and CLOSE_STDIN come up as callbacks; on_stdin saying "no
 * more" stops reading the clients until mon_attach_resume_readers(). */
static void test_input(void)
{
  Owner o;
  guint8 buf[64];
  owner_init(&o, TRUE, NULL);
  int c = add_client(&o);
  (void)next_frame(c, 2000); /* HELLO */
  send_frame(c, buf, proto_encode_data(buf, PROTO_STDIN, "in1", 3));
  send_frame(c, buf, proto_encode_resize(buf, 40, 120));
  send_frame(c, buf, proto_encode_empty(buf, PROTO_CLOSE_STDIN));
  SPIN_UNTIL(o.close_stdin > 0, 2000);
  TAP_IS_STR(o.in->str, "in1", "STDIN reaches on_stdin");
  TAP_OK(o.rows == 40 && o.cols == 120, "RESIZE reaches on_resize (%dx%d)", o.rows, o.cols);
  TAP_IS_INT(o.close_stdin, 1, "CLOSE_STDIN reaches on_close_stdin");
  o.stdin_ok = FALSE;
  send_frame(c, buf, proto_encode_data(buf, PROTO_STDIN, "a", 1));
  send_frame(c, buf, proto_encode_data(buf, PROTO_STDIN, "b", 1));
  spin(100);
  TAP_IS_STR(o.in->str, "in1a", "after on_stdin said no, nothing more is read");
  o.stdin_ok = TRUE;
  mon_attach_resume_readers(o.a);
  SPIN_UNTIL(o.in->len == 5, 2000);
  TAP_IS_STR(o.in->str, "in1ab", "resume_readers: the rest is read");
  TAP_IS_INT(mon_attach_n_clients(o.a), 1, "the client stays");
  close(c);
  owner_clear(&o);
}

/* DETACH and malformed frames end the connection (noted when malformed). */
static void test_detach_malformed(void)
{
  Owner o;
  guint8 buf[64];
  char tmpl[] = "/tmp/test-attach-XXXXXX";
  TAP_OK(mkdtemp(tmpl) != NULL, "temp dir");
  int dfd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_autoptr(MonNotes) notes = mon_notes_new(dfd);
  owner_init(&o, FALSE, notes);
  int c = add_client(&o);
  (void)next_frame(c, 2000);
  send_frame(c, buf, proto_encode_empty(buf, PROTO_DETACH));
  TAP_IS_INT(next_frame(c, 2000), 0, "DETACH: the monitor closes the connection");
  TAP_IS_INT(o.idle, 1, "and reports on_idle");
  close(c);

  const guint8 bad[][3] = {{99, 0, 0}, {PROTO_RESIZE, 1, 0}, {PROTO_HELLO, 0, 0}};
  const size_t bad_len[] = {1, 2, 3};
  const char *what[] = {"unknown type", "short RESIZE", "a frame only the monitor sends"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    c = add_client(&o);
    (void)next_frame(c, 2000);
    send_frame(c, bad[i], bad_len[i]);
    TAP_IS_INT(next_frame(c, 2000), 0, "%s: the connection is closed", what[i]);
    close(c);
  }
  TAP_IS_INT(mon_attach_n_clients(o.a), 0, "no client left");
  g_autofree char *log = NULL;
  g_autofree char *path = g_build_filename(tmpl, "monitor.log", NULL);
  TAP_OK(g_file_get_contents(path, &log, NULL, NULL) &&
             strstr(log, "attach client dropped: malformed frame") != NULL,
         "a malformed frame is noted in monitor.log");
  TAP_OK(log && strstr(log, "DETACH") == NULL && g_strstr_len(log, -1, "dropped: (null)") == NULL,
         "a DETACH is not noted as a drop");
  owner_clear(&o);
  unlink(path);
  close(dfd);
  rmdir(tmpl);
}

/* Broadcasts CHUNK-sized output until the owner is asked to pause (at most
 * LIMIT bytes); returns the bytes sent, *RET_BEFORE the largest queue just
 * before the broadcast that paused. */
static size_t fill_until_pause(Owner *o, size_t chunk, size_t limit, size_t *ret_before)
{
  static guint8 data[MON_ATTACH_BROADCAST_MAX];
  size_t sent = 0;
  for (int i = 0; o->pauses == 0 && sent < limit; i++) {
    memset(data, 'a' + i % 26, chunk);
    *ret_before = mon_attach_max_queued(o->a);
    mon_attach_broadcast(o->a, PROTO_STDOUT, data, chunk);
    sent += chunk;
  }
  return sent;
}

/* A client that reads nothing holds MON_CLIENT_QUEUE_HIGH: the part asks to
 * pause, and resumes only below MON_CLIENT_QUEUE_LOW; the reader gets
 * every byte in order and is not dropped. */
static void test_backpressure(void)
{
  Owner o;
  size_t before = 0;
  owner_init(&o, FALSE, NULL);
  mon_attach_set_stall_ms(o.a, 60000); /* this one reads: never a stall */
  int c = add_client(&o);
  size_t sent = fill_until_pause(&o, 65536, 64u << 20, &before);
  TAP_IS_INT(o.pauses, 1, "pause asked once");
  TAP_OK(o.queued_at_pause >= MON_CLIENT_QUEUE_HIGH, "at MON_CLIENT_QUEUE_HIGH queued (%zu bytes)",
         o.queued_at_pause);
  TAP_OK(before < MON_CLIENT_QUEUE_HIGH, "not before (%zu bytes were queued)", before);
  TAP_IS_INT(o.resumes, 0, "no resume while nobody reads");
  size_t got = 0;
  gboolean in_order = TRUE;
  char expect = 'a';
  size_t in_chunk = 0;
  ssize_t n = next_frame(c, 2000); /* HELLO */
  while (got < sent && (n = next_frame(c, 2000)) > 0) {
    for (ssize_t k = 1; k < n; k++) {
      in_order = in_order && frame_buf[k] == (guint8)expect;
      if (++in_chunk == 65536) {
        in_chunk = 0;
        expect = expect == 'z' ? 'a' : expect + 1;
      }
    }
    got += (size_t)n - 1;
  }
  TAP_IS_INT(o.resumes, 1, "resumed once the client read");
  TAP_OK(o.queued_at_resume < MON_CLIENT_QUEUE_LOW, "below MON_CLIENT_QUEUE_LOW (%zu bytes)",
         o.queued_at_resume);
  TAP_IS_INT(got, sent, "the slow reader got every byte");
  TAP_OK(in_order, "in order");
  TAP_IS_INT(mon_attach_n_clients(o.a), 1, "and was not dropped");
  close(c);
  owner_clear(&o);
}

/* A client that reads nothing while output waits for it is dropped after
 * the stall time, noted, and output resumes. */
static void test_stall(void)
{
  Owner o;
  size_t before;
  char tmpl[] = "/tmp/test-attach-XXXXXX";
  TAP_OK(mkdtemp(tmpl) != NULL, "temp dir");
  int dfd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_autoptr(MonNotes) notes = mon_notes_new(dfd);
  owner_init(&o, FALSE, notes);
  mon_attach_set_stall_ms(o.a, 200);
  int c = add_client(&o);
  gint64 t0 = g_get_monotonic_time(); /* the stall counts from the first output it left */
  (void)fill_until_pause(&o, 65536, 64u << 20, &before);
  TAP_IS_INT(o.pauses, 1, "the stuck client paused the output");
  TAP_IS_INT(mon_attach_n_clients(o.a), 1, "not dropped at once");
  SPIN_UNTIL(o.idle > 0, 10000);
  gint64 waited_ms = (g_get_monotonic_time() - t0) / 1000;
  TAP_IS_INT(mon_attach_n_clients(o.a), 0, "dropped");
  TAP_OK(waited_ms >= 200, "after the stall time (%lld ms)", (long long)waited_ms);
  TAP_IS_INT(o.resumes, 1, "output resumed");
  g_autofree char *log = NULL;
  g_autofree char *path = g_build_filename(tmpl, "monitor.log", NULL);
  TAP_OK(g_file_get_contents(path, &log, NULL, NULL) &&
             strstr(log, "attach client dropped: it took no output for 200 ms") != NULL,
         "the drop is noted in monitor.log");
  ssize_t n;
  while ((n = next_frame(c, 2000)) > 0)
    ;
  TAP_IS_INT(n, 0, "the client sees its connection end");
  close(c);
  owner_clear(&o);
  unlink(path);
  close(dfd);
  rmdir(tmpl);
}

/* A client that sent HOLD (the foreground `oci run`) is waited for as a
 * pipe is: it reads nothing for many stall times, is not dropped, output
 * stays paused, and once it reads it gets every byte; a client without
 * HOLD beside it is still dropped; close_unheld() spares it. */
static void test_hold(void)
{
  Owner o;
  size_t before;
  guint8 buf[16];
  owner_init(&o, FALSE, NULL);
  mon_attach_set_stall_ms(o.a, 100);
  int held = add_client(&o);
  int other = add_client(&o);
  send_frame(held, buf, proto_encode_empty(buf, PROTO_HOLD));
  spin(50); /* the part reads the HOLD */
  size_t sent = fill_until_pause(&o, 65536, 64u << 20, &before);
  TAP_IS_INT(o.pauses, 1, "the stuck clients paused the output");
  spin(1000); /* ten stall times */
  TAP_IS_INT(mon_attach_n_clients(o.a), 1, "the client without HOLD was dropped, the held one not");
  TAP_IS_INT(o.resumes, 0, "output stays paused while the held client is behind");
  TAP_IS_INT(mon_attach_close_unheld(o.a), 0, "close_unheld() spares the held client");
  size_t got = 0;
  ssize_t n = next_frame(held, 2000); /* HELLO */
  while (got < sent && (n = next_frame(held, 2000)) > 0)
    got += (size_t)n - 1;
  TAP_IS_INT(got, sent, "once it reads, the held client gets every byte");
  TAP_IS_INT(o.resumes, 1, "and output resumes");
  while ((n = next_frame(other, 100)) > 0)
    ;
  TAP_IS_INT(n, 0, "the dropped one saw its connection end");
  close(other);
  close(held);
  owner_clear(&o);
}

/* EXIT comes after all queued output, then the connection ends; a client
 * that connects after gets HELLO and EXIT; without a known status no EXIT
 * is sent, only the end. */
static void test_exit(void)
{
  Owner o;
  static guint8 data[300000];
  struct proto_frame f;
  memset(data, 'x', sizeof(data));
  owner_init(&o, FALSE, NULL);
  int c = add_client(&o);
  mon_attach_broadcast(o.a, PROTO_STDOUT, data, sizeof(data));
  TAP_OK(mon_attach_max_queued(o.a) > 0, "some output is queued (%zu bytes)",
         mon_attach_max_queued(o.a));
  mon_attach_send_exit(o.a, TRUE, 3, 0);
  TAP_IS_INT(o.idle, 0, "the client is not closed before it got its output");
  size_t got = 0;
  ssize_t n = next_frame(c, 2000); /* HELLO */
  int exits = 0;
  gboolean exit_last = TRUE;
  while ((n = next_frame(c, 2000)) > 0) {
    if (exits > 0)
      exit_last = FALSE;
    if (frame_buf[0] == PROTO_STDOUT)
      got += (size_t)n - 1;
    else if (proto_parse(frame_buf, (size_t)n, &f) == 0 && f.type == PROTO_EXIT &&
             f.exit_status == 3 && f.signal == 0)
      exits++;
  }
  TAP_IS_INT(got, sizeof(data), "all output before the end");
  TAP_OK(exits == 1 && exit_last, "then one EXIT (status 3), last");
  TAP_IS_INT(n, 0, "then the connection ends");
  SPIN_UNTIL(o.idle > 0, 2000);
  TAP_IS_INT(o.idle, 1, "on_idle once it is gone");
  close(c);
  int late = add_client(&o);
  n = next_frame(late, 2000);
  TAP_OK(n > 0 && frame_buf[0] == PROTO_HELLO, "a client after the end gets HELLO");
  n = next_frame(late, 2000);
  TAP_OK(n > 0 && proto_parse(frame_buf, (size_t)n, &f) == 0 && f.type == PROTO_EXIT &&
             f.exit_status == 3,
         "and EXIT");
  TAP_IS_INT(next_frame(late, 2000), 0, "and the end");
  close(late);
  owner_clear(&o);

  owner_init(&o, FALSE, NULL);
  c = add_client(&o);
  mon_attach_broadcast(o.a, PROTO_STDOUT, (const guint8 *)"z", 1);
  mon_attach_send_exit(o.a, FALSE, 0, 0);
  int types = 0;
  while ((n = next_frame(c, 2000)) > 0)
    types |= 1 << frame_buf[0];
  TAP_OK(types == ((1 << PROTO_HELLO) | (1 << PROTO_STDOUT)) && n == 0,
         "status unknown: HELLO, output, then the end without EXIT");
  close(c);
  owner_clear(&o);
}

int main(void)
{
  test_listener();
  test_broadcast();
  test_input();
  test_detach_malformed();
  test_backpressure();
  test_stall();
  test_hold();
  test_exit();
  return tap_done();
}
