/* SPDX-License-Identifier: Apache-2.0 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "signals.h"

#define CAPTURE_MAX (1 << 20) /* state JSON is small; anything past this is dropped */
#define TEE_TAIL 8192         /* enough for the runtime's last message */
#define HELD_MAX 4096         /* a longer last line is no runtime message: not held */

void spawn_child_reset_signals(void)
{
  signals_reset_for_exec();
}

void spawn_result_clear(struct spawn_result *r)
{
  free(r->out);
  free(r->err);
  free(r->held);
  *r = (struct spawn_result){0};
}

void spawn_result_release_held(struct spawn_result *r, int fd)
{
  if (r->held)
    (void)fs_write_all(fd, r->held, r->held_len);
  free(r->held);
  r->held = NULL;
  r->held_len = 0;
}

static long long monotonic_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct sink {
  int fd;         /* read end, -1 once at EOF */
  int echo_fd;    /* SPAWN_TEE: where to copy, else -1 */
  bool tail_only; /* keep only the last TEE_TAIL bytes */
  bool hold_last; /* SPAWN_TEE_HOLD_LAST */
  char *buf;
  size_t len;
  char held[HELD_MAX]; /* the final complete line, not yet echoed */
  size_t held_len;
  long long held_at_ms;
};

static void sink_flush_held(struct sink *s)
{
  if (s->held_len)
    (void)fs_write_all(s->echo_fd, s->held, s->held_len);
  s->held_len = 0;
}

/* Copy a chunk through; with hold_last, its final line waits until more
 * comes, the hold times out or the child exits.  A partial line (a prompt)
 * is never held. */
static void sink_echo(struct sink *s, const char *p, size_t n)
{
  if (!s->hold_last) {
    (void)fs_write_all(s->echo_fd, p, n);
    return;
  }
  sink_flush_held(s);
  size_t start = n;
  if (n > 0 && p[n - 1] == '\n') {
    start = n - 1;
    while (start > 0 && p[start - 1] != '\n')
      start--;
    if (n - start > sizeof(s->held))
      start = n;
  }
  (void)fs_write_all(s->echo_fd, p, start);
  if (start < n) {
    memcpy(s->held, p + start, n - start);
    s->held_len = n - start;
    s->held_at_ms = monotonic_ms();
  }
}

static int sink_append(struct sink *s, const char *p, size_t n)
{
  if (s->tail_only && n >= TEE_TAIL) {
    p += n - TEE_TAIL;
    n = TEE_TAIL;
  }
  size_t keep = s->len;
  if (s->tail_only && keep + n > TEE_TAIL)
    keep = TEE_TAIL - n;
  else if (!s->tail_only && keep + n > CAPTURE_MAX)
    n = keep < CAPTURE_MAX ? CAPTURE_MAX - keep : 0;
  char *b = malloc(keep + n + 1);
  if (b == NULL)
    return -1;
  if (keep)
    memcpy(b, s->buf + (s->len - keep), keep);
  memcpy(b + keep, p, n);
  b[keep + n] = '\0';
  free(s->buf);
  s->buf = b;
  s->len = keep + n;
  return 0;
}

/* Read what is there; returns false at EOF. */
static bool sink_read(struct sink *s)
{
  char chunk[16384];
  for (;;) {
    ssize_t n = read(s->fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return true;
    if (n <= 0) {
      close(s->fd);
      s->fd = -1;
      return false;
    }
    /* our stderr gone: nothing to report to anyway, the capture goes on */
    if (s->echo_fd >= 0)
      sink_echo(s, chunk, (size_t)n);
    sink_append(s, chunk, (size_t)n);
  }
}

static int make_pipe(enum spawn_io mode, int fds[2], oci_error **err)
{
  fds[0] = fds[1] = -1;
  if (mode != SPAWN_CAPTURE && mode != SPAWN_TEE && mode != SPAWN_TEE_HOLD_LAST)
    return 0;
  if (pipe2(fds, O_CLOEXEC) < 0)
    return oci_error_set(err, errno, "pipe");
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  return 0;
}

/* In the child: put FD (or /dev/null, or leave ours) on TARGET. */
static int child_fd(enum spawn_io mode, int pipe_end, int target)
{
  if (mode == SPAWN_INHERIT)
    return 0;
  if (mode == SPAWN_NULL) {
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0 || dup2(fd, target) < 0)
      return -1;
    return 0;
  }
  return dup2(pipe_end, target) < 0 ? -1 : 0;
}

/* The child: its stdio, then ARGV.  A failure's errno goes to EXEC_W. */
static void __attribute__((noreturn))
child_exec(char *const argv[], const struct spawn_opts *o, int out_w, int err_w, int exec_w)
{
  spawn_child_reset_signals();
  if (child_fd(o->in == SPAWN_INHERIT ? SPAWN_INHERIT : SPAWN_NULL, -1, 0) == 0 &&
      child_fd(o->out, out_w, 1) == 0 && child_fd(o->err, err_w, 2) == 0)
    execv(argv[0], argv);
  int e = errno;
  (void)!write(exec_w, &e, sizeof(e));
  _exit(127);
}

/* A started child and what its parent reads from it. */
struct child {
  pid_t pid;
  int out_r, err_r; /* pipe read ends, or -1 */
};

/* Pipes, fork, exec: returns once the child runs ARGV, or with the
 * reason it could not. */
