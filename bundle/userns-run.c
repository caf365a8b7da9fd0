/* SPDX-License-Identifier: Apache-2.0 */
#include "userns-run.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "argv.h"
#include "cleanup.h"
#include "fs.h"

#define ERROR_MSG_MAX 1024

static ssize_t read_full(int fd, void *buf, size_t len)
{
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(fd, (char *)buf + got, len - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n < 0 ? -1 : (ssize_t)got;
    got += (size_t)n;
  }
  return (ssize_t)got;
}

/* Child side: report ERR (or success) on FD and leave. */
static _Noreturn void child_exit(int fd, oci_error *e)
{
  if (e == NULL)
    _exit(0);
  int errnum = oci_error_errnum(e);
  /* the message without its strerror tail: the parent adds it back */
  const char *msg = e->msg ? e->msg : "failed";
  (void)fs_write_all(fd, &errnum, sizeof(errnum));
  (void)fs_write_all(fd, msg, strnlen(msg, ERROR_MSG_MAX));
  _exit(1);
}

static _Noreturn void child_main(int sync_fd, int go_fd, int err_fd, bool subids,
                                 bundle_userns_fn fn, void *data)
{
  oci_error *e = NULL;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (unshare(CLONE_NEWUSER) < 0) {
    oci_error_set(&e, errno, "creating a user namespace");
    child_exit(err_fd, e);
  }
  char c = 'u';
  (void)fs_write_all(sync_fd, &c, 1);
  if (read_full(go_fd, &c, 1) != 1 || c != 'g')
    _exit(1); /* the parent failed and says why */
  if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0 || (subids && setgroups(0, NULL) < 0)) {
    oci_error_set(&e, errno, "becoming root in the user namespace");
    child_exit(err_fd, e);
  }
  fn(data, &e);
  child_exit(err_fd, e);
}

static int run_helper(const char *dir, const char *name, pid_t pid, const struct idmap_range *r,
                      size_t n, oci_error **err)
{
  cleanup_argv struct argv_builder b = {0};
  argv_addf(&b, "%s/%s", dir, name);
  argv_addf(&b, "%ld", (long)pid);
  for (size_t i = 0; i < n; i++) {
    argv_addf(&b, "%u", r[i].inside);
    argv_addf(&b, "%u", r[i].outside);
    argv_addf(&b, "%u", r[i].count);
  }
  if (argv_failed(&b))
    return oci_error_set(err, ENOMEM, "%s", name);
  pid_t h = fork();
  if (h < 0)
    return oci_error_set(err, errno, "%s: fork", name);
  if (h == 0) {
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0)
      dup2(null, STDOUT_FILENO); /* stderr stays: its one line explains a refusal */
    execv(b.v[0], b.v);
    _exit(127);
  }
  int status = 0;
  while (waitpid(h, &status, 0) < 0 && errno == EINTR)
    ;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    cleanup_free char *line = argv_join(&b);
    return oci_error_set(err, 0, "'%s' failed (are the ranges in /etc/sub%cid this user's?)",
                         line ? line : name, name[3] == 'u' ? 'u' : 'g');
  }
  return 0;
}

static int write_proc(pid_t pid, const char *name, const char *text, oci_error **err)
{
  char path[64];
  snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, name);
  cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
    return oci_error_set(err, errno, "writing '%s'", path);
  return 0;
}

static int write_maps(const struct idmap *m, pid_t pid, oci_error **err)
{
  if (idmap_has_subids(m)) {
    const char *dir = NULL;
    if (!idmap_helpers_found(&dir))
      return oci_error_set(err, 0,
                           "this user has subordinate IDs but newuidmap/newgidmap are not "
                           "installed (Debian: apt-get install uidmap)");
    return run_helper(dir, "newuidmap", pid, m->uid, m->n_uid, err) < 0 ||
                   run_helper(dir, "newgidmap", pid, m->gid, m->n_gid, err) < 0
               ? -1
               : 0;
  }
  char line[64];
  snprintf(line, sizeof(line), "0 %u 1\n", m->uid[0].outside);
  if (write_proc(pid, "uid_map", line, err) < 0 || write_proc(pid, "setgroups", "deny", err) < 0)
    return -1;
  snprintf(line, sizeof(line), "0 %u 1\n", m->gid[0].outside);
  return write_proc(pid, "gid_map", line, err);
}

int bundle_userns_run(const struct idmap *m, bundle_userns_fn fn, void *data, oci_error **err)
{
  if (m == NULL)
    return fn(data, err);
  int sync[2], go[2], report[2];
  if (pipe2(sync, O_CLOEXEC) < 0)
    return oci_error_set(err, errno, "pipe");
  if (pipe2(go, O_CLOEXEC) < 0) {
    close(sync[0]), close(sync[1]);
    return oci_error_set(err, errno, "pipe");
  }
  if (pipe2(report, O_CLOEXEC) < 0) {
    close(sync[0]), close(sync[1]), close(go[0]), close(go[1]);
    return oci_error_set(err, errno, "pipe");
  }
  fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    close(sync[0]), close(go[1]), close(report[0]);
    child_main(sync[1], go[0], report[1], idmap_has_subids(m), fn, data);
  }
  close(sync[1]), close(go[0]), close(report[1]);
  cleanup_close int sync_fd = sync[0], go_fd = go[1], report_fd = report[0];
  if (pid < 0)
    return oci_error_set(err, errno, "fork");
  char c = 0;
  int r = 0;
  if (read_full(sync_fd, &c, 1) == 1 && c == 'u') {
    r = write_maps(m, pid, err);
    c = r < 0 ? 'x' : 'g';
    (void)fs_write_all(go_fd, &c, 1);
  }
  close(go_fd);
  go_fd = -1;
  int errnum = 0;
  char msg[ERROR_MSG_MAX + 1];
  ssize_t got = read_full(report_fd, &errnum, sizeof(errnum));
  ssize_t len = got == (ssize_t)sizeof(errnum) ? read_full(report_fd, msg, ERROR_MSG_MAX) : 0;
  msg[len > 0 ? len : 0] = '\0';
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (r < 0)
    return -1;
  if (len > 0)
    return oci_error_set(err, errnum, "%s", msg);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return oci_error_set(err, 0, "the user-namespace helper process %s",
                         WIFSIGNALED(status) ? "was killed" : "failed");
  return 0;
}
