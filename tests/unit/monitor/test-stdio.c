/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MonStdio on real pipes, without a runtime: the test holds the
 * container's ends that mon_stdio_open() returns and drives the default
 * main context by hand.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ctr-stdio.h"
#include "spin.h"
#include "tap.h"

typedef struct {
  GString *out, *err;
  GString *order; /* 'o' / 'e' per on_output call */
  int drained, room, quiet;
} Events;

static void ev_output(enum proto_frame_type stream, const guint8 *data, size_t len, gpointer user)
{
  Events *e = user;
  g_string_append_len(stream == PROTO_STDOUT ? e->out : e->err, (const char *)data, (gssize)len);
  g_string_append_c(e->order, stream == PROTO_STDOUT ? 'o' : 'e');
}

static void ev_drained(gpointer user)
{
  ((Events *)user)->drained++;
}

static void ev_room(gpointer user)
{
  ((Events *)user)->room++;
}

static void ev_quiet(gpointer user)
{
  ((Events *)user)->quiet++;
}

static const MonStdioEvents events = {
    .on_output = ev_output,
    .on_drained = ev_drained,
    .on_stdin_room = ev_room,
    .on_quiet = ev_quiet,
};

static void events_init(Events *e)
{
  memset(e, 0, sizeof(*e));
  e->out = g_string_new(NULL);
  e->err = g_string_new(NULL);
  e->order = g_string_new(NULL);
}

static void events_clear(Events *e)
{
  g_string_free(e->out, TRUE);
  g_string_free(e->err, TRUE);
  g_string_free(e->order, TRUE);
}

static void write_str(int fd, const char *s)
{
  size_t len = strlen(s);
  if (write(fd, s, len) != (ssize_t)len)
    abort();
}

/* Output from the pipes reaches on_output in order, per stream; EOF plus
 * the drain gives on_drained once, after the last byte. */
static void test_output(void)
{
  Events e;
  int child[3];
  g_autoptr(GError) error = NULL;
  events_init(&e);
  g_autoptr(MonStdio) s = mon_stdio_new(FALSE, NULL, &events, &e);
  TAP_OK(mon_stdio_open(s, child, &error), "open: %s", error ? error->message : "ok");
  TAP_OK(child[0] >= 0 && child[1] >= 0 && child[2] >= 0, "three child ends");
  TAP_OK((fcntl(child[1], F_GETFD) & FD_CLOEXEC) && (fcntl(child[0], F_GETFD) & FD_CLOEXEC),
         "child ends are O_CLOEXEC until the spawn hands them on");
  mon_stdio_start(s);
  write_str(child[1], "one ");
  SPIN_UNTIL(e.out->len == 4, 2000);
  write_str(child[1], "two ");
  SPIN_UNTIL(e.out->len == 8, 2000);
  write_str(child[2], "err");
  write_str(child[1], "three");
  SPIN_UNTIL(e.out->len == 13 && e.err->len == 3, 2000);
  TAP_IS_STR(e.out->str, "one two three", "stdout arrives in order");
  TAP_IS_STR(e.err->str, "err", "stderr arrives on its own stream");
  TAP_IS_INT(e.drained, 0, "no on_drained while the container runs");
  write_str(child[1], "last");
  close(child[1]);
  close(child[2]);
  mon_stdio_drain(s);
  TAP_IS_INT(e.drained, 1, "drain at EOF reports on_drained");
  TAP_OK(g_str_has_suffix(e.out->str, "last"), "the drain read what was left first");
  spin(50);
  TAP_IS_INT(e.drained, 1, "on_drained only once");
  close(child[0]);
  events_clear(&e);
}

