/* SPDX-License-Identifier: Apache-2.0 */
#include "mount-fuse.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "cleanup.h"
#include "fs.h"
#include "mount-users.h"
#include "signals.h"

#define FUSE_SUPER_MAGIC 0x65735546L
#define FUSE_CONF "/etc/fuse.conf"
/* what fuse-overlayfs (xattr_permissions=2) reads an upper file's owner
 * and mode from */
#define OVERRIDE_STAT_XATTR "user.fuseoverlayfs.override_stat"
#define READY_TIMEOUT_MS 30000
#define EXIT_TIMEOUT_MS 10000

static const char *const tool_dirs[] = {"/usr/bin", "/bin", "/usr/local/bin", "/usr/sbin", "/sbin"};

static bool find_tool(const char *name, char *ret, size_t len)
{
  for (size_t i = 0; i < sizeof(tool_dirs) / sizeof(tool_dirs[0]); i++) {
    snprintf(ret, len, "%s/%s", tool_dirs[i], name);
    if (fs_is_executable_file(ret))
      return true;
  }
  ret[0] = '\0';
  return false;
}

/* fusermount3 mounts for a user only when it is setuid root. */
static bool setuid_root(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && st.st_uid == 0 && (st.st_mode & S_ISUID);
}

/* A line "user_allow_other" (blanks around it allowed), as fusermount3
 * reads it. */
static bool user_allow_other(void)
{
  cleanup_free char *text = NULL;
  cleanup_error oci_error *e = NULL;
  if (fs_read_file_at(AT_FDCWD, FUSE_CONF, 1 << 20, 0, &text, NULL, &e) != 0)
    return false;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    line += strspn(line, " \t");
    size_t n = strcspn(line, " \t\r");
    if (n == 16 && strncmp(line, "user_allow_other", 16) == 0 &&
        line[n + strspn(line + n, " \t\r")] == '\0')
      return true;
  }
  return false;
}

static void add_missing(char *buf, size_t len, const char *what)
{
  size_t used = strlen(buf);
  snprintf(buf + used, len - used, "%s%s", used ? "; " : "", what);
}

int bundle_fuse_probe(struct bundle_fuse_tools *t, oci_error **err)
{
  memset(t, 0, sizeof(*t));
  t->root = geteuid() == 0;
  char missing[640] = "";
  int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd >= 0)
    close(fd);
  else if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
    add_missing(missing, sizeof(missing), "no /dev/fuse (is the fuse module loaded?)");
  else
    add_missing(missing, sizeof(missing),
                errno == EACCES || errno == EPERM
                    ? "/dev/fuse is not open to this user (a stock Debian has it 0666)"
                    : "/dev/fuse cannot be opened");
  if (!find_tool("squashfuse_ll", t->squashfuse, sizeof(t->squashfuse)) &&
      !find_tool("squashfuse", t->squashfuse, sizeof(t->squashfuse)))
    add_missing(missing, sizeof(missing), "no squashfuse (Debian: apt-get install squashfuse)");
  if (!find_tool("fuse-overlayfs", t->overlayfs, sizeof(t->overlayfs)))
    add_missing(missing, sizeof(missing),
                "no fuse-overlayfs (Debian: apt-get install fuse-overlayfs)");
  if (!t->root) {
    if (!find_tool("fusermount3", t->fusermount, sizeof(t->fusermount)))
      add_missing(missing, sizeof(missing), "no fusermount3 (Debian: apt-get install fuse3)");
    else if (!setuid_root(t->fusermount))
      add_missing(missing, sizeof(missing), "fusermount3 is not setuid root");
  }
  if (missing[0] != '\0')
    return oci_error_set(err, 0, "--method fuse: %s", missing);
  t->allow_other = t->root || user_allow_other();
  return 0;
}

bool bundle_fuse_xattrs_ok(const char *dir_path)
{
  char v;
  return getxattr(dir_path, "user.sifoci-probe", &v, sizeof(v)) >= 0 || errno == ENODATA ||
         errno == ERANGE;
}

bool bundle_fuse_is_type(const char *type)
{
  return strncmp(type, "fuse.", 5) == 0;
}

