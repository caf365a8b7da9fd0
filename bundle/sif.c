/* SPDX-License-Identifier: Apache-2.0 */
#include "sif.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "arch.h"
#include "cleanup.h"

static const char sif_magic[10] = "SIF_MAGIC"; /* includes the trailing NUL */

static int64_t le64(const uint8_t *p)
{
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return (int64_t)v;
}

static uint32_t le32(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int read_exact_at(int fd, void *buf, size_t len, int64_t off)
{
  uint8_t *p = buf;
  while (len > 0) {
    ssize_t n = pread(fd, p, len, (off_t)off);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    if (n == 0)
      return -ENODATA;
    p += n;
    len -= (size_t)n;
    off += n;
  }
  return 0;
}

/* Copy a fixed-width, NUL-padded field into a NUL-terminated string. */
static void copy_cstr(char *dst, const uint8_t *src, size_t width)
{
  size_t n = strnlen((const char *)src, width);
  memcpy(dst, src, n);
  dst[n] = '\0';
}

static int parse_header(struct sif_image *img, const uint8_t *h, oci_error **err)
{
  if (memcmp(h + 32, sif_magic, sizeof(sif_magic)) != 0)
    return oci_error_set(err, 0, "not a SIF image (bad magic)");
  if (memcmp(h + 42, "01\0", 3) != 0) {
    char v[4];
    copy_cstr(v, h + 42, 3);
    return oci_error_set(err, 0, "unsupported SIF version '%s' (only 01 is known)", v);
  }
  copy_cstr(img->launch_script, h, 32);
  copy_cstr(img->arch, h + 45, 3);
  memcpy(img->uuid, h + 48, 16);
  img->created_at = le64(h + 64);
  img->modified_at = le64(h + 72);
  img->descriptors_free = le64(h + 80);
  img->descriptors_total = le64(h + 88);
  img->descriptors_offset = le64(h + 96);
  img->descriptors_size = le64(h + 104);
  img->data_offset = le64(h + 112);
  img->data_size = le64(h + 120);

  int64_t total = img->descriptors_total;
  int64_t off = img->descriptors_offset;
  if (total < 0)
    return oci_error_set(err, 0, "descriptor count %lld is negative", (long long)total);
  if (off < SIF_HEADER_SIZE || off > img->file_size ||
      total > (img->file_size - off) / SIF_DESCRIPTOR_SIZE)
    return oci_error_set(
        err, 0, "descriptor table (%lld descriptors at offset %lld) ends past the end of the file",
        (long long)total, (long long)off);
  if (total > SIF_MAX_DESCRIPTORS)
    return oci_error_set(err, 0, "descriptor count %lld is more than the %d supported",
                         (long long)total, SIF_MAX_DESCRIPTORS);
  if (img->descriptors_free < 0 || img->descriptors_free > total)
    return oci_error_set(err, 0, "free descriptor count %lld is out of range (0..%lld)",
                         (long long)img->descriptors_free, (long long)total);
  int64_t need = total * SIF_DESCRIPTOR_SIZE;
  if (img->descriptors_size < need)
    return oci_error_set(err, 0, "descriptor table size %lld is too small for %lld descriptors",
                         (long long)img->descriptors_size, (long long)total);
  return 0;
}

static int parse_descriptor(const struct sif_image *img, const uint8_t *raw, size_t slot,
                            struct sif_descriptor *d, oci_error **err)
{
  memset(d, 0, sizeof(*d));
  d->slot = slot;
  d->datatype = (int32_t)le32(raw);
  d->id = le32(raw + 5);
  d->groupid_raw = le32(raw + 9);
  d->link_raw = le32(raw + 13);
  d->offset = le64(raw + 17);
  d->size = le64(raw + 25);
  d->size_with_padding = le64(raw + 33);
  d->created_at = le64(raw + 41);
  d->modified_at = le64(raw + 49);
  copy_cstr(d->name, raw + 73, SIF_NAME_LEN);
  memcpy(d->extra, raw + 201, SIF_EXTRA_LEN);

  if (d->id == 0)
    return oci_error_set(err, 0, "descriptor %zu is in use but has object ID 0", slot);
  /* Written as subtractions so that hostile values cannot overflow int64. */
  if (d->offset < 0 || d->offset > img->file_size)
    return oci_error_set(err, 0, "object %u starts past the end of the file", d->id);
  if (d->size < 0 || d->size > img->file_size - d->offset)
    return oci_error_set(err, 0, "%s %u ends past the end of the file",
                         d->datatype == SIF_DATA_PARTITION ? "partition" : "object", d->id);
  if (d->size > 0 && d->offset < SIF_HEADER_SIZE)
    return oci_error_set(err, 0, "object %u overlaps the SIF header", d->id);
  if (d->size > 0) {
    int64_t tstart = img->descriptors_offset;
    int64_t tend = tstart + img->descriptors_total * SIF_DESCRIPTOR_SIZE;
    if (d->offset < tend && d->offset + d->size > tstart)
      return oci_error_set(err, 0, "object %u overlaps the descriptor table", d->id);
  }

  if (d->datatype == SIF_DATA_PARTITION) {
    d->fstype = (int32_t)le32(d->extra);
    d->parttype = (int32_t)le32(d->extra + 4);
    copy_cstr(d->arch, d->extra + 8, 3);
  } else if (d->datatype == SIF_DATA_OCI_BLOB || d->datatype == SIF_DATA_OCI_ROOT_INDEX) {
    copy_cstr(d->digest, d->extra, SIF_EXTRA_LEN);
  }
  return 0;
}

static int compare_ids(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* Sorted, not pairwise: an image may hold tens of thousands of
 * descriptors. */
static int check_unique_ids(const struct sif_image *img, oci_error **err)
{
  if (img->n_descs < 2)
    return 0;
  cleanup_free uint32_t *ids = malloc(img->n_descs * sizeof(*ids));
  if (ids == NULL)
    return oci_error_set(err, ENOMEM, "checking object IDs");
  for (size_t i = 0; i < img->n_descs; i++)
    ids[i] = img->descs[i].id;
  qsort(ids, img->n_descs, sizeof(*ids), compare_ids);
  for (size_t i = 1; i < img->n_descs; i++)
    if (ids[i] == ids[i - 1])
      return oci_error_set(err, 0, "object ID %u is used twice", ids[i]);
  return 0;
}

int sif_load_fd(int fd, const char *path, struct sif_image **ret, oci_error **err)
{
  struct stat st;
  cleanup_sif struct sif_image *img = calloc(1, sizeof(*img));
  if (img == NULL) {
    close(fd);
    return oci_error_set(err, ENOMEM, "loading image");
  }
  img->fd = fd;
  img->path = strdup(path ? path : "");
  if (img->path == NULL)
    return oci_error_set(err, ENOMEM, "loading image");
  if (fstat(fd, &st) < 0)
    return oci_error_set(err, errno, "stat");
  if (!S_ISREG(st.st_mode))
    return oci_error_set(err, 0, "not a regular file");
  img->dev = st.st_dev;
  img->ino = st.st_ino;
  img->file_size = st.st_size;

  uint8_t hdr[SIF_HEADER_SIZE];
  if (img->file_size < SIF_HEADER_SIZE)
    return oci_error_set(err, 0, "not a SIF image (file is %lld bytes, shorter than a SIF header)",
                         (long long)st.st_size);
  int r = read_exact_at(fd, hdr, sizeof(hdr), 0);
  if (r < 0)
    return oci_error_set(err, -r, "reading the SIF header");
  if (parse_header(img, hdr, err) < 0)
    return -1;

  size_t total = (size_t)img->descriptors_total;
  size_t table_len = total * SIF_DESCRIPTOR_SIZE;
  cleanup_free uint8_t *table = malloc(table_len ? table_len : 1);
  img->descs = calloc(total ? total : 1, sizeof(struct sif_descriptor));
  if (table == NULL || img->descs == NULL)
    return oci_error_set(err, ENOMEM, "reading the descriptor table");
  r = read_exact_at(fd, table, table_len, img->descriptors_offset);
  if (r < 0)
    return oci_error_set(err, r == -ENODATA ? 0 : -r,
                         "descriptor table ends past the end of the file");
  for (size_t i = 0; i < total; i++) {
    const uint8_t *raw = table + i * SIF_DESCRIPTOR_SIZE;
    if (raw[4] == 0)
      continue; /* unused slot: deleted objects leave holes, keep going */
    if (raw[4] != 1)
      return oci_error_set(err, 0, "descriptor %zu has an invalid 'used' flag %u", i, raw[4]);
    if (parse_descriptor(img, raw, i, &img->descs[img->n_descs], err) < 0)
      return -1;
    img->n_descs++;
  }
  if (check_unique_ids(img, err) < 0)
    return -1;
  *ret = steal_ptr(&img);
  return 0;
}

int sif_open(const char *path, struct sif_image **ret, oci_error **err)
{
  /* O_NONBLOCK: a FIFO given as the image must not hang the open; it is
   * refused as "not a regular file".  A regular file's reads ignore the
   * flag, but the loop driver gets this fd: clear it. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return oci_error_set(err, errno, "open");
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
    int e = errno;
    close(fd);
    return oci_error_set(err, e, "open");
  }
  return sif_load_fd(fd, path, ret, err);
}

void sif_close(struct sif_image *img)
{
  if (img == NULL)
    return;
  if (img->fd >= 0)
    close(img->fd);
  free(img->path);
  free(img->descs);
  free(img);
}

bool sif_is_oci(const struct sif_image *img)
{
  for (size_t i = 0; i < img->n_descs; i++)
    if (img->descs[i].datatype == SIF_DATA_OCI_ROOT_INDEX)
      return true;
  return false;
}

int sif_primary_partition(const struct sif_image *img, const struct sif_descriptor **ret,
                          oci_error **err)
{
  const struct sif_descriptor *found = NULL;
  for (size_t i = 0; i < img->n_descs; i++) {
    const struct sif_descriptor *d = &img->descs[i];
    if (d->datatype != SIF_DATA_PARTITION || d->parttype != SIF_PART_PRIMSYS)
      continue;
    if (found != NULL)
      return oci_error_set(err, 0, "partitions %u and %u are both primary system partitions",
                           found->id, d->id);
    found = d;
  }
  if (found == NULL) {
    if (sif_is_oci(img))
      return oci_error_set(err, 0, "OCI-SIF image has no primary system partition");
    return oci_error_set(err, 0, "no primary system partition (no root filesystem)");
  }
  *ret = found;
  return 0;
}

const struct sif_descriptor *sif_find_named(const struct sif_image *img, int32_t datatype,
                                            const char *name)
{
  for (size_t i = 0; i < img->n_descs; i++)
    if (img->descs[i].datatype == datatype && strcmp(img->descs[i].name, name) == 0)
      return &img->descs[i];
  return NULL;
}

const struct sif_descriptor *sif_find_digest(const struct sif_image *img, const char *digest)
{
  for (size_t i = 0; i < img->n_descs; i++) {
    const struct sif_descriptor *d = &img->descs[i];
    if ((d->datatype == SIF_DATA_OCI_BLOB || d->datatype == SIF_DATA_OCI_ROOT_INDEX) &&
        strcmp(d->digest, digest) == 0)
      return d;
  }
  return NULL;
}

int sif_read_object(const struct sif_image *img, const struct sif_descriptor *d, size_t max_size,
                    char **ret_data, size_t *ret_len, oci_error **err)
{
  if ((uint64_t)d->size > max_size)
    return oci_error_set(err, 0, "object %u is %lld bytes, more than the %zu allowed", d->id,
                         (long long)d->size, max_size);
  size_t len = (size_t)d->size;
  cleanup_free char *buf = malloc(len + 1);
  if (buf == NULL)
    return oci_error_set(err, ENOMEM, "reading object %u", d->id);
  int r = read_exact_at(img->fd, buf, len, d->offset);
  if (r < 0)
    return oci_error_set(err, r == -ENODATA ? 0 : -r, "object %u ends past the end of the file",
                         d->id);
  buf[len] = '\0';
  *ret_data = steal_ptr(&buf);
  if (ret_len)
    *ret_len = len;
  return 0;
}

const char *sif_datatype_name(int32_t t)
{
  switch (t) {
  case SIF_DATA_DEFFILE: return "Def.FILE";
  case SIF_DATA_ENVVAR: return "Env.Vars";
  case SIF_DATA_LABELS: return "JSON.Labels";
  case SIF_DATA_PARTITION: return "FS";
  case SIF_DATA_SIGNATURE: return "Signature";
  case SIF_DATA_GENERIC_JSON: return "JSON.Generic";
  case SIF_DATA_GENERIC: return "Generic/Raw";
  case SIF_DATA_CRYPTO_MESSAGE: return "Cryptographic Message";
  case SIF_DATA_SBOM: return "SBOM";
  case SIF_DATA_OCI_ROOT_INDEX: return "OCI.RootIndex";
  case SIF_DATA_OCI_BLOB: return "OCI.Blob";
  default: return "Unknown";
  }
}

const char *sif_fstype_name(int32_t fs)
{
  switch (fs) {
  case SIF_FS_SQUASH: return "Squashfs";
  case SIF_FS_EXT3: return "Ext3";
  case SIF_FS_IMMUTABLE_OBJECT: return "Archive";
  case SIF_FS_RAW: return "Raw";
  case SIF_FS_ENCRYPTED_SQUASH: return "Encrypted squashfs";
  default: return "Unknown";
  }
}

const char *sif_parttype_name(int32_t pt)
{
  switch (pt) {
  case SIF_PART_SYSTEM: return "System";
  case SIF_PART_PRIMSYS: return "*System";
  case SIF_PART_DATA: return "Data";
  case SIF_PART_OVERLAY: return "Overlay";
  default: return "Unknown";
  }
}

static const char *const arch_names[] = {
    "unknown", "386",    "amd64",  "arm",      "arm64", "ppc64",   "ppc64le",
    "mips",    "mipsle", "mips64", "mips64le", "s390x", "riscv64", "loong64",
};

const char *sif_arch_name(const char *code)
{
  if (code == NULL || strlen(code) != 2 || code[0] < '0' || code[0] > '9' || code[1] < '0' ||
      code[1] > '9')
    return NULL;
  int n = (code[0] - '0') * 10 + (code[1] - '0');
  if (n >= (int)(sizeof(arch_names) / sizeof(arch_names[0])))
    return NULL;
  return arch_names[n];
}

const char *sif_host_arch(void)
{
  return bundle_host_arch()->sif_code;
}

bool sif_arch_runnable(const char *code)
{
  if (code == NULL || code[0] == '\0' || strcmp(code, "00") == 0)
    return true;
  const char *host = sif_host_arch();
  if (strcmp(code, host) == 0)
    return true;
  /* 64-bit x86 and arm kernels run their 32-bit siblings natively. */
  if (strcmp(host, "02") == 0 && strcmp(code, "01") == 0)
    return true;
  return false;
}
