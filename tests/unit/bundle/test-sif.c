/* SPDX-License-Identifier: Apache-2.0 */
/* SIF reader: hand-made images in memory, and (when present) every image of
 * the shared reference set compared with its expected.tsv. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cleanup.h"
#include "sif.h"
#include "tap.h"

#define TABLE_OFF 4096
#define NSLOTS 4
#define DATA_OFF (TABLE_OFF + NSLOTS * SIF_DESCRIPTOR_SIZE)

struct fake {
  uint8_t buf[DATA_OFF + 8192];
  size_t len;
};

static void put64(uint8_t *p, int64_t v)
{
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)((uint64_t)v >> (8 * i));
}
static void put32(uint8_t *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static void fake_init(struct fake *f)
{
  memset(f, 0, sizeof(*f));
  memcpy(f->buf + 32, "SIF_MAGIC", 10);
  memcpy(f->buf + 42, "01", 3);
  memcpy(f->buf + 45, "02", 3);
  put64(f->buf + 80, NSLOTS);
  put64(f->buf + 88, NSLOTS);
  put64(f->buf + 96, TABLE_OFF);
  put64(f->buf + 104, NSLOTS * SIF_DESCRIPTOR_SIZE);
  put64(f->buf + 112, DATA_OFF);
  f->len = sizeof(f->buf);
}

static uint8_t *fake_slot(struct fake *f, int slot, int32_t type, uint32_t id, int64_t off,
                          int64_t size)
{
  uint8_t *d = f->buf + TABLE_OFF + slot * SIF_DESCRIPTOR_SIZE;
  put32(d, (uint32_t)type);
  d[4] = 1;
  put32(d + 5, id);
  put32(d + 9, 0xf0000001u);
  put64(d + 17, off);
  put64(d + 25, size);
  return d;
}

static void fake_partition(uint8_t *d, int32_t fs, int32_t pt, const char *arch)
{
  put32(d + 201, (uint32_t)fs);
  put32(d + 205, (uint32_t)pt);
  memcpy(d + 209, arch, 2);
}

static int load(const struct fake *f, struct sif_image **img, oci_error **err)
{
  int fd = memfd_create("fake.sif", MFD_CLOEXEC);
  if (fd < 0 || write(fd, f->buf, f->len) != (ssize_t)f->len)
    abort();
  return sif_load_fd(fd, "fake.sif", img, err);
}

static void expect_error(struct fake *f, const char *needle, const char *what)
{
  cleanup_sif struct sif_image *img = NULL;
  cleanup_error oci_error *err = NULL;
  int r = load(f, &img, &err);
  TAP_OK(r < 0 && err && strstr(err->msg, needle), "%s -> '%s'", what,
         err ? err->msg : "(no error)");
}

static void test_synthetic(void)
{
  struct fake f;
  cleanup_error oci_error *err = NULL;

  fake_init(&f);
  /* slot 0 unused (a hole), slot 1 a System partition, slot 2 the primary */
  fake_partition(fake_slot(&f, 1, SIF_DATA_PARTITION, 2, DATA_OFF, 100), SIF_FS_SQUASH,
                 SIF_PART_SYSTEM, "04");
  uint8_t *p = fake_slot(&f, 2, SIF_DATA_PARTITION, 3, DATA_OFF + 100, 200);
  fake_partition(p, SIF_FS_SQUASH, SIF_PART_PRIMSYS, "02");
  uint8_t *j = fake_slot(&f, 3, SIF_DATA_GENERIC_JSON, 4, DATA_OFF + 300, 2);
  memset(j + 73, 'n', SIF_NAME_LEN); /* a name without NUL */
  {
    cleanup_sif struct sif_image *img = NULL;
    TAP_IS_INT(load(&f, &img, &err), 0, "synthetic image loads");
    TAP_IS_INT(img ? img->n_descs : 0, 3, "unused slot skipped, later slots still read");
    const struct sif_descriptor *prim = NULL;
    TAP_IS_INT(img ? sif_primary_partition(img, &prim, &err) : -1, 0, "primary partition found");
    TAP_IS_INT(prim ? prim->id : 0, 3, "primary chosen by type, not position");
    TAP_IS_STR(prim ? prim->arch : NULL, "02", "partition arch decoded");
    TAP_IS_INT(img ? strlen(img->descs[2].name) : 0, SIF_NAME_LEN,
               "128-byte name without NUL is bounded");
  }

  fake_init(&f);
  fake_slot(&f, 0, SIF_DATA_PARTITION, 1, DATA_OFF, INT64_MAX - 10);
  expect_error(&f, "ends past the end of the file", "size near INT64_MAX");

  fake_init(&f);
  fake_slot(&f, 0, SIF_DATA_DEFFILE, 1, INT64_MAX, 1);
  expect_error(&f, "starts past the end", "offset past EOF");

  fake_init(&f);
  fake_slot(&f, 0, SIF_DATA_DEFFILE, 1, -5, 1);
  expect_error(&f, "starts past the end", "negative offset");

  fake_init(&f);
  fake_slot(&f, 0, SIF_DATA_DEFFILE, 1, 0, 64);
  expect_error(&f, "overlaps the SIF header", "object over the header");

  fake_init(&f);
  fake_slot(&f, 0, SIF_DATA_DEFFILE, 1, TABLE_OFF + 10, 64);
  expect_error(&f, "overlaps the descriptor table", "object over the descriptor table");

  fake_init(&f);
  fake_slot(&f, 0, SIF_DATA_DEFFILE, 0, DATA_OFF, 1);
  expect_error(&f, "object ID 0", "object ID 0");

  fake_init(&f);
  fake_slot(&f, 0, SIF_DATA_DEFFILE, 7, DATA_OFF, 1);
  fake_slot(&f, 1, SIF_DATA_DEFFILE, 7, DATA_OFF, 1);
  expect_error(&f, "used twice", "duplicate object IDs");

  fake_init(&f);
  put64(f.buf + 88, INT64_MAX);
  expect_error(&f, "ends past the end of the file", "descriptor count INT64_MAX");

  fake_init(&f);
  put64(f.buf + 88, -1);
  expect_error(&f, "negative", "negative descriptor count");

  fake_init(&f);
  put64(f.buf + 96, INT64_MAX - 100);
  expect_error(&f, "ends past the end of the file", "descriptor offset near INT64_MAX");

  fake_init(&f);
  f.buf[32] = 'X';
  expect_error(&f, "bad magic", "bad magic");

  fake_init(&f);
  f.len = 100;
  expect_error(&f, "shorter than a SIF header", "file shorter than the header");

  fake_init(&f);
  fake_partition(fake_slot(&f, 0, SIF_DATA_PARTITION, 1, DATA_OFF, 10), 1, 2, "02");
  fake_partition(fake_slot(&f, 1, SIF_DATA_PARTITION, 2, DATA_OFF + 10, 10), 1, 2, "02");
  {
    cleanup_sif struct sif_image *img = NULL;
    cleanup_error oci_error *e2 = NULL;
    const struct sif_descriptor *prim = NULL;
    TAP_IS_INT(load(&f, &img, &e2), 0, "two primaries: loads");
    TAP_OK(img && sif_primary_partition(img, &prim, &e2) < 0 && strstr(e2->msg, "both primary"),
           "two primaries: refused as rootfs");
  }
  TAP_OK(sif_arch_runnable("00") && sif_arch_runnable(sif_host_arch()),
         "host and unknown arch run");
  TAP_OK(!sif_arch_runnable("11") || strcmp(sif_host_arch(), "11") == 0, "foreign arch refused");
}