static long long monotonic_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What a wait for a daemon watches: the mount table (POLLPRI on
 * /proc/self/mountinfo when it changes) and the daemon (its pidfd), so
 * that the wait ends the moment either moves instead of on a poll step. */
struct daemon_watch {
  int mountinfo_fd, pidfd;
  long long deadline_ms;
};

static void watch_open(struct daemon_watch *w, pid_t pid, int timeout_ms)
{
  w->mountinfo_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  w->pidfd = (int)pidfd_open(pid, 0);
  w->deadline_ms = monotonic_ms() + timeout_ms;
}

static void watch_close(struct daemon_watch *w)
{
  if (w->mountinfo_fd >= 0)
    close(w->mountinfo_fd);
  if (w->pidfd >= 0)
    close(w->pidfd);
}

/* Sleep until something moved or the deadline; false once it has passed.
 * Without one of the fds, steps of 2 ms stand in for it. */
static bool watch_wait(struct daemon_watch *w, bool want_mounts)
{
  long long left = w->deadline_ms - monotonic_ms();
  if (left <= 0)
    return false;
  bool blind = w->pidfd < 0 || (want_mounts && w->mountinfo_fd < 0);
  struct pollfd p[2] = {{.fd = w->pidfd, .events = POLLIN},
                        {.fd = want_mounts ? w->mountinfo_fd : -1, .events = POLLPRI}};
  if (poll(p, 2, blind && left > 2 ? 2 : (int)left) < 0 && errno != EINTR)
    return false;
  return true;
}

/* Field 22 of /proc/PID/stat (start time) and its state; false when the
 * process is gone. */
static bool proc_stat(pid_t pid, unsigned long long *ret_start, char *ret_state)
{
  char path[32], buf[1024];
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
  if (n <= 0)
    return false;
  buf[n] = '\0';
  char *p = strrchr(buf, ')'); /* the name may hold anything but ends there */
  unsigned long long start = 0;
  char state = '?';
  if (p == NULL || sscanf(p + 1,
                          " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
                          "%*s %*s %*s %llu",
                          &state, &start) != 2)
    return false;
  *ret_start = start;
  *ret_state = state;
  return true;
}

/* Is the recorded daemon still there (a zombie is not)? */
static bool daemon_alive(const struct bundle_record_mount *m)
{
  unsigned long long start;
  char state;
  return m->pid > 0 && proc_stat(m->pid, &start, &state) && start == m->pid_start && state != 'Z' &&
         state != 'X';
}

static bool wait_daemon_exit(const struct bundle_record_mount *m)
{
  if (!daemon_alive(m))
    return true;
  struct daemon_watch w;
  watch_open(&w, m->pid, EXIT_TIMEOUT_MS);
  /* the pidfd is of the recorded process only if it is still that one */
  bool gone;
  while (!(gone = !daemon_alive(m)) && watch_wait(&w, false))
    ;
  watch_close(&w);
  return gone;
}

/* The last line the daemon wrote to ERR_FD (a memfd), for the message. */
static void last_line(int err_fd, char *buf, size_t len)
{
  buf[0] = '\0';
  off_t size = lseek(err_fd, 0, SEEK_END);
  off_t from = size > (off_t)len - 1 ? size - (off_t)len + 1 : 0;
  ssize_t n = pread(err_fd, buf, len - 1, from);
  if (n <= 0)
    return;
  buf[n] = '\0';
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
    buf[--n] = '\0';
  char *nl = strrchr(buf, '\n');
  if (nl != NULL)
    memmove(buf, nl + 1, strlen(nl + 1) + 1);
}

/* ARGV as a daemon of its own session: stdin/stdout /dev/null, stderr into
 * ERR_FD; KEEP_FD (or -1) becomes its fd 3.  With RET_GO, it waits to be
 * told to exec by a byte on *RET_GO (the pipe's end is ours to write and
 * close), and never execs when we die first: no daemon whose PID is not
 * in the record. */