static int spawn_start(char *const argv[], const struct spawn_opts *o, struct child *ret,
                       oci_error **err)
{
  cleanup_close int out_r = -1, out_w = -1, err_r = -1, err_w = -1, exec_r = -1, exec_w = -1;
  int p[2];
  if (make_pipe(o->out, p, err) < 0)
    return -1;
  out_r = p[0], out_w = p[1];
  if (make_pipe(o->err, p, err) < 0)
    return -1;
  err_r = p[0], err_w = p[1];
  /* the child reports a failed execve here; a successful one closes it */
  if (pipe2(p, O_CLOEXEC) < 0)
    return oci_error_set(err, errno, "pipe");
  exec_r = p[0], exec_w = p[1];

  pid_t pid = fork();
  if (pid < 0)
    return oci_error_set(err, errno, "fork");
  if (pid == 0)
    child_exec(argv, o, out_w, err_w, exec_w);
  cleanup_pid pid_t child = pid; /* killed and reaped on an early return */
  close(steal_fd(&out_w));
  close(steal_fd(&err_w));
  close(steal_fd(&exec_w));
  int child_errno = 0;
  ssize_t n;
  while ((n = read(exec_r, &child_errno, sizeof(child_errno))) < 0 && errno == EINTR)
    ;
  if (n == (ssize_t)sizeof(child_errno))
    return oci_error_set(err, child_errno, "run '%s'", argv[0]);
  *ret = (struct child){
      .pid = steal_pid(&child), .out_r = steal_fd(&out_r), .err_r = steal_fd(&err_r)};
  return 0;
}

/* Read the child's output and pass signals on (SFD, or -1) until it exits;
 * returns its wait status. */
static void sink_init(struct sink *s, int fd, enum spawn_io mode, int echo_fd)
{
  bool tee = mode == SPAWN_TEE || mode == SPAWN_TEE_HOLD_LAST;
  s->fd = fd;
  s->echo_fd = tee ? echo_fd : -1;
  s->tail_only = tee;
  s->hold_last = mode == SPAWN_TEE_HOLD_LAST;
  s->buf = NULL;
  s->len = s->held_len = 0;
}

/* How long poll may sleep: forever, or until a held line is due. */
static int hold_timeout_ms(struct sink sinks[2], int dflt)
{
  int t = dflt;
  long long now = monotonic_ms();
  for (int i = 0; i < 2; i++) {
    if (sinks[i].held_len == 0)
      continue;
    long long left = sinks[i].held_at_ms + SPAWN_HOLD_MS - now;
    if (left <= 0) {
      sink_flush_held(&sinks[i]);
      continue;
    }
    if (t < 0 || left < t)
      t = (int)left;
  }
  return t;
}

static int spawn_wait(struct child *ch, const struct spawn_opts *o, int sfd, struct sink sinks[2])
{
  sink_init(&sinks[0], ch->out_r, o->out, 1);
  sink_init(&sinks[1], ch->err_r, o->err, 2);
  cleanup_close int pidfd = (int)pidfd_open(ch->pid, 0);
  int wstatus = 0;
  for (;;) {
    struct pollfd pfds[4] = {{.fd = pidfd, .events = POLLIN},
                             {.fd = sinks[0].fd, .events = POLLIN},
                             {.fd = sinks[1].fd, .events = POLLIN},
                             {.fd = sfd, .events = POLLIN}};
    /* without a pidfd (old kernel) fall back to a short poll + WNOHANG */
    int r = poll(pfds, 4, hold_timeout_ms(sinks, pidfd < 0 ? 50 : -1));
    if (r < 0 && errno != EINTR)
      break;
    for (int i = 0; i < 2; i++)
      if (sinks[i].fd >= 0 && (pfds[1 + i].revents & (POLLIN | POLLHUP | POLLERR)))
        sink_read(&sinks[i]);
    if (sfd >= 0 && (pfds[3].revents & POLLIN)) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        if (si.ssi_pid != 0 && (pid_t)si.ssi_pid != ch->pid)
          kill(ch->pid, (int)si.ssi_signo);
    }
    if (waitpid(ch->pid, &wstatus, WNOHANG) == ch->pid)
      break;
  }
  /* What the child wrote before it exited is in the pipes; a background
   * process that inherited them may keep writing: not ours to wait for. */
  for (int i = 0; i < 2; i++)
    if (sinks[i].fd >= 0) {
      sink_read(&sinks[i]);
      if (sinks[i].fd >= 0)
        close(sinks[i].fd);
    }
  return wstatus;
}

int spawn_run(char *const argv[], const struct spawn_opts *o, struct spawn_result *ret,
              oci_error **err)
{
  *ret = (struct spawn_result){0};
  /* blocked before the fork, so that none is lost before the wait reads
   * them; the child unblocks them (spawn_child_reset_signals) */
  sigset_t fwd, old;
  sigemptyset(&fwd);
  signals_add_forwarded(&fwd);
  cleanup_close int sfd = -1;
  if (o->forward_signals) {
    sigprocmask(SIG_BLOCK, &fwd, &old);
    sfd = signalfd(-1, &fwd, SFD_CLOEXEC | SFD_NONBLOCK);
  }
  struct child ch = {.pid = -1, .out_r = -1, .err_r = -1};
  int r = spawn_start(argv, o, &ch, err);
  if (r == 0) {
    struct sink sinks[2];
    int wstatus = spawn_wait(&ch, o, sfd, sinks);
    ret->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    ret->out = sinks[0].buf;
    ret->out_len = sinks[0].len;
    ret->err = sinks[1].buf;
    ret->err_len = sinks[1].len;
    if (sinks[1].held_len && (ret->held = malloc(sinks[1].held_len)) != NULL) {
      memcpy(ret->held, sinks[1].held, sinks[1].held_len);
      ret->held_len = sinks[1].held_len;
    } else
      sink_flush_held(&sinks[1]);
    sink_flush_held(&sinks[0]);
  }
  if (o->forward_signals)
    sigprocmask(SIG_SETMASK, &old, NULL);
  return r;
}
