/* SPDX-License-Identifier: Apache-2.0 */
#include "attach-client.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "proto.h"
#include "terminal.h"
#include "signals.h"

#define HELLO_TIMEOUT_MS 10000
#define STDIN_CHUNK 4096

int attach_parse_detach_keys(const char *spec, struct attach_opts *o, oci_error **err)
{
  o->n_detach_keys = 0;
  if (spec == NULL)
    spec = "ctrl-p,ctrl-q";
  for (const char *p = spec; *p;) {
    const char *end = strchrnul(p, ',');
    size_t len = (size_t)(end - p);
    int key = -1;
    if (len == 1) {
      key = (unsigned char)p[0];
    } else if (len == 6 && strncasecmp(p, "ctrl-", 5) == 0) {
      char ch = p[5];
      if (isalpha((unsigned char)ch))
        key = tolower((unsigned char)ch) - 'a' + 1;
      else if (strchr("@[\\]^_", ch))
        key = ch == '@' ? 0 : ch - '@';
    }
    if (key < 0 || o->n_detach_keys == ATTACH_MAX_DETACH_KEYS)
      return oci_error_set_kind(err, OCI_ERR_USAGE, 0,
                                "--detach-keys '%s': use keys like 'ctrl-p,ctrl-q' or 'ctrl-a,x'",
                                spec);
    o->detach_keys[o->n_detach_keys++] = (uint8_t)key;
    p = *end ? end + 1 : end;
  }
  return 0;
}

struct session {
  int sock, sfd;
  int tty;       /* where the window size comes from, or -1 */
  bool terminal; /* the container has a pty */
  bool stdin_open;
  bool out_ok[3]; /* stdout / stderr still writable */
  bool use_keys;
  size_t matched; /* detach keys typed so far, held back */
  struct term_saved term;
  sigset_t oldmask;
  struct sigaction oldpipe;
  bool signals_set;
  /* one frame in or out at a time: the session's only buffer */
  uint8_t frame[PROTO_MAX_FRAME];
};