static pid_t start_daemon(char *const argv[], int keep_fd, int err_fd, int *ret_go)
{
  int go[2] = {-1, -1};
  if (ret_go != NULL && pipe2(go, O_CLOEXEC) < 0)
    return -1;
  pid_t pid = fork();
  if (pid != 0) {
    if (go[0] >= 0)
      close(go[0]);
    if (ret_go != NULL)
      *ret_go = go[1];
    if (pid < 0 && go[1] >= 0)
      close(go[1]);
    return pid;
  }
  if (ret_go != NULL) {
    char c = 0;
    ssize_t n;
    close(go[1]);
    while ((n = read(go[0], &c, 1)) < 0 && errno == EINTR)
      ;
    if (n != 1 || c != 'g')
      _exit(0);
  }
  signals_reset_for_exec();
  setsid();
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
      dup2(err_fd, STDERR_FILENO) < 0 ||
      (keep_fd >= 0 && (keep_fd == 3 ? fcntl(3, F_SETFD, 0) : dup2(keep_fd, 3)) < 0))
    _exit(127);
  execv(argv[0], argv);
  dprintf(STDERR_FILENO, "cannot run %s: %s\n", argv[0], strerror(errno));
  _exit(127);
}

/* Start ARGV and wait until TARGET under DIRFD is a FUSE mount; record the
 * daemon in M (and save the record). */
static int run_daemon(const struct bundle_fuse_mount_args *a, struct bundle_record_mount *m,
                      struct argv_builder *b, int keep_fd, oci_error **err)
{
  const char *name = strrchr(b->v[0], '/') + 1;
  cleanup_close int err_fd = memfd_create("fuse-daemon-stderr", MFD_CLOEXEC);
  if (err_fd < 0)
    return oci_error_set(err, errno, "memfd_create");
  cleanup_close int go = -1;
  pid_t pid = start_daemon(b->v, keep_fd, err_fd, &go);
  if (pid < 0)
    return oci_error_set(err, errno, "%s: fork", name);
  m->pid = (int)pid;
  char state;
  if (!proc_stat(pid, &m->pid_start, &state))
    m->pid_start = 0;
  if (bundle_record_save(a->dirfd, a->rec, err) < 0) {
    m->pid = 0;
    return oci_error_prefix(err, "writing the mount record"); /* closing GO ends it */
  }
  if (write(go, "g", 1) != 1)
    return oci_error_set(err, errno, "%s: starting it", name);
  struct daemon_watch w;
  watch_open(&w, pid, READY_TIMEOUT_MS);
  for (;;) {
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      watch_close(&w);
      char line[300];
      last_line(err_fd, line, sizeof(line));
      m->pid = 0;
      return oci_error_set(err, 0, "%s on '%s' failed: %s", name, m->target,
                           line[0] ? line : "it exited without a word");
    }
    bool is_mount = false;
    long fstype = 0;
    cleanup_error oci_error *e = NULL;
    if (fs_mount_state_at(a->dirfd, m->target, &is_mount, &fstype, NULL, &e) == 0 && is_mount &&
        fstype == FUSE_SUPER_MAGIC) {
      watch_close(&w);
      return 0;
    }
    if (!watch_wait(&w, true)) {
      watch_close(&w);
      kill(pid, SIGKILL);
      return oci_error_set(err, 0, "%s on '%s': no mount after %d s", name, m->target,
                           READY_TIMEOUT_MS / 1000);
    }
  }
}

static struct bundle_record_mount *add_mount(struct bundle_record *rec, const char *target,
                                             const char *type)
{
  struct bundle_record_mount *m = &rec->mounts[rec->n_mounts++];
  memset(m, 0, sizeof(*m));
  snprintf(m->target, sizeof(m->target), "%s", target);
  snprintf(m->type, sizeof(m->type), "%s", type);
  return m;
}

/* Where layer I is served: .image for an image of one layer. */
static void layer_target(const struct bundle_fuse_mount_args *a, size_t i, char *buf, size_t len)
{
  if (a->n_layers > 1)
    snprintf(buf, len, "%s/%u", BUNDLE_LAYERS_DIR, (unsigned)i % 1000);
  else
    snprintf(buf, len, ".image");
}

