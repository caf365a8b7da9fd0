/* SPDX-License-Identifier: Apache-2.0 */
#include "state-dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "fs.h"
#include "proto.h"
#include "container-id.h"

#define SMALL_FILE_MAX (1 << 20)
#define CMDLINE_MAX 65536 /* the monitor's argv: a few paths */

static int check_id(const char *id, oci_error **err)
{
  if (!container_id_is_valid(id))
    return oci_error_set_kind(err, OCI_ERR_USAGE, 0,
                              "invalid container ID '%s' (allowed: [A-Za-z0-9][A-Za-z0-9_.-]*, "
                              "at most %d characters)",
                              id, CONTAINER_ID_MAX_LEN);
  return 0;
}

static struct ctr *ctr_new(const char *root, const char *id)
{
  struct ctr *c = calloc(1, sizeof(*c));
  if (c == NULL)
    return NULL;
  c->rootfd = c->dirfd = -1;
  c->root = strdup(root);
  c->id = strdup(id);
  if (c->root == NULL || c->id == NULL || asprintf(&c->dir, "%s/%s", root, id) < 0) {
    c->dir = NULL;
    ctr_free(c);
    return NULL;
  }
  return c;
}

void ctr_free(struct ctr *c)
{
  if (c->dirfd >= 0)
    close(c->dirfd);
  if (c->rootfd >= 0)
    close(c->rootfd);
  json_decref(c->state);
  free(c->damaged);
  free(c->root);
  free(c->id);
  free(c->dir);
  free(c);
}

char *ctr_path(const struct ctr *c, const char *name)
{
  char *p = NULL;
  if (asprintf(&p, "%s/%s", c->dir, name) < 0)
    return NULL;
  return p;
}

int ctr_read_file(const struct ctr *c, const char *name, char **ret_text, size_t *ret_len,
                  oci_error **err)
{
  int r = fs_read_file_at(c->dirfd, name, SMALL_FILE_MAX, 0, ret_text, ret_len, err);
  return r < 0 ? oci_error_prefix(err, "container '%s'", c->id) : r;
}