/* expected.tsv: image index id datatype groupid_raw link_raw offset size
 * sizewithpad name fstype parttype arch extra_string */
/* The most descriptors the reader takes, every ID unique, then one ID
 * repeated at the far end: the uniqueness check sorts (a pairwise one took
 * 4.5 s and 100 MB on such an image). */
static void test_many_descriptors(void)
{
  size_t n = SIF_MAX_DESCRIPTORS, table = n * SIF_DESCRIPTOR_SIZE;
  size_t len = TABLE_OFF + table;
  uint8_t *buf = calloc(1, len);
  if (buf == NULL)
    abort();
  memcpy(buf + 32, "SIF_MAGIC", 10);
  memcpy(buf + 42, "01", 3);
  memcpy(buf + 45, "02", 3);
  put64(buf + 80, 0);
  put64(buf + 88, (int64_t)n);
  put64(buf + 96, TABLE_OFF);
  put64(buf + 104, (int64_t)table);
  put64(buf + 112, (int64_t)len);
  for (size_t i = 0; i < n; i++) {
    uint8_t *d = buf + TABLE_OFF + i * SIF_DESCRIPTOR_SIZE;
    put32(d, SIF_DATA_GENERIC);
    d[4] = 1;
    put32(d + 5, (uint32_t)(n - i)); /* descending: the worst order for a naive scan */
    put32(d + 9, 0xf0000001u);
    put64(d + 17, (int64_t)len);
  }
  for (int dup = 0; dup < 2; dup++) {
    if (dup)
      put32(buf + TABLE_OFF + (n - 1) * SIF_DESCRIPTOR_SIZE + 5, (uint32_t)n);
    int fd = memfd_create("many.sif", MFD_CLOEXEC);
    if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
      abort();
    cleanup_sif struct sif_image *img = NULL;
    cleanup_error oci_error *err = NULL;
    int r = sif_load_fd(fd, "many.sif", &img, &err);
    if (!dup)
      TAP_OK(r == 0 && img && img->n_descs == n, "%zu descriptors with unique IDs load", n);
    else
      TAP_OK(r < 0 && err && strstr(err->msg, "is used twice"),
             "... and one ID used twice, at the far end, is found (%s)", err ? err->msg : "");
  }
  free(buf);
}

