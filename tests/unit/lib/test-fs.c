/* SPDX-License-Identifier: Apache-2.0 */
/* lib/fs: atomic writes, checked reads, directory scans, and an rm -rf
 * that has no depth limit and never crosses a mount.  The mount checks need
 * root: they run in a private mount namespace, so nothing they mount can
 * outlive the test. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "tap.h"

static char base[64];

static int open_dir(const char *path)
{
  return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static bool exists_at(int dirfd, const char *name)
{
  struct stat st;
  return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void test_write_read(int dirfd)
{
  oci_error *e = NULL;
  TAP_IS_INT(fs_write_file_at(dirfd, "a.json", "one\n", 4, 0640, 0, &e), 0, "write a new file");
  struct stat st;
  TAP_OK(fstatat(dirfd, "a.json", &st, 0) == 0 && (st.st_mode & 07777) == 0640,
         "written with exactly the mode asked for");
  TAP_OK(!exists_at(dirfd, ".a.json.tmp"), "no temporary file left");
  TAP_IS_INT(fs_write_file_at(dirfd, "a.json", "two\n", 4, 0600, 0, &e), 0, "replace it");
  TAP_IS_INT(fs_write_file_at(dirfd, "a.json", "three\n", 6, 0600, FS_WRITE_EXCLUSIVE, &e), -1,
             "exclusive write refuses an existing name");
  TAP_IS_INT(oci_error_errnum(e), EEXIST, "... with EEXIST");
  oci_error_free(&e);
  TAP_IS_INT(fs_write_file_at(dirfd, "b.json", "durable", 7, 0600, FS_WRITE_DURABLE, &e), 0,
             "durable write");

  char *text = NULL;
  size_t len = 0;
  TAP_IS_INT(fs_read_file_at(dirfd, "a.json", 100, 0, &text, &len, &e), 0, "read it back");
  TAP_IS_STR(text, "two\n", "the replaced content, NUL-terminated");
  TAP_IS_INT(len, 4, "its length");
  free(text);
  text = NULL;
  TAP_IS_INT(fs_read_file_at(dirfd, "missing", 100, 0, &text, &len, &e), 1, "missing: 1");
  TAP_IS_INT(fs_read_file_at(dirfd, "a.json", 3, 0, &text, &len, &e), -1, "larger than max");
  oci_error_free(&e);
  TAP_OK(symlinkat("a.json", dirfd, "link") == 0, "make a symlink");
  TAP_IS_INT(fs_read_file_at(dirfd, "link", 100, 0, &text, &len, &e), -1,
             "a symlink is not followed");
  oci_error_free(&e);
  TAP_OK(mkfifoat(dirfd, "fifo", 0600) == 0, "make a FIFO");
  TAP_IS_INT(fs_read_file_at(dirfd, "fifo", 100, 0, &text, &len, &e), -1,
             "a FIFO is refused, without blocking");
  oci_error_free(&e);
  if (geteuid() == 0) {
    TAP_OK(fchownat(dirfd, "a.json", 1000, 1000, 0) == 0, "give the file to another user");
    TAP_IS_INT(fs_read_file_at(dirfd, "a.json", 100, FS_READ_ROOT_OWNED, &text, &len, &e), -1,
               "ROOT_OWNED refuses a file root does not own");
    oci_error_free(&e);
  }
}

struct names {
  int count;
  bool saw_a;
};

static int count_entry(int dirfd, const struct dirent *entry, void *data, oci_error **err)
{
  struct names *n = data;
  n->count++;
  if (strcmp(entry->d_name, "a.json") == 0)
    n->saw_a = true;
  return 0;
}

static int fail_entry(int dirfd, const struct dirent *entry, void *data, oci_error **err)
{
  return oci_error_set(err, 0, "stop at '%s'", entry->d_name);
}

static void test_scan(int dirfd)
{
  struct names n = {0};
  oci_error *e = NULL;
  TAP_IS_INT(fs_dir_scan(dirfd, count_entry, &n, &e), 0, "scan the directory");
  TAP_IS_INT(n.count, 5, "every entry but . and .. (a.json b.json link fifo sub)");
  TAP_OK(n.saw_a, "a.json among them");
  TAP_IS_INT(fs_dir_scan(dirfd, fail_entry, NULL, &e), -1, "a callback's error stops the scan");
  TAP_OK(e && strncmp(e->msg, "stop at", 7) == 0, "... and is the scan's error");
  oci_error_free(&e);
  bool empty = true;
  TAP_IS_INT(fs_dir_is_empty(dirfd, &empty, &e), 0, "is it empty?");
  TAP_OK(!empty, "not empty");
}

/* A chain of DEPTH directories, each with a file, under NAME. */
static int make_deep(int dirfd, const char *name, int depth)
{
  if (mkdirat(dirfd, name, 0700) < 0)
    return -1;
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  for (int i = 0; fd >= 0 && i < depth; i++) {
    int f = openat(fd, "file", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (f >= 0)
      close(f);
    if (mkdirat(fd, "d", 0700) < 0) {
      close(fd);
      return -1;
    }
    int next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    close(fd);
    fd = next;
  }
  if (fd < 0)
    return -1;
  close(fd);
  return 0;
}

static void test_rm_rf(int dirfd)
{
  oci_error *e = NULL;
  TAP_IS_INT(fs_rm_rf_at(dirfd, "nothing-here", &e), 0, "removing what is not there is fine");
  TAP_IS_INT(fs_rm_rf_at(dirfd, "a.json", &e), 0, "a file");
  TAP_OK(!exists_at(dirfd, "a.json"), "... is gone");
  /* deeper than any fixed limit a recursion would set, and than fds */
  TAP_IS_INT(make_deep(dirfd, "deep", 3000), 0, "a tree 3000 directories deep");
  TAP_IS_INT(fs_rm_rf_at(dirfd, "deep", &e), 0, "removed whole");
  if (e)
    printf("#   %s\n", e->msg);
  oci_error_free(&e);
  TAP_OK(!exists_at(dirfd, "deep"), "... nothing of it left");
  TAP_OK(mkdirat(dirfd, "keep", 0700) == 0 && mkdirat(dirfd, "tree", 0700) == 0,
         "a tree with a symlink to a directory outside it");
  TAP_OK(symlinkat("../keep", dirfd, "tree/out") == 0, "the symlink");
  TAP_IS_INT(fs_rm_rf_at(dirfd, "tree", &e), 0, "removed");
  TAP_OK(!exists_at(dirfd, "tree") && exists_at(dirfd, "keep"),
         "the link's target is untouched: symlinks are removed, not followed");
}

static void test_rm_rf_mount(void)
{
  if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0 ||
      mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0) {
    printf("ok %d - # SKIP rm -rf across a mount: needs root and a mount namespace\n", ++tap_n);
    return;
  }
  /* opened in the new namespace: an fd from before would walk the old
   * one's mounts */
  cleanup_close int dirfd = open_dir(base);
  oci_error *e = NULL;
  TAP_OK(mkdirat(dirfd, "bundle", 0700) == 0 && mkdirat(dirfd, "bundle/upper", 0700) == 0 &&
             mkdirat(dirfd, "bundle/upper/data", 0700) == 0,
         "a bundle with a directory to mount on");
  char target[128];
  snprintf(target, sizeof(target), "%s/bundle/upper/data", base);
  TAP_OK(mount("tmpfs", target, "tmpfs", 0, "size=1m") == 0, "a tmpfs mounted in the tree");
  char precious[160];
  snprintf(precious, sizeof(precious), "%s/precious", target);
  int f = open(precious, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  TAP_OK(f >= 0, "a file on the mount");
  if (f >= 0)
    close(f);
  TAP_IS_INT(fs_rm_rf_at(dirfd, "bundle", &e), -1, "rm -rf refuses to cross the mount");
  TAP_IS_INT(oci_error_errnum(e), EBUSY, "... with EBUSY");
  TAP_OK(e && strstr(e->msg, "bundle/upper/data") != NULL, "... naming the mounted path");
  oci_error_free(&e);
  TAP_OK(access(precious, F_OK) == 0, "the file on the mount is still there");
  TAP_IS_INT(fs_rm_rf_at(dirfd, "bundle/upper/data", &e), -1,
             "rm -rf of the mount point itself is refused too");
  oci_error_free(&e);
  bool is_mount = false;
  long fstype = 0;
  TAP_IS_INT(fs_mount_state_at(dirfd, "bundle/upper/data", &is_mount, &fstype, NULL, &e), 0,
             "mount state");
  TAP_OK(is_mount, "... is a mount");
  TAP_IS_INT(fs_umount_at(dirfd, "bundle/upper/data", &e), 0, "unmount through the dirfd");
  TAP_IS_INT(fs_rm_rf_at(dirfd, "bundle", &e), 0, "then the tree goes");
  TAP_OK(!exists_at(dirfd, "bundle"), "... all of it");
}

int main(void)
{
  snprintf(base, sizeof(base), "/tmp/sifoci-test-fs-XXXXXX");
  if (mkdtemp(base) == NULL) {
    printf("Bail out! mkdtemp: %s\n", strerror(errno));
    return 1;
  }
  cleanup_close int dirfd = open_dir(base);
  TAP_OK(mkdirat(dirfd, "sub", 0700) == 0, "set up");
  test_write_read(dirfd);
  test_scan(dirfd);
  test_rm_rf(dirfd);
  test_rm_rf_mount();
  /* the test's own directory, by the code under test */
  cleanup_close int tmpfd = open_dir("/tmp");
  oci_error *e = NULL;
  TAP_IS_INT(fs_rm_rf_at(tmpfd, base + strlen("/tmp/"), &e), 0, "clean up");
  oci_error_free(&e);
  return tap_done();
}