/* Pause stops reading (data waits in the pipe), resume goes on. */
static void test_pause(void)
{
  Events e;
  int child[3];
  events_init(&e);
  g_autoptr(MonStdio) s = mon_stdio_new(FALSE, NULL, &events, &e);
  TAP_OK(mon_stdio_open(s, child, NULL), "open");
  mon_stdio_start(s);
  mon_stdio_pause(s);
  write_str(child[1], "held");
  spin(100);
  TAP_IS_INT(e.out->len, 0, "nothing is read while paused");
  mon_stdio_resume(s);
  SPIN_UNTIL(e.out->len == 4, 2000);
  TAP_IS_STR(e.out->str, "held", "resume reads what waited");
  /* A paused drain goes on (from the loop) once resumed. */
  write_str(child[1], "tail");
  mon_stdio_pause(s);
  close(child[1]);
  close(child[2]);
  mon_stdio_drain(s);
  spin(50);
  TAP_IS_INT(e.drained, 0, "a paused drain waits");
  mon_stdio_resume(s);
  TAP_IS_INT(e.drained, 0, "resume does not drain from inside the caller");
  SPIN_UNTIL(e.drained > 0, 2000);
  TAP_IS_INT(e.drained, 1, "the drain finished after resume");
  TAP_IS_STR(e.out->str, "heldtail", "and read everything");
  close(child[0]);
  events_clear(&e);
}

/* Stdin pushed reaches the pipe; close_stdin gives EOF after the queue. */
static void test_stdin(void)
{
  Events e;
  int child[3];
  char buf[64];
  events_init(&e);
  g_autoptr(MonStdio) s = mon_stdio_new(FALSE, NULL, &events, &e);
  TAP_OK(mon_stdio_open(s, child, NULL), "open");
  TAP_OK(mon_stdio_stdin_push(s, (const guint8 *)"hello ", 6), "push: room left");
  TAP_OK(mon_stdio_stdin_push(s, (const guint8 *)"world", 5), "push again");
  mon_stdio_close_stdin(s);
  spin(20);
  fcntl(child[0], F_SETFL, O_NONBLOCK); /* a missing EOF fails, not hangs */
  ssize_t n = read(child[0], buf, sizeof(buf));
  TAP_OK(n == 11 && memcmp(buf, "hello world", 11) == 0, "stdin reached the pipe (%zd bytes)", n);
  n = read(child[0], buf, sizeof(buf));
  TAP_IS_INT(n, 0, "close_stdin: the container reads EOF");
  TAP_OK(e.room > 0, "stdin gone reports room (readers go on)");
  TAP_OK(mon_stdio_stdin_push(s, (const guint8 *)"late", 4), "push after close is dropped");
  close(child[0]);
  close(child[1]);
  close(child[2]);
  events_clear(&e);
}

/* A container that does not read: stdin queues up to the bound, then the
 * push says "no more"; once it reads, on_stdin_room.  Queued input is
 * closed after, not dropped, by close_stdin. */
static void test_stdin_full(void)
{
  Events e;
  int child[3];
  static guint8 chunk[PROTO_MAX_PAYLOAD];
  events_init(&e);
  memset(chunk, 'x', sizeof(chunk));
  g_autoptr(MonStdio) s = mon_stdio_new(FALSE, NULL, &events, &e);
  TAP_OK(mon_stdio_open(s, child, NULL), "open");
  size_t pushed = 0;
  gboolean room = TRUE;
  while (room && pushed < 16 * MON_STDIN_QUEUE_MAX) {
    room = mon_stdio_stdin_push(s, chunk, sizeof(chunk));
    pushed += sizeof(chunk);
  }
  TAP_OK(!room, "a container that does not read fills the queue (%zu bytes pushed)", pushed);
  TAP_OK(pushed >= MON_STDIN_QUEUE_MAX, "not before MON_STDIN_QUEUE_MAX was queued");
  int before = e.room;
  mon_stdio_close_stdin(s);
  size_t got = 0;
  guint8 buf[65536];
  gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
  fcntl(child[0], F_SETFL, O_NONBLOCK); /* the monitor writes only while the loop runs */
  while (g_get_monotonic_time() < deadline) {
    ssize_t n = read(child[0], buf, sizeof(buf));
    if (n == 0)
      break;
    if (n > 0)
      got += (size_t)n;
    else
      spin(1);
  }
  TAP_IS_INT(got, pushed, "every byte pushed was written, then EOF");
  TAP_OK(e.room > before, "on_stdin_room once it drained");
  close(child[0]);
  close(child[1]);
  close(child[2]);
  events_clear(&e);
}

int main(void)
{
  test_output();
  test_pause();
  test_stdin();
  test_stdin_full();
  return tap_done();
}