static int mount_squashfs(const struct bundle_fuse_mount_args *a, size_t i, oci_error **err)
{
  const char *name = strrchr(a->tools->squashfuse, '/') + 1;
  char type[32], target[16];
  snprintf(type, sizeof(type), "fuse.%s", name);
  layer_target(a, i, target, sizeof(target));
  struct bundle_record_mount *m = add_mount(a->rec, target, type);
  if (bundle_record_save(a->dirfd, a->rec, err) < 0)
    return oci_error_prefix(err, "writing the mount record");
  /* the image we checked, not whatever its path names by now */
  cleanup_argv struct argv_builder b = {0};
  argv_add(&b, a->tools->squashfuse);
  argv_add(&b, "-f");
  argv_add(&b, "-o");
  argv_addf(&b, "ro,nosuid,nodev,offset=%llu", (unsigned long long)a->offsets[i]);
  argv_add(&b, "/dev/fd/3");
  argv_addf(&b, "%s/%s", a->bundle_abs, target);
  if (argv_failed(&b))
    return oci_error_set(err, ENOMEM, "%s", name);
  return run_daemon(a, m, &b, a->image_fd, err);
}

/* "0:UID:1:1:SUB:N": image IDs (what squashfuse shows) onto host IDs. */
static void add_mapping(struct argv_builder *opts, const char *key, const struct idmap_range *r,
                        size_t n)
{
  char buf[128];
  size_t used = (size_t)snprintf(buf, sizeof(buf), ",%s=", key);
  for (size_t i = 0; i < n && used < sizeof(buf); i++)
    used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%u:%u:%u", i ? ":" : "",
                             r[i].inside, r[i].outside, r[i].count);
  argv_add(opts, buf);
}

static int mount_overlay(const struct bundle_fuse_mount_args *a, oci_error **err)
{
  const char *bd = a->bundle_abs;
  cleanup_free char *upper = NULL, *work = NULL;
  if (a->upper_base != NULL ? asprintf(&upper, "%s/upper", a->upper_base) < 0 ||
                                  asprintf(&work, "%s/work", a->upper_base) < 0
                            : asprintf(&upper, "%s/overlay/upper", bd) < 0 ||
                                  asprintf(&work, "%s/overlay/work", bd) < 0)
    return oci_error_set(err, ENOMEM, "fuse-overlayfs options");
  if (a->map != NULL) {
    /* The upper directory is the container's "/": its owner is the
     * image's root (0:0 before the mapping), not the user's own ID.  An
     * --overlay DIR used before keeps what it has. */
    char v[64];
    cleanup_close int up = open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (up < 0 || (fgetxattr(up, OVERRIDE_STAT_XATTR, v, sizeof(v)) < 0 &&
                   fsetxattr(up, OVERRIDE_STAT_XATTR, "0:0:755", 7, 0) < 0))
      return oci_error_set(err, errno, "setting the owner of '%s'%s", upper,
                           errno == ENOTSUP ? " (its file system takes no user xattrs, which "
                                              "fuse-overlayfs needs without root; use "
                                              "--method extract)"
                                            : "");
  }
  struct bundle_record_mount *m = add_mount(a->rec, "rootfs", BUNDLE_FUSE_OVERLAY_TYPE);
  if (bundle_record_save(a->dirfd, a->rec, err) < 0)
    return oci_error_prefix(err, "writing the mount record");
  /* The options as pieces, joined below. */
  cleanup_argv struct argv_builder o = {0};
  argv_addf(&o, "lowerdir=%s", a->lower_prefix != NULL ? a->lower_prefix : "");
  for (size_t i = a->n_layers; i-- > 0;) {
    char target[16];
    layer_target(a, i, target, sizeof(target));
    argv_addf(&o, "%s/%s%s", bd, target, i > 0 ? ":" : "");
  }
  argv_addf(&o, ",upperdir=%s,workdir=%s", upper, work);
  /* after fuse-overlayfs' own defaults, which for root include suid */
  argv_add(&o, ",nosuid,nodev");
  if (a->allow_other)
    argv_add(&o, ",allow_other");
  if (a->map != NULL) {
    add_mapping(&o, "uidmapping", a->map->uid, a->map->n_uid);
    add_mapping(&o, "gidmapping", a->map->gid, a->map->n_gid);
    argv_add(&o, ",xattr_permissions=2");
  }
  if (argv_failed(&o))
    return oci_error_set(err, ENOMEM, "fuse-overlayfs options");
  size_t len = 1;
  for (size_t i = 0; i < o.n; i++)
    len += strlen(o.v[i]);
  cleanup_free char *joined = calloc(1, len);
  if (joined == NULL)
    return oci_error_set(err, ENOMEM, "fuse-overlayfs options");
  for (size_t i = 0; i < o.n; i++)
    strcat(joined, o.v[i]);
  cleanup_argv struct argv_builder b = {0};
  argv_add(&b, a->tools->overlayfs);
  argv_add(&b, "-f");
  argv_add(&b, "-o");
  argv_add(&b, joined);
  argv_addf(&b, "%s/rootfs", bd);
  if (argv_failed(&b))
    return oci_error_set(err, ENOMEM, "fuse-overlayfs");
  return run_daemon(a, m, &b, -1, err);
}

