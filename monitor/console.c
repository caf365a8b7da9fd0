/* SPDX-License-Identifier: Apache-2.0 */
/* Terminal mode's console socket (console.h). */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "errors.h"
#include "files.h"
#include "watch.h"

#define SOCK_NAME "console.sock"
#define MAX_FDS 4

struct MonConsole {
  MonNotes *notes;
  MonConsoleEvents ev;
  gpointer user_data;
  int fd;   /* listening */
  int conn; /* the runtime's connection */
  char *dir;
  GSource *src, *conn_src;
  gboolean got; /* the pty came */
};

MonConsole *mon_console_new(MonNotes *notes, const MonConsoleEvents *events, gpointer user_data)
{
  MonConsole *c = g_new0(MonConsole, 1);
  c->notes = notes;
  c->ev = *events;
  c->user_data = user_data;
  c->fd = c->conn = -1;
  return c;
}

void mon_console_free(MonConsole *c)
{
  if (c == NULL)
    return;
  mon_console_close(c);
  g_free(c);
}

static gboolean on_console_event(gpointer data, GIOCondition cond)
{
  MonConsole *c = data;
  g_autoptr(GError) error = NULL;
  if (!mon_console_try_receive(c, &error)) {
    mon_note(c->notes, "%s", error->message);
    mon_console_close(c); /* create then fails with "no terminal" */
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

gboolean mon_console_listen(MonConsole *c, char **ret_path, GError **error)
{
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  c->dir = make_dir();
  if (c->dir == NULL)
    return mon_set_error_errno(error, errno, "console socket dir");
  g_autofree char *path = g_build_filename(c->dir, SOCK_NAME, NULL);
  g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
  c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(c->fd, 1) < 0)
    return mon_set_error_errno(error, errno, "console socket '%s'", path);
  c->src = mon_watch_new(c->fd, G_IO_IN, on_console_event, c);
  *ret_path = g_steal_pointer(&path);
  return TRUE;
}

void mon_console_close(MonConsole *c)
{
  mon_watch_destroy(&c->src);
  mon_watch_destroy(&c->conn_src);
  mon_close(&c->conn);
  mon_close(&c->fd);
  if (c->dir) {
    g_autofree char *path = g_build_filename(c->dir, SOCK_NAME, NULL);
    unlink(path);
    rmdir(c->dir);
    g_clear_pointer(&c->dir, g_free);
  }
}

/* Receives the fd if it is there.  TRUE: got it or not yet; FALSE: the
 * runtime hung up or sent garbage. */
static gboolean receive(MonConsole *c, GError **error)
{
  char name[4096];
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
  } ctl;
  struct iovec iov = {.iov_base = name, .iov_len = sizeof(name) - 1};
  struct msghdr msg = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)};
  ssize_t n = recvmsg(c->conn, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return TRUE;
  if (n < 0)
    return mon_set_error_errno(error, errno, "console socket");
  int master = -1;
  for (struct cmsghdr *h = CMSG_FIRSTHDR(&msg); h; h = CMSG_NXTHDR(&msg, h)) {
    if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
      continue;
    size_t nfds = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < nfds; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
      if (master < 0)
        master = fd;
      else
        close(fd);
    }
  }
  if (master < 0)
    return mon_set_error(error, "console socket: the runtime sent no terminal");
  if (!isatty(master)) {
    close(master);
    mon_set_error(error, "console socket: the runtime sent an fd that is no terminal");
    return FALSE;
  }
  mon_console_close(c);
  c->got = TRUE;
  c->ev.on_pty(master, c->user_data);
  return TRUE;
}

gboolean mon_console_try_receive(MonConsole *c, GError **error)
{
  if (c->got)
    return TRUE;
  if (c->conn < 0 && c->fd >= 0) {
    c->conn = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c->conn < 0)
      return TRUE; /* not yet */
    /* One connection only. */
    mon_watch_destroy(&c->src);
    mon_close(&c->fd);
    c->conn_src = mon_watch_new(c->conn, G_IO_IN, on_console_event, c);
  }
  if (c->conn < 0)
    return TRUE;
  return receive(c, error);
}
