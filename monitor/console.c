/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Terminal mode: the console socket.  The runtime connects once and sends
 * the pty master as SCM_RIGHTS (the payload is the pty's name).  The socket
 * lives in a private mkdtemp() dir that goes away as soon as the fd is here.
 */
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define SOCK_NAME "console.sock"
#define MAX_FDS 4

static gboolean on_console_event(gpointer data, GIOCondition cond)
{
  MonState *m = data;
  g_autoptr(GError) error = NULL;
  if (!mon_console_try_receive(m, &error)) {
    mon_note(m->notes, "%s", error->message);
    mon_console_cleanup(m); /* create then fails with "no terminal" */
  }
  return G_SOURCE_CONTINUE;
}

static char *make_dir(void)
{
  g_autofree char *tmpl = g_build_filename(g_get_tmp_dir(), "sifoci-console-XXXXXX", NULL);
  struct sockaddr_un sa;
  if (strlen(tmpl) + 1 + strlen(SOCK_NAME) >= sizeof(sa.sun_path)) {
    g_free(tmpl);
    tmpl = g_strdup("/tmp/sifoci-console-XXXXXX");
  }
  if (mkdtemp(tmpl) == NULL)
    return NULL;
  return g_steal_pointer(&tmpl);
}

gboolean mon_console_listen(MonState *m, char **ret_path, GError **error)
{
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  m->console_dir = make_dir();
  if (m->console_dir == NULL) {
    mon_set_error_errno(error, errno, "console socket dir");
    return FALSE;
  }
  g_autofree char *path = g_build_filename(m->console_dir, SOCK_NAME, NULL);
  g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
  m->console_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (m->console_fd < 0 || bind(m->console_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
      listen(m->console_fd, 1) < 0) {
    mon_set_error_errno(error, errno, "console socket '%s'", path);
    return FALSE;
  }
  m->console_src = mon_watch_new(m->console_fd, G_IO_IN, on_console_event, m);
  *ret_path = g_steal_pointer(&path);
  return TRUE;
}

void mon_console_cleanup(MonState *m)
{
  mon_watch_destroy(&m->console_src);
  mon_watch_destroy(&m->console_conn_src);
  mon_close(&m->console_conn);
  mon_close(&m->console_fd);
  if (m->console_dir) {
    g_autofree char *path = g_build_filename(m->console_dir, SOCK_NAME, NULL);
    unlink(path);
    rmdir(m->console_dir);
    g_clear_pointer(&m->console_dir, g_free);
  }
}

/* Receives the fd if it is there.  TRUE: got it or not yet; FALSE: the
 * runtime hung up or sent garbage. */
static gboolean receive(MonState *m, GError **error)
{
  char name[4096];
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
  } ctl;
  struct iovec iov = {.iov_base = name, .iov_len = sizeof(name) - 1};
  struct msghdr msg = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)};
  ssize_t n = recvmsg(m->console_conn, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return TRUE;
  if (n < 0) {
    mon_set_error_errno(error, errno, "console socket");
    return FALSE;
  }
  int master = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
      continue;
    size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < nfds; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      if (master < 0)
        master = fd;
      else
        close(fd);
    }
  }
  if (master < 0) {
    mon_set_error(error, "console socket: the runtime sent no terminal");
    return FALSE;
  }
  if (!isatty(master)) {
    close(master);
    mon_set_error(error, "console socket: the runtime sent an fd that is no terminal");
    return FALSE;
  }
  mon_console_cleanup(m);
  mon_got_pty(m, master);
  return TRUE;
}

gboolean mon_console_try_receive(MonState *m, GError **error)
{
  if (m->have_pty)
    return TRUE;
  if (m->console_conn < 0 && m->console_fd >= 0) {
    m->console_conn = accept4(m->console_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (m->console_conn < 0)
      return TRUE; /* not yet */
    /* One connection only. */
    mon_watch_destroy(&m->console_src);
    mon_close(&m->console_fd);
    m->console_conn_src = mon_watch_new(m->console_conn, G_IO_IN, on_console_event, m);
  }
  if (m->console_conn < 0)
    return TRUE;
  return receive(m, error);
}