static void test_reference_set(void)
{
  const char *shared = getenv("SIFOCI_SHARED");
  cleanup_free char *tsv = NULL;
  if (shared == NULL || asprintf(&tsv, "%s/testdata/sif/expected.tsv", shared) < 0)
    return;
  cleanup_fclose FILE *f = fopen(tsv, "re");
  if (f == NULL) {
    printf("# no reference set at %s\n", tsv);
    return;
  }
  char line[1024];
  char current[64] = "";
  cleanup_sif struct sif_image *img = NULL;
  int rows = 0, mismatches = 0, images = 0;
  while (fgets(line, sizeof(line), f)) {
    if (line[0] == '#')
      continue;
    line[strcspn(line, "\n")] = '\0';
    char *fields[14] = {0};
    char *save = NULL, *s = line;
    for (int i = 0; i < 14; i++, s = NULL)
      fields[i] = strtok_r(s, "\t", &save);
    if (fields[13] == NULL)
      continue;
    if (strcmp(current, fields[0]) != 0) {
      snprintf(current, sizeof(current), "%s", fields[0]);
      sif_close(img);
      img = NULL;
      cleanup_free char *path = NULL;
      cleanup_error oci_error *err = NULL;
      if (asprintf(&path, "%s/testdata/sif/%s.sif", shared, current) < 0)
        abort();
      TAP_IS_INT(sif_open(path, &img, &err), 0, "reference %s.sif opens%s%s", current,
                 err ? ": " : "", err ? err->msg : "");
      images++;
    }
    if (img == NULL)
      continue;
    size_t idx = strtoul(fields[1], NULL, 10);
    const struct sif_descriptor *d = NULL;
    for (size_t i = 0; i < img->n_descs; i++)
      if (img->descs[i].slot == idx)
        d = &img->descs[i];
    char got[1024];
    if (d == NULL) {
      snprintf(got, sizeof(got), "(no descriptor in slot %zu)", idx);
    } else {
      char fs[16] = "-", pt[16] = "-";
      if (d->datatype == SIF_DATA_PARTITION) {
        snprintf(fs, sizeof(fs), "%d", d->fstype);
        snprintf(pt, sizeof(pt), "%d", d->parttype);
      }
      snprintf(got, sizeof(got),
               "%" PRIu32 " 0x%x 0x%08x 0x%08x %" PRId64 " %" PRId64 " %" PRId64 " %s %s %s %s %s",
               d->id, (unsigned)d->datatype, d->groupid_raw, d->link_raw, d->offset, d->size,
               d->size_with_padding, d->name[0] ? d->name : "-", fs, pt,
               d->datatype == SIF_DATA_PARTITION ? d->arch : "-", d->digest[0] ? d->digest : "-");
    }
    char want[1024];
    snprintf(want, sizeof(want), "%s %s %s %s %s %s %s %s %s %s %s %s", fields[2], fields[3],
             fields[4], fields[5], fields[6], fields[7], fields[8], fields[9], fields[10],
             fields[11], fields[12], fields[13]);
    rows++;
    if (strcmp(got, want) != 0) {
      mismatches++;
      printf("# %s slot %zu:\n#   got  %s\n#   want %s\n", current, idx, got, want);
    }
  }
  TAP_OK(rows > 0 && mismatches == 0,
         "reference set: %d descriptors of %d images match expected.tsv", rows, images);

  static const char *const bad[] = {"truncated",
                                    "badmagic",
                                    "badversion",
                                    "header-only",
                                    "descriptor-overflow",
                                    "descriptor-int64-overflow",
                                    "descriptors-beyond-eof"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    cleanup_free char *path = NULL;
    cleanup_error oci_error *err = NULL;
    cleanup_sif struct sif_image *b = NULL;
    if (asprintf(&path, "%s/testdata/sif/%s.sif", shared, bad[i]) < 0)
      abort();
    int r = sif_open(path, &b, &err);
    TAP_OK(r < 0 && err && err->msg && !strchr(err->msg, '\n'), "reference %s.sif refused: %s",
           bad[i], err ? err->msg : "(accepted)");
  }
}

int main(void)
{
  test_synthetic();
  test_many_descriptors();
  test_reference_set();
  return tap_done();
}
