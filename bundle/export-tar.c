/* SPDX-License-Identifier: Apache-2.0 */
#include "export-tar.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"

/* ustar field offsets and widths (POSIX.1-2001, pax "ustar Interchange
 * Format") */
enum {
  NAME_OFF = 0,
  NAME_LEN = 100,
  MODE_OFF = 100,
  UID_OFF = 108,
  GID_OFF = 116,
  ID_LEN = 8,
  SIZE_OFF = 124,
  MTIME_OFF = 136,
  NUM12_LEN = 12,
  CHKSUM_OFF = 148,
  TYPE_OFF = 156,
  LINK_OFF = 157,
  MAGIC_OFF = 257,
  VERSION_OFF = 263,
  DEVMAJOR_OFF = 329,
  DEVMINOR_OFF = 337,
};

#define MAX_OCTAL8 07777777ull
#define MAX_OCTAL12 077777777777ull
/* The PAX header's own name; what readers show for it does not matter. */
#define PAX_NAME "././@PaxHeader"

/* A zero-timeout look at the signalfd, not a wait: the writing goes on
 * until a signal is there. */
static int check_stop(const struct bundle_tar *t, oci_error **err)
{
  struct signalfd_siginfo si;
  if (t->stop_fd >= 0 && read(t->stop_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
    return oci_error_set_kind(err, OCI_ERR_INTERRUPTED, 0, "interrupted by SIG%s",
                              sigabbrev_np((int)si.ssi_signo) ?: "?");
  return 0;
}

static int flush(struct bundle_tar *t, oci_error **err)
{
  if (check_stop(t, err) < 0)
    return -1;
  if (t->used == 0)
    return 0;
  if (fs_write_all(t->fd, t->buf, t->used) < 0)
    return oci_error_set(err, errno, "writing the tar");
  t->used = 0;
  return 0;
}

static int put(struct bundle_tar *t, const void *data, size_t len, oci_error **err)
{
  const unsigned char *p = data;
  sha256_update(&t->sha, p, len);
  t->written += len;
  while (len > 0) {
    size_t n = BUNDLE_TAR_BUFFER - t->used;
    if (n > len)
      n = len;
    memcpy(t->buf + t->used, p, n);
    t->used += n, p += n, len -= n;
    if (t->used == BUNDLE_TAR_BUFFER && flush(t, err) < 0)
      return -1;
  }
  return 0;
}

static int pad(struct bundle_tar *t, uint64_t size, oci_error **err)
{
  static const unsigned char zeros[BUNDLE_TAR_BLOCK];
  size_t rest = (size_t)(size % BUNDLE_TAR_BLOCK);
  return rest ? put(t, zeros, BUNDLE_TAR_BLOCK - rest, err) : 0;
}

int bundle_tar_init(struct bundle_tar *t, int fd, int stop_fd, oci_error **err)
{
  memset(t, 0, sizeof(*t));
  t->fd = fd;
  t->stop_fd = stop_fd;
  sha256_init(&t->sha);
  t->buf = malloc(BUNDLE_TAR_BUFFER);
  if (t->buf == NULL)
    return oci_error_set(err, ENOMEM, "writing the tar");
  return 0;
}

void bundle_tar_clear(struct bundle_tar *t)
{
  free(t->buf);
  t->buf = NULL;
}

/* VALUE in octal, zero-padded, in a field of LEN bytes ending in NUL. */
static void octal(unsigned char *field, size_t len, uint64_t value)
{
  char tmp[24];
  snprintf(tmp, sizeof(tmp), "%0*llo", (int)(len - 1), (unsigned long long)value);
  memcpy(field, tmp, len - 1);
  field[len - 1] = '\0';
}

/* One "LEN KEY=VALUE\n" record; LEN counts the whole record, its own
 * digits too. */
static int pax_record(char **buf, size_t *used, const char *key, const void *value, size_t vlen)
{
  size_t base = 1 + strlen(key) + 1 + vlen + 1, len = base;
  for (;;) {
    char digits[24];
    size_t total = base + (size_t)snprintf(digits, sizeof(digits), "%zu", len);
    if (total == len)
      break;
    len = total;
  }
  char *n = realloc(*buf, *used + len + 1);
  if (n == NULL)
    return -ENOMEM;
  *buf = n;
  int head = snprintf(n + *used, len + 1, "%zu %s=", len, key);
  memcpy(n + *used + head, value, vlen);
  n[*used + len - 1] = '\n';
  *used += len;
  return 0;
}

static int pax_number(char **buf, size_t *used, const char *key, long long value)
{
  char text[24];
  int n = snprintf(text, sizeof(text), "%lld", value);
  return pax_record(buf, used, key, text, (size_t)n);
}

/* The PAX records E needs (none: *ret_len 0). */
static int pax_records(const struct bundle_tar_entry *e, const char *name, char **ret,
                       size_t *ret_len)
{
  char *buf = NULL;
  size_t used = 0;
  int r = 0;
  if (strlen(name) > NAME_LEN)
    r = pax_record(&buf, &used, "path", name, strlen(name));
  if (r == 0 && e->linkname != NULL && strlen(e->linkname) > NAME_LEN)
    r = pax_record(&buf, &used, "linkpath", e->linkname, strlen(e->linkname));
  if (r == 0 && e->size > MAX_OCTAL12)
    r = pax_number(&buf, &used, "size", (long long)e->size);
  if (r == 0 && e->uid > MAX_OCTAL8)
    r = pax_number(&buf, &used, "uid", e->uid);
  if (r == 0 && e->gid > MAX_OCTAL8)
    r = pax_number(&buf, &used, "gid", e->gid);
  if (r == 0 && (e->mtime < 0 || (uint64_t)e->mtime > MAX_OCTAL12))
    r = pax_number(&buf, &used, "mtime", (long long)e->mtime);
  for (size_t i = 0; r == 0 && i < e->n_xattrs; i++) {
    cleanup_free char *key = NULL;
    if (asprintf(&key, "SCHILY.xattr.%s", e->xattrs[i].name) < 0)
      r = -ENOMEM;
    else
      r = pax_record(&buf, &used, key, e->xattrs[i].value, e->xattrs[i].size);
  }
  if (r < 0) {
    free(buf);
    return r;
  }
  *ret = buf;
  *ret_len = used;
  return 0;
}

static void checksum(unsigned char *h)
{
  unsigned sum = 0;
  memset(h + CHKSUM_OFF, ' ', 8);
  for (size_t i = 0; i < BUNDLE_TAR_BLOCK; i++)
    sum += h[i];
  /* six digits, NUL, space: what every tar writes */
  snprintf((char *)h + CHKSUM_OFF, 8, "%06o", sum);
  h[CHKSUM_OFF + 7] = ' ';
}

/* One ustar header block; fields that do not fit are left at 0 (the PAX
 * header before it holds the real values). */
static void ustar(unsigned char *h, const char *name, char type, uint32_t mode, uint32_t uid,
                  uint32_t gid, uint64_t size, int64_t mtime, const char *linkname,
                  uint32_t devmajor, uint32_t devminor)
{
  memset(h, 0, BUNDLE_TAR_BLOCK);
  memcpy(h + NAME_OFF, name, strnlen(name, NAME_LEN));
  octal(h + MODE_OFF, ID_LEN, mode & 07777);
  octal(h + UID_OFF, ID_LEN, uid > MAX_OCTAL8 ? 0 : uid);
  octal(h + GID_OFF, ID_LEN, gid > MAX_OCTAL8 ? 0 : gid);
  octal(h + SIZE_OFF, NUM12_LEN, size > MAX_OCTAL12 ? 0 : size);
  octal(h + MTIME_OFF, NUM12_LEN, mtime < 0 || (uint64_t)mtime > MAX_OCTAL12 ? 0 : (uint64_t)mtime);
  h[TYPE_OFF] = (unsigned char)type;
  if (linkname != NULL)
    memcpy(h + LINK_OFF, linkname, strnlen(linkname, NAME_LEN));
  memcpy(h + MAGIC_OFF, "ustar", 6);
  memcpy(h + VERSION_OFF, "00", 2);
  octal(h + DEVMAJOR_OFF, ID_LEN, devmajor > MAX_OCTAL8 ? 0 : devmajor);
  octal(h + DEVMINOR_OFF, ID_LEN, devminor > MAX_OCTAL8 ? 0 : devminor);
  checksum(h);
}

int bundle_tar_header(struct bundle_tar *t, const struct bundle_tar_entry *e, oci_error **err)
{
  if (t->file_left != 0)
    return oci_error_set(err, 0, "tar: a header before the last file's data ended");
  if (e->devmajor > MAX_OCTAL8 || e->devminor > MAX_OCTAL8)
    return oci_error_set(err, 0, "tar: device number of '%s' too large", e->name);
  bool dir = e->type == BUNDLE_TAR_DIR;
  cleanup_free char *name = NULL;
  if (asprintf(&name, "%s%s", e->name, dir && e->name[0] ? "/" : "") < 0)
    return oci_error_set(err, ENOMEM, "tar");
  cleanup_free char *pax = NULL;
  size_t pax_len = 0;
  int r = pax_records(e, name, &pax, &pax_len);
  if (r < 0)
    return oci_error_set(err, -r, "tar");
  unsigned char h[BUNDLE_TAR_BLOCK];
  if (pax_len > 0) {
    ustar(h, PAX_NAME, 'x', 0644, 0, 0, pax_len, 0, NULL, 0, 0);
    if (put(t, h, sizeof(h), err) < 0 || put(t, pax, pax_len, err) < 0 || pad(t, pax_len, err) < 0)
      return -1;
  }
  uint64_t size = e->type == BUNDLE_TAR_FILE ? e->size : 0;
  ustar(h, name, (char)e->type, e->mode, e->uid, e->gid, size, e->mtime, e->linkname, e->devmajor,
        e->devminor);
  if (put(t, h, sizeof(h), err) < 0)
    return -1;
  t->file_left = t->file_size = size;
  return 0;
}

int bundle_tar_data(struct bundle_tar *t, const void *data, size_t len, oci_error **err)
{
  if (len > t->file_left)
    return oci_error_set(err, 0, "tar: more data than the header said");
  if (put(t, data, len, err) < 0)
    return -1;
  t->file_left -= len;
  return t->file_left == 0 ? pad(t, t->file_size, err) : 0;
}

int bundle_tar_finish(struct bundle_tar *t, char ret_hex[SHA256_HEX_SIZE], uint64_t *ret_size,
                      oci_error **err)
{
  static const unsigned char zeros[2 * BUNDLE_TAR_BLOCK];
  if (t->file_left != 0)
    return oci_error_set(err, 0, "tar: the last file's data is short");
  if (put(t, zeros, sizeof(zeros), err) < 0 || flush(t, err) < 0)
    return -1;
  uint8_t digest[SHA256_DIGEST_SIZE];
  sha256_final(&t->sha, digest);
  sha256_hex(digest, ret_hex);
  *ret_size = t->written;
  return 0;
}