static void session_end(struct session *s)
{
  term_restore(&s->term);
  if (s->signals_set) {
    struct signalfd_siginfo si;
    while (s->sfd >= 0 && read(s->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
      ;
    sigprocmask(SIG_SETMASK, &s->oldmask, NULL);
    sigaction(SIGPIPE, &s->oldpipe, NULL);
    s->signals_set = false;
  }
  if (s->sfd >= 0)
    close(s->sfd);
  if (s->sock >= 0)
    close(s->sock);
  s->sfd = s->sock = -1;
}

static int send_frame(struct session *s, const uint8_t *buf, size_t len)
{
  for (;;) {
    ssize_t n = send(s->sock, buf, len, MSG_NOSIGNAL);
    if (n >= 0)
      return 0;
    if (errno != EINTR)
      return -errno; /* the monitor is gone: recv will tell */
  }
}

static void send_resize(struct session *s)
{
  uint16_t rows, cols;
  uint8_t buf[16];
  if (s->terminal && term_get_size(s->tty, &rows, &cols))
    send_frame(s, buf, proto_encode_resize(buf, rows, cols));
}

static void send_stdin(struct session *s, const uint8_t *data, size_t len)
{
  while (len > 0) {
    size_t n = len > PROTO_MAX_PAYLOAD ? PROTO_MAX_PAYLOAD : len;
    send_frame(s, s->frame, proto_encode_data(s->frame, PROTO_STDIN, data, n));
    data += n;
    len -= n;
  }
}

static void write_out(struct session *s, int fd, const uint8_t *p, size_t n)
{
  /* reader gone: the container keeps running, its output is in the log */
  if (s->out_ok[fd] && fs_write_all(fd, p, n) < 0)
    s->out_ok[fd] = false;
}

/* Our stdin: returns 1 when the detach sequence was typed.  Bytes that may
 * start the sequence are held back until it is clear they don't. */
static int pump_stdin(struct session *s, const struct attach_opts *o)
{
  uint8_t in[STDIN_CHUNK], out[STDIN_CHUNK + ATTACH_MAX_DETACH_KEYS];
  ssize_t n = read(0, in, sizeof(in));
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return 0;
  if (n <= 0) {
    s->stdin_open = false;
    /* A pty has no "end of input" we could pass on; closing it would hang
     * up the container's session. */
    if (!s->terminal) {
      uint8_t buf[16];
      send_frame(s, buf, proto_encode_empty(buf, PROTO_CLOSE_STDIN));
    }
    return 0;
  }
  size_t len = 0;
  for (ssize_t i = 0; i < n; i++) {
    uint8_t c = in[i];
    if (!s->use_keys) {
      out[len++] = c;
      continue;
    }
    if (c == o->detach_keys[s->matched]) {
      if (++s->matched == o->n_detach_keys) {
        send_stdin(s, out, len);
        return 1;
      }
      continue;
    }
    /* not the sequence after all: release what was held */
    memcpy(out + len, o->detach_keys, s->matched);
    len += s->matched;
    s->matched = 0;
    if (c == o->detach_keys[0])
      s->matched = 1;
    else
      out[len++] = c;
  }
  send_stdin(s, out, len);
  return 0;
}

static int connect_socket(int dirfd, const char *id, int *ret, oci_error **err)
{
  /* connect through /proc/self/fd: sun_path holds 108 bytes, ROOT/ID/attach
   * may be longer */
  cleanup_close int pfd = openat(dirfd, "attach", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (pfd < 0)
    return oci_error_set(err, errno, "attach '%s': attach socket", id);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d", pfd);
  cleanup_close int sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return oci_error_set(err, errno, "attach '%s': socket", id);
  while (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
    if (errno != EINTR)
      return oci_error_set(err, errno, "attach '%s': connect", id);
  }
  *ret = steal_fd(&sock);
  return 0;
}

static int read_hello(struct session *s, const char *id, struct proto_frame *hello, oci_error **err)
{
  uint8_t *buf = s->frame;
  struct pollfd p = {.fd = s->sock, .events = POLLIN};
  int r;
  while ((r = poll(&p, 1, HELLO_TIMEOUT_MS)) < 0 && errno == EINTR)
    ;
  if (r == 0)
    return oci_error_set(err, 0, "attach '%s': the monitor did not greet us", id);
  ssize_t n = recv(s->sock, buf, sizeof(s->frame), 0);
  if (n <= 0)
    return oci_error_set(err, n < 0 ? errno : 0, "attach '%s': the monitor closed the connection",
                         id);
  if (proto_parse(buf, (size_t)n, hello) < 0 || hello->type != PROTO_HELLO)
    return oci_error_set(err, 0, "attach '%s': unexpected first frame from the monitor", id);
  return 0;
}

static int setup_signals(struct session *s, bool forward, oci_error **err)
{
  sigset_t set;
  sigemptyset(&set);
  if (forward)
    signals_add_forwarded(&set);
  else
    signals_add_stop(&set);
  sigaddset(&set, SIGWINCH);
  /* a closed stdout reader must not kill us with the terminal raw */
  struct sigaction ign = {.sa_handler = SIG_IGN};
  sigemptyset(&ign.sa_mask);
  sigaction(SIGPIPE, &ign, &s->oldpipe);
  sigprocmask(SIG_BLOCK, &set, &s->oldmask);
  s->signals_set = true;
  s->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (s->sfd < 0)
    return oci_error_set(err, errno, "signalfd");
  return 0;
}

/* Returns 1 when the session ends (ret filled), 0 to go on. */
static int handle_signals(struct session *s, const struct attach_opts *o, struct attach_result *ret)
{
  struct signalfd_siginfo si;
  while (read(s->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
    int sig = (int)si.ssi_signo;
    if (sig == SIGWINCH) {
      send_resize(s);
    } else if (o->forward_pidfd >= 0) {
      pidfd_send_signal(o->forward_pidfd, sig, NULL, 0);
    } else {
      uint8_t buf[16];
      send_frame(s, buf, proto_encode_empty(buf, PROTO_DETACH));
      ret->how = ATTACH_SIGNALLED;
      ret->signal = sig;
      return 1;
    }
  }
  return 0;
}

/* One frame from the monitor.  Returns 1 at the end, 0 to go on. */
static int handle_frame(struct session *s, struct attach_result *ret)
{
  uint8_t *buf = s->frame;
  ssize_t n = recv(s->sock, buf, sizeof(s->frame), 0);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return 0;
  if (n <= 0) {
    ret->how = ATTACH_LOST;
    return 1;
  }
  struct proto_frame f;
  if (proto_parse(buf, (size_t)n, &f) < 0)
    return 0; /* a frame we don't know: newer monitor, skip it */
  switch (f.type) {
  case PROTO_STDOUT: write_out(s, 1, f.data, f.len); break;
  case PROTO_STDERR: write_out(s, 2, f.data, f.len); break;
  case PROTO_EXIT:
    ret->how = ATTACH_EXITED;
    ret->status = f.exit_status;
    ret->signal = f.signal;
    return 1;
  default: break;
  }
  return 0;
}

int attach_session(int dirfd, const char *id, const struct attach_opts *o,
                   struct attach_result *ret, oci_error **err)
{
  *ret = (struct attach_result){0};
  struct session s = {.sock = -1, .sfd = -1, .term = {.fd = -1}, .out_ok = {false, true, true}};
  struct proto_frame hello;
  int r = -1;
  if (o->use_sock)
    s.sock = o->sock;
  else if (connect_socket(dirfd, id, &s.sock, err) < 0)
    goto out;
  if (read_hello(&s, id, &hello, err) < 0 || setup_signals(&s, o->forward_pidfd >= 0, err) < 0)
    goto out;
  s.terminal = hello.terminal;
  ret->terminal = s.terminal;
  s.tty = term_find_tty();
  s.stdin_open = !o->no_stdin;
  bool stdin_tty = s.stdin_open && isatty(0);
  s.use_keys = stdin_tty && o->n_detach_keys > 0;
  if (s.terminal && stdin_tty && term_make_raw(0, &s.term, err) < 0) {
    oci_error_prefix(err, "attach '%s'", id);
    goto out;
  }
  if (o->hold) {
    uint8_t buf[16];
    send_frame(&s, buf, proto_encode_empty(buf, PROTO_HOLD));
  }
  /* the size first, so the container's first look at its pty is right */
  send_resize(&s);
  if (o->connected && o->connected(o->data, err) < 0)
    goto out;

  for (;;) {
    struct pollfd p[3] = {{.fd = s.sock, .events = POLLIN},
                          {.fd = s.sfd, .events = POLLIN},
                          {.fd = s.stdin_open ? 0 : -1, .events = POLLIN}};
    int n = poll(p, 3, -1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      oci_error_set(err, errno, "attach '%s': poll", id);
      goto out;
    }
    /* output before anything else: an EXIT comes after all of it */
    if (p[0].revents && handle_frame(&s, ret))
      break;
    if (p[1].revents && handle_signals(&s, o, ret))
      break;
    if (p[2].revents && pump_stdin(&s, o)) {
      uint8_t buf[16];
      send_frame(&s, buf, proto_encode_empty(buf, PROTO_DETACH));
      ret->how = ATTACH_DETACHED;
      break;
    }
  }
  r = 0;
out:
  session_end(&s);
  return r;
}