int bundle_fuse_mount(const struct bundle_fuse_mount_args *a, oci_error **err)
{
  if (a->n_layers == 0 || a->rec->n_mounts + a->n_layers + 1 > BUNDLE_RECORD_MAX_MOUNTS)
    return oci_error_set(err, 0, "too many mounts in the record");
  for (size_t i = 0; i < a->n_layers; i++)
    if (mount_squashfs(a, i, err) < 0)
      return a->n_layers > 1 ? oci_error_prefix(err, "mounting layer %zu with FUSE", i)
                             : oci_error_prefix(err, "mounting the squashfs with FUSE");
  if (mount_overlay(a, err) < 0)
    return oci_error_prefix(err, "mounting the overlay with FUSE");
  return 0;
}

/* ---- unmounting */

struct mount_entry {
  bool found;
  dev_t dev;
  char fstype[64];
  long user_id; /* user_id= of the super options, -1 when absent */
};

/* mountinfo writes ' ', '\t', '\n' and '\\' as octal escapes. */
static void mountinfo_escape(const char *in, char *out, size_t len)
{
  size_t o = 0;
  for (; *in && o + 5 < len; in++) {
    if (*in == ' ' || *in == '\t' || *in == '\n' || *in == '\\')
      o += (size_t)snprintf(out + o, len - o, "\\%03o", (unsigned char)*in);
    else
      out[o++] = *in;
  }
  out[o] = '\0';
}

/* The topmost mount on PATH in our mount namespace. */
static int find_mount(const char *path, struct mount_entry *ret, oci_error **err)
{
  memset(ret, 0, sizeof(*ret));
  char want[PATH_MAX * 4];
  mountinfo_escape(path, want, sizeof(want));
  cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
  if (f == NULL)
    return oci_error_set(err, errno, "reading /proc/self/mountinfo");
  cleanup_free char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    unsigned maj, min;
    int mp_at = 0, mp_end = 0;
    if (sscanf(line, "%*s %*s %u:%u %*s %n%*s%n", &maj, &min, &mp_at, &mp_end) != 2 || mp_end == 0)
      continue;
    if ((size_t)(mp_end - mp_at) != strlen(want) || strncmp(line + mp_at, want, strlen(want)) != 0)
      continue;
    char *dash = strstr(line + mp_end, " - ");
    char fstype[64], super[1024] = "";
    if (dash == NULL || sscanf(dash + 3, "%63s %*s %1023s", fstype, super) < 1)
      continue;
    ret->found = true;
    ret->dev = makedev(maj, min);
    snprintf(ret->fstype, sizeof(ret->fstype), "%s", fstype);
    char *uid = strstr(super, "user_id=");
    ret->user_id = uid ? strtol(uid + 8, NULL, 10) : -1;
  }
  return 0;
}