/* A JSON object file of the state dir: 1 with *ret, 0 when there is none. */
static int load_json(const struct ctr *c, const char *name, json_t **ret, oci_error **err)
{
  size_t len;
  cleanup_free char *text = NULL;
  int r = ctr_read_file(c, name, &text, &len, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  json_error_t jerr;
  json_t *j = json_loadb(text, len, 0, &jerr);
  if (!json_is_object(j)) {
    oci_error_set(err, 0, "container '%s': %s: %s", c->id, name, j ? "not an object" : jerr.text);
    json_decref(j);
    return -1;
  }
  *ret = j;
  return 1;
}

/* A state.json we cannot use is recorded, not fatal: such a container must
 * stay visible to list and removable by delete -f. */
static int load_state(struct ctr *c, oci_error **err)
{
  cleanup_error oci_error *e = NULL;
  if (load_json(c, "state.json", &c->state, &e) >= 0)
    return 0;
  c->state = NULL;
  if ((c->damaged = oci_error_format(e)) == NULL)
    return oci_error_set(err, ENOMEM, "container '%s'", c->id);
  /* the reason is shown after the ID: without "container 'ID': " */
  size_t skip = strlen("container '") + strlen(c->id) + strlen("': ");
  if (strncmp(c->damaged, "container '", 11) == 0 && strlen(c->damaged) > skip &&
      strncmp(c->damaged + 11, c->id, strlen(c->id)) == 0)
    memmove(c->damaged, c->damaged + skip, strlen(c->damaged + skip) + 1);
  return 0;
}

const char *ctr_state_str(const struct ctr *c, const char *key)
{
  return json_string_value(json_object_get(c->state, key));
}

static int flock_retry(int fd, int op)
{
  int r;
  while ((r = flock(fd, op)) < 0 && errno == EINTR)
    ;
  return r;
}

int ctr_lock(struct ctr *c, enum ctr_lock lock, oci_error **err)
{
  if (lock == CTR_LOCK_NONE)
    return 0;
  if (flock_retry(c->dirfd, lock == CTR_LOCK_SHARED ? LOCK_SH : LOCK_EX) < 0)
    return oci_error_set(err, errno, "container '%s': lock", c->id);
  /* The holder we waited for may have been a delete */
  if (ctr_is_removed(c))
    return ctr_not_found(err, c->id);
  return 0;
}

int ctr_not_found(oci_error **err, const char *id)
{
  return oci_error_set(err, 0, "container '%s' does not exist", id);
}

bool ctr_is_removed(const struct ctr *c)
{
  struct stat a, b;
  return fstat(c->dirfd, &a) < 0 || fstatat(c->rootfd, c->id, &b, AT_SYMLINK_NOFOLLOW) < 0 ||
         a.st_ino != b.st_ino || a.st_dev != b.st_dev;
}

int ctr_unlock(struct ctr *c)
{
  return flock_retry(c->dirfd, LOCK_UN);
}

bool ctr_is_locked(const struct ctr *c)
{
  /* a second open file description conflicts even within our process */
  cleanup_close int fd = openat(c->rootfd, c->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return false;
  if (flock(fd, LOCK_SH | LOCK_NB) < 0)
    return errno == EWOULDBLOCK;
  return false;
}

const char *ctr_default_root(void)
{
  static char buf[PATH_MAX];
  if (geteuid() == 0)
    return SIFOCI_DEFAULT_ROOT;
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  if (xdg != NULL && xdg[0] == '/' && strlen(xdg) < sizeof(buf) - 16)
    snprintf(buf, sizeof(buf), "%s/sifoci", xdg);
  else
    snprintf(buf, sizeof(buf), "/tmp/sifoci-%lu", (unsigned long)geteuid());
  return buf;
}

/* Can only ME or root rename or replace entries of the directory ST? Its
 * owner can; so can anyone it lets write, except in a sticky one (/tmp). */
static bool parent_is_safe(const struct stat *st, uid_t me)
{
  if (!S_ISDIR(st->st_mode))
    return false;
  if (st->st_uid == me)
    return true;
  return st->st_uid == 0 && ((st->st_mode & S_ISVTX) || !(st->st_mode & 0022));
}

/* For a user other than root, ROOT must be theirs alone: a directory (not
 * a symlink) they own, closed to others, in a directory only they or root
 * can change (their own, a root-owned one closed to others as an
 * administrator makes /run/sifoci-slurm, or a root-owned sticky one as
 * /tmp), so nobody else can swap it.  A ROOT that does not exist yet passes
 * (ctr_make makes it 0700).  -1 with *err. */
static int check_user_root(const char *root, oci_error **err)
{
  uid_t me = geteuid();
  if (me == 0)
    return 0;
  char parent[PATH_MAX];
  snprintf(parent, sizeof(parent), "%s", root);
  char *slash = strrchr(parent, '/');
  if (slash == NULL)
    return 0;
  if (slash == parent)
    slash[1] = '\0';
  else
    *slash = '\0';
  struct stat st;
  if (lstat(parent, &st) == 0 && !parent_is_safe(&st, me)) {
    if (S_ISDIR(st.st_mode) && st.st_uid == 0)
      return oci_error_set(err, 0,
                           "state root '%s': '%s' is open to others (mode %04o) and not sticky",
                           root, parent, (unsigned)(st.st_mode & 07777));
    return oci_error_set(err, 0,
                         "state root '%s': '%s' is %s owned by uid %lu, not by you (uid %lu)%s",
                         root, parent, S_ISLNK(st.st_mode) ? "a symbolic link" : "a directory",
                         (unsigned long)st.st_uid, (unsigned long)me,
                         getenv("XDG_RUNTIME_DIR") ? " (is XDG_RUNTIME_DIR someone else's?)" : "");
  }
  if (lstat(root, &st) < 0)
    return errno == ENOENT ? 0 : oci_error_set(err, errno, "state root '%s'", root);
  if (S_ISLNK(st.st_mode))
    return oci_error_set(err, 0, "state root '%s' is a symbolic link (refused)", root);
  if (!S_ISDIR(st.st_mode))
    return oci_error_set(err, 0, "state root '%s' is not a directory", root);
  if (st.st_uid != me)
    return oci_error_set(err, 0, "state root '%s' is owned by uid %lu, not by you (uid %lu)", root,
                         (unsigned long)st.st_uid, (unsigned long)me);
  if (st.st_mode & 0077)
    return oci_error_set(err, 0, "state root '%s' is open to others (mode %04o; make it 0700)",
                         root, (unsigned)(st.st_mode & 07777));
  return 0;
}

/* Is PATH (absolute) free of symbolic links, "." and ".."?  ROOT's own
 * spelling is what the ancestor check below walks. */
static bool path_is_canonical(const char *path, const char *canon)
{
  size_t n = strlen(path);
  while (n > 1 && path[n - 1] == '/')
    n--;
  return strlen(canon) == n && strncmp(path, canon, n) == 0;
}

int ctr_root_act_as_owner(const char *root, oci_error **err)
{
  if (geteuid() != 0)
    return 0;
  struct stat st;
  if (lstat(root, &st) < 0)
    return errno == ENOENT ? 0 : oci_error_set(err, errno, "state root '%s'", root);
  if (S_ISLNK(st.st_mode)) {
    struct stat target;
    if (stat(root, &target) == 0 && target.st_uid != 0)
      return oci_error_set(err, 0,
                           "state root '%s' is a symbolic link to a directory of uid %lu "
                           "(root does not follow it; give the directory itself)",
                           root, (unsigned long)target.st_uid);
    return 0; /* root's own link: root's business */
  }
  if (!S_ISDIR(st.st_mode) || st.st_uid == 0)
    return 0; /* not a directory: ctr_open says so */
  uid_t owner = st.st_uid;
  gid_t group = st.st_gid;
  /* The owner is who we become, so nobody else may choose which directory
   * the path reaches: no symbolic link in it, and every directory above it
   * changeable only by root or the owner. */
  char canon[PATH_MAX];
  if (realpath(root, canon) == NULL)
    return oci_error_set(err, errno, "state root '%s'", root);
  if (!path_is_canonical(root, canon))
    return oci_error_set(err, 0,
                         "state root '%s' belongs to uid %lu and its path is not canonical "
                         "(give root '%s')",
                         root, (unsigned long)owner, canon);
  for (char *slash = strchr(canon + 1, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
    *slash = '\0';
    struct stat up = {0};
    bool safe = lstat(canon, &up) == 0 && parent_is_safe(&up, owner);
    if (!safe)
      oci_error_set(err, 0,
                    "state root '%s' belongs to uid %lu, but '%s' above it is uid %lu's "
                    "(mode %04o): someone else could swap it",
                    root, (unsigned long)owner, canon, (unsigned long)up.st_uid,
                    (unsigned)(up.st_mode & 07777));
    *slash = '/';
    if (!safe)
      return -1;
  }
  struct stat top;
  if (lstat("/", &top) < 0 || !parent_is_safe(&top, owner))
    return oci_error_set(err, 0, "state root '%s': '/' is open to others", root);
  /* Become the owner: its passwd groups, else its directory's group alone */
  struct passwd *pw = getpwuid(owner);
  int r = pw != NULL ? initgroups(pw->pw_name, pw->pw_gid) : setgroups(1, &group);
  if (pw != NULL)
    group = pw->pw_gid;
  if (r < 0 || setgid(group) < 0 || setuid(owner) < 0)
    return oci_error_set(err, errno, "state root '%s': becoming its owner, uid %lu", root,
                         (unsigned long)owner);
  if (geteuid() != owner || setuid(0) == 0)
    return oci_error_set(err, 0, "state root '%s': could not drop root for uid %lu", root,
                         (unsigned long)owner);
  /* root's runtime dir is no hint for the owner's errors; and as an
   * ordinary process of the owner, its runtime may read our /proc */
  unsetenv("XDG_RUNTIME_DIR");
  prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
  return 0;
}

/* ROOT canonical and open: 0, or -errno (ENOENT when it does not exist). */
static int open_root(const char *root, char **ret_canon, int *ret_fd)
{
  char canon[PATH_MAX];
  if (realpath(root, canon) == NULL)
    return -errno;
  cleanup_close int fd = open(canon, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  if ((*ret_canon = strdup(canon)) == NULL)
    return -ENOMEM;
  *ret_fd = steal_fd(&fd);
  return 0;
}

/* A struct ctr for ROOT/ID with ROOT open (its dir not yet): what ctr_open
 * and ctr_make share.  On failure -errno of the root's open. */
static int ctr_new_at_root(const char *root, const char *id, struct ctr **ret)
{
  cleanup_free char *canon = NULL;
  int rootfd = -1;
  int r = open_root(root, &canon, &rootfd);
  if (r < 0)
    return r;
  struct ctr *c = ctr_new(canon, id);
  if (c == NULL) {
    close(rootfd);
    return -ENOMEM;
  }
  c->rootfd = rootfd;
  *ret = c;
  return 0;
}

static void sweep_stale_new_dirs(int rootfd);

int ctr_open(const char *root, const char *id, enum ctr_lock lock, struct ctr **ret,
             oci_error **err)
{
  if (check_id(id, err) < 0 || check_user_root(root, err) < 0)
    return -1;
  cleanup_ctr struct ctr *c = NULL;
  int r = ctr_new_at_root(root, id, &c);
  if (r == -ENOENT)
    return ctr_not_found(err, id);
  if (r < 0)
    return oci_error_set(err, -r, "state root '%s'", root);
  if (lock == CTR_LOCK_EXCLUSIVE) /* delete, start, ...: tidy up as we go */
    sweep_stale_new_dirs(c->rootfd);
  c->dirfd = openat(c->rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (c->dirfd < 0) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
      return ctr_not_found(err, id);
    return oci_error_set(err, errno, "container '%s'", id);
  }
  if (ctr_lock(c, lock, err) < 0 || load_state(c, err) < 0)
    return -1;
  *ret = steal_ptr(&c);
  return 0;
}

static int mkdir_p(const char *path, oci_error **err)
{
  char buf[PATH_MAX];
  if (strlen(path) >= sizeof(buf))
    return oci_error_set(err, ENAMETOOLONG, "state root '%s'", path);
  strcpy(buf, path);
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char saved = *p;
      *p = '\0';
      if (mkdir(buf, 0700) < 0 && errno != EEXIST)
        return oci_error_set(err, errno, "state root: mkdir '%s'", buf);
      *p = saved;
      if (saved == '\0')
        break;
    }
  }
  return 0;
}

#define NEW_DIR_PREFIX ".new-"

/* fs_dir_scan: remove ENTRY when it is a .new-PID-X or .gone-PID-ID of a
 * dead PID. */
static int sweep_one(int rootfd, const struct dirent *e, void *data, oci_error **err)
{
  bool gone = strncmp(e->d_name, CONTAINER_GONE_DIR_PREFIX, strlen(CONTAINER_GONE_DIR_PREFIX)) == 0;
  if (!gone && strncmp(e->d_name, NEW_DIR_PREFIX, strlen(NEW_DIR_PREFIX)) != 0)
    return 0;
  const char *digits = e->d_name + strlen(gone ? CONTAINER_GONE_DIR_PREFIX : NEW_DIR_PREFIX);
  char *end = NULL;
  errno = 0;
  long pid = strtol(digits, &end, 10);
  if (errno != 0 || end == digits || *end != '-' || pid <= 0 || pid > INT_MAX)
    return 0; /* not a name we make */
  if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
    return 0;
  if (!gone) {
    unlinkat(rootfd, e->d_name, AT_REMOVEDIR);
    return 0;
  }
  cleanup_error oci_error *ignored = NULL; /* (does not cross mounts) */
  fs_rm_rf_at(rootfd, e->d_name, &ignored);
  return 0;
}

/* A create killed between its mkdir and its rename leaves ROOT/.new-PID-X
 * behind, empty (nothing is written there before the rename); a monitor
 * killed while it removed its run-mode dir, ROOT/.gone-PID-ID.  Remove
 * those whose maker is gone; a live one's is never touched. */
static void sweep_stale_new_dirs(int rootfd)
{
  /* best effort: a root we cannot list fails the caller's own open next */
  cleanup_error oci_error *ignored = NULL;
  fs_dir_scan(rootfd, sweep_one, NULL, &ignored);
}

int ctr_make(const char *root, const char *id, struct ctr **ret, oci_error **err)
{
  if (check_id(id, err) < 0 || check_user_root(root, err) < 0 || mkdir_p(root, err) < 0 ||
      check_user_root(root, err) < 0)
    return -1;
  cleanup_ctr struct ctr *c = NULL;
  int r = ctr_new_at_root(root, id, &c);
  if (r < 0)
    return oci_error_set(err, -r, "state root '%s'", root);
  int rootfd = c->rootfd;
  const char *canon = c->root;
  /* Made under a temporary name and locked before it appears as ROOT/ID, so
   * nobody sees an unlocked half-made container.  The rename refuses to
   * replace: of two creates of one ID, one wins. */
  sweep_stale_new_dirs(rootfd);
  char tmp[64];
  unsigned long nonce = 0;
  if (getrandom(&nonce, sizeof(nonce), GRND_NONBLOCK) != sizeof(nonce))
    nonce = (unsigned long)time(NULL) ^ ((unsigned long)getpid() << 16);
  snprintf(tmp, sizeof(tmp), NEW_DIR_PREFIX "%ld-%lx", (long)getpid(), nonce);
  if (mkdirat(rootfd, tmp, 0700) < 0)
    return oci_error_set(err, errno, "state root '%s': mkdir", canon);
  c->dirfd = openat(rootfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (c->dirfd < 0 || flock_retry(c->dirfd, LOCK_EX) < 0) {
    int e = errno;
    unlinkat(rootfd, tmp, AT_REMOVEDIR);
    return oci_error_set(err, e, "state root '%s'", canon);
  }
  if (renameat2(rootfd, tmp, rootfd, id, RENAME_NOREPLACE) < 0) {
    int e = errno;
    unlinkat(rootfd, tmp, AT_REMOVEDIR);
    if (e == EEXIST)
      return oci_error_set(err, 0, "container '%s' already exists", id);
    return oci_error_set(err, e, "container '%s': rename into place", id);
  }
  *ret = steal_ptr(&c);
  return 0;
}

int ctr_write_state(struct ctr *c, json_t *state, oci_error **err)
{
  cleanup_free char *text = json_dumps(state, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  cleanup_free char *line = NULL;
  if (text == NULL || asprintf(&line, "%s\n", text) < 0)
    return oci_error_set(err, ENOMEM, "state.json");
  if (fs_write_file_at(c->dirfd, "state.json", line, strlen(line), 0600, 0, err) < 0)
    return oci_error_prefix(err, "container '%s'", c->id);
  json_decref(c->state);
  c->state = json_incref(state);
  return 0;
}

int ctr_read_exit(const struct ctr *c, struct ctr_exit *ret, oci_error **err)
{
  json_auto_t *j = NULL;
  int r = load_json(c, "exit.json", &j, err);
  if (r <= 0)
    return r;
  json_t *code = json_object_get(j, "exitCode");
  if (json_is_null(code)) {
    /* The monitor could not learn the status (the container was not its
     * child): it says so rather than inventing one, and so do we. */
    *ret = (struct ctr_exit){.exit_code = -1};
    const char *why = json_string_value(json_object_get(j, "error"));
    snprintf(ret->error, sizeof(ret->error), "%s", why ? why : "exit status unknown");
  } else if (!json_is_integer(code)) {
    return oci_error_set(err, 0, "container '%s': exit.json: no exitCode", c->id);
  } else {
    *ret = (struct ctr_exit){.exit_code = (int)json_integer_value(code)};
  }
  ret->signal = (int)json_integer_value(json_object_get(j, "signal"));
  json_t *oom = json_object_get(j, "oomKilled");
  ret->oom_killed = json_is_boolean(oom) ? json_is_true(oom) : -1;
  json_t *peak = json_object_get(j, "memoryPeak"), *cpu = json_object_get(j, "cpuTimeNs");
  ret->memory_peak = json_is_integer(peak) ? (long long)json_integer_value(peak) : -1;
  ret->cpu_time_ns = json_is_integer(cpu) ? (long long)json_integer_value(cpu) : -1;
  const char *at = json_string_value(json_object_get(j, "finishedAt"));
  snprintf(ret->finished_at, sizeof(ret->finished_at), "%s", at ? at : "");
  return 1;
}

struct monitor_args {
  const char *state_dir, *bundle; /* into buf; NULL when absent */
  char *buf;
};

/* PID's --state-dir and --bundle when it is an oci-monitor (argv[0]'s base
 * name); false otherwise (a zombie has no argv). */
static bool read_monitor_args(pid_t pid, struct monitor_args *m)
{
  char path[64];
  *m = (struct monitor_args){0};
  if (pid <= 0)
    return false;
  snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  /* on the heap: a pid's argv may be long, and this is called per container */
  if ((m->buf = malloc(CMDLINE_MAX)) == NULL)
    return false;
  char *buf = m->buf;
  size_t len = 0;
  ssize_t n;
  while (len < CMDLINE_MAX - 1 && (n = read(fd, buf + len, CMDLINE_MAX - 1 - len)) > 0)
    len += (size_t)n;
  buf[len] = '\0';
  const char *base = strrchr(buf, '/');
  if (len == 0 || strcmp(base ? base + 1 : buf, "oci-monitor") != 0)
    return false;
  /* argv: NUL-separated */
  for (const char *a = buf; a < buf + len; a += strlen(a) + 1) {
    const char *next = a + strlen(a) + 1;
    bool has_next = next < buf + len;
    if (strcmp(a, "--state-dir") == 0 && has_next)
      m->state_dir = next;
    else if (strncmp(a, "--state-dir=", 12) == 0)
      m->state_dir = a + 12;
    else if (strcmp(a, "--bundle") == 0 && has_next)
      m->bundle = next;
    else if (strncmp(a, "--bundle=", 9) == 0)
      m->bundle = a + 9;
  }
  return m->state_dir != NULL;
}

bool ctr_pid_is_monitor_of(pid_t pid, int dirfd, char **ret_bundle)
{
  struct monitor_args m;
  bool ok = read_monitor_args(pid, &m);
  struct stat a, b;
  if (ok && (stat(m.state_dir, &a) < 0 || fstat(dirfd, &b) < 0 || a.st_ino != b.st_ino ||
             a.st_dev != b.st_dev))
    ok = false;
  if (ok && ret_bundle)
    *ret_bundle = m.bundle ? strdup(m.bundle) : NULL;
  free(m.buf);
  return ok;
}

int ctr_find_monitors(const char *state_dir, pid_t *pids, int max)
{
  cleanup_dir DIR *proc = opendir("/proc");
  int n = 0;
  struct dirent *de;
  while (proc != NULL && n < max && (de = readdir(proc)) != NULL) {
    char *end;
    long pid = strtol(de->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || pid > INT_MAX || pid == getpid())
      continue;
    struct monitor_args m;
    if (read_monitor_args((pid_t)pid, &m) && strcmp(m.state_dir, state_dir) == 0)
      pids[n++] = (pid_t)pid;
    free(m.buf);
  }
  return n;
}

pid_t ctr_read_pid(const struct ctr *c, const char *name)
{
  cleanup_free char *text = NULL;
  cleanup_error oci_error *e = NULL;
  if (ctr_read_file(c, name, &text, NULL, &e) != 0)
    return 0; /* none, or unreadable: no pid we could trust */
  /* a decimal pid, and a newline at most: anything else is not ours */
  char *end;
  errno = 0;
  long pid = strtol(text, &end, 10);
  if (errno != 0 || end == text || (*end != '\0' && strcmp(end, "\n") != 0) || pid <= 0 ||
      pid > INT_MAX)
    return 0;
  return (pid_t)pid;
}

pid_t ctr_monitor_pid(const struct ctr *c)
{
  pid_t pid = ctr_read_pid(c, "monitor.pid");
  if (pid <= 0)
    pid = (pid_t)json_integer_value(json_object_get(c->state, "monitorPid"));
  return ctr_pid_is_monitor_of(pid, c->dirfd, NULL) ? pid : 0;
}

#define RUN_RETURNED "run-returned"

void ctr_note_run_returned(const struct ctr *c)
{
  int fd = openat(c->dirfd, RUN_RETURNED, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd >= 0)
    close(fd);
}

bool ctr_run_is_leaving(const struct ctr *c)
{
  struct stat st;
  if (!json_is_true(json_object_get(c->state, "runMode")) ||
      fstatat(c->dirfd, "exit.json", &st, AT_SYMLINK_NOFOLLOW) < 0)
    return false;
  /* its `oci run` said it returned, or went away (the socket goes with
   * the monitor's last client) */
  return fstatat(c->dirfd, RUN_RETURNED, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
         (fstatat(c->dirfd, "attach", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT);
}

bool ctr_runtime_has(const struct ctr *c)
{
  cleanup_close int fd =
      openat(c->dirfd, "runtime", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  return fd >= 0 && fstatat(fd, c->id, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

int ctr_remove(struct ctr *c, oci_error **err)
{
  /* nothing is mounted under a state dir; if something were, it stays */
  if (fs_rm_rf_at(c->rootfd, c->id, err) < 0)
    return oci_error_prefix(err, "container '%s': remove '%s'", c->id, c->dir);
  return 0;
}