/* fusermount3 -u PATH; its complaint in the error. */
static int fusermount_unmount(const char *path, oci_error **err)
{
  char tool[64];
  if (!find_tool("fusermount3", tool, sizeof(tool)))
    return oci_error_set(err, 0, "unmounting '%s': no fusermount3 (Debian: apt-get install fuse3)",
                         path);
  cleanup_close int err_fd = memfd_create("fusermount-stderr", MFD_CLOEXEC);
  if (err_fd < 0)
    return oci_error_set(err, errno, "memfd_create");
  char *const argv[] = {tool, "-u", "--", (char *)path, NULL};
  pid_t pid = start_daemon(argv, -1, err_fd, NULL);
  if (pid < 0)
    return oci_error_set(err, errno, "fork");
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 0;
  char line[300];
  last_line(err_fd, line, sizeof(line));
  return oci_error_set(err, strstr(line, "busy") ? EBUSY : 0, "fusermount3 -u: %s",
                       line[0] ? line : "failed");
}

/* A daemon with no mount yet: an oci mount killed while it was starting.
 * Wait for its mount (then unmount it) or its exit; one that does neither
 * is stopped. */
static int wait_started(const char *path, const struct bundle_record_mount *m,
                        struct mount_entry *e, oci_error **err)
{
  struct daemon_watch w;
  watch_open(&w, m->pid, EXIT_TIMEOUT_MS);
  int r = 0;
  while (!e->found && daemon_alive(m)) {
    if (!watch_wait(&w, true)) {
      kill(m->pid, SIGKILL);
      break;
    }
    if ((r = find_mount(path, e, err)) < 0)
      break;
  }
  watch_close(&w);
  return r < 0 ? -1 : 0;
}

int bundle_fuse_unmount(int dirfd, const struct bundle_record_mount *m, oci_error **err)
{
  /* Where the bundle is now (it may have been moved, mounts and all); the
   * directory we hold must be what that path names. */
  char self[32], dir[PATH_MAX];
  snprintf(self, sizeof(self), "/proc/self/fd/%d", dirfd);
  ssize_t n = readlink(self, dir, sizeof(dir) - 1);
  if (n <= 0)
    return oci_error_set(err, errno, "locating the bundle");
  dir[n] = '\0';
  struct stat held, named;
  if (fstat(dirfd, &held) < 0 || lstat(dir, &named) < 0 || held.st_dev != named.st_dev ||
      held.st_ino != named.st_ino)
    return oci_error_set(err, 0, "the bundle directory moved while unmounting");
  char path[PATH_MAX + 32];
  snprintf(path, sizeof(path), "%s/%s", dir, m->target);
  struct mount_entry e;
  if (find_mount(path, &e, err) < 0 || wait_started(path, m, &e, err) < 0)
    return -1;
  if (e.found) {
    if (strcmp(e.fstype, m->type) != 0)
      return oci_error_set(err, 0, "'%s' holds a mount that is not the %s oci mount made (%s)",
                           m->target, m->type, e.fstype);
    if (geteuid() != 0 && e.user_id != (long)getuid())
      return oci_error_set(err, 0, "'%s' is a FUSE mount of user %ld, not ours", m->target,
                           e.user_id);
    if (strcmp(m->type, BUNDLE_FUSE_OVERLAY_TYPE) == 0 &&
        bundle_refuse_foreign_mount(e.dev, m->target, err) < 0)
      return -1;
    int r = geteuid() == 0 ? fs_umount_at(dirfd, m->target, err) : fusermount_unmount(path, err);
    if (r < 0)
      return oci_error_replace(err, "unmounting '%s'%s", m->target,
                               oci_error_errnum(err ? *err : NULL) == EBUSY
                                   ? " (is a container or another process using the bundle?)"
                                   : "");
  }
  /* Until the overlay's daemon is gone it holds files of .image (or
   * .layers/N) open, and those cannot be unmounted. */
  if (!wait_daemon_exit(m) && strcmp(m->type, BUNDLE_FUSE_OVERLAY_TYPE) == 0)
    return oci_error_set(err, 0,
                         "the %s daemon (process %d) of '%s' did not exit after its unmount",
                         m->type + 5, m->pid, m->target);
  return 0;
}
