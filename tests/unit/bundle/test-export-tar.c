/* SPDX-License-Identifier: Apache-2.0 */
/* bundle/export-tar.c and export-image.c's names: the tar's blocks,
 * checksums, PAX records and digest byte by byte (GNU tar and Python read
 * the result in the integration test); ref names and their defaults. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "export-image.h"
#include "export-tar.h"
#include "tap.h"

static unsigned char out[1 << 16];
static size_t out_len;

static bool checksum_ok(const unsigned char *h)
{
  unsigned sum = 0;
  for (size_t i = 0; i < 512; i++)
    sum += (i >= 148 && i < 156) ? ' ' : h[i];
  return strtoul((const char *)h + 148, NULL, 8) == sum;
}

static bool ref_ok(const char *ref)
{
  return bundle_export_check_ref(ref, NULL) == 0;
}

int main(void)
{
  int fd = memfd_create("tar", MFD_CLOEXEC);
  struct bundle_tar t;
  oci_error *err = NULL;
  TAP_OK(fd >= 0 && bundle_tar_init(&t, fd, -1, &err) == 0, "a tar on a memfd");
  char long_name[151];
  memset(long_name, 'n', 150);
  long_name[150] = '\0';
  struct bundle_tar_xattr x = {"user.k", "v\nw", 3};
  struct bundle_tar_entry dir = {.name = "d", .type = BUNDLE_TAR_DIR, .mode = 0755};
  struct bundle_tar_entry file = {.name = long_name,
                                  .type = BUNDLE_TAR_FILE,
                                  .mode = 0640,
                                  .uid = 010000000,
                                  .size = 3,
                                  .mtime = 1700000000,
                                  .xattrs = &x,
                                  .n_xattrs = 1};
  TAP_OK(bundle_tar_header(&t, &dir, &err) == 0, "a directory header");
  TAP_OK(bundle_tar_header(&t, &file, &err) == 0 && bundle_tar_data(&t, "abc", 3, &err) == 0,
         "a file with a long name, a large uid and an xattr");
  TAP_OK(bundle_tar_data(&t, "x", 1, &err) < 0, "more data than the header said is refused");
  oci_error_free(&err);
  char hex[SHA256_HEX_SIZE];
  uint64_t size = 0;
  TAP_OK(bundle_tar_finish(&t, hex, &size, &err) == 0, "finished");
  bundle_tar_clear(&t);
  out_len = (size_t)pread(fd, out, sizeof(out), 0);
  TAP_IS_INT(out_len, size, "the size it reports is what it wrote");
  /* dir header, PAX header + its records, file header, data, two zeros */
  TAP_IS_INT(size, 512 * 7, "seven blocks");
  TAP_IS_STR((char *)out, "d/", "a directory's name ends in '/'");
  TAP_OK(out[156] == '5' && memcmp(out + 257,
                                   "ustar\0"
                                   "00",
                                   8) == 0,
         "type 5, ustar magic");
  TAP_OK(checksum_ok(out) && checksum_ok(out + 512) && checksum_ok(out + 1536),
         "every header's checksum");
  TAP_OK(out[512 + 156] == 'x', "a PAX header comes first");
  size_t pax_len = strtoul((const char *)out + 512 + 124, NULL, 8);
  char want[512];
  int n = snprintf(want, sizeof(want), "160 path=%s\n15 uid=2097152\n27 SCHILY.xattr.user.k=v\nw\n",
                   long_name);
  TAP_IS_INT(pax_len, n, "its size");
  TAP_OK(memcmp(out + 1024, want, (size_t)n) == 0, "its records: path, uid, xattr (a newline in "
                                                   "the value too), each length counting itself");
  TAP_OK(memcmp(out + 1536, long_name, 100) == 0 && out[1536 + 156] == '0',
         "the ustar header keeps the first 100 bytes of the name");
  TAP_IS_STR((char *)out + 1536 + 108, "0000000", "an uid too large for it is 0 there");
  TAP_OK(memcmp(out + 2048, "abc", 3) == 0 && out[2051] == 0, "the data, padded with zeros");
  struct sha256 s;
  uint8_t d[SHA256_DIGEST_SIZE];
  char whole[SHA256_HEX_SIZE];
  sha256_init(&s);
  sha256_update(&s, out, out_len);
  sha256_final(&s, d);
  sha256_hex(d, whole);
  TAP_IS_STR(hex, whole, "the digest is the sha256 of the bytes written");
  close(fd);

  TAP_OK(ref_ok("busybox:latest") && ref_ok("localhost/a.b_c-d:1.0") && ref_ok("a--b"),
         "reference names the spec allows");
  TAP_OK(!ref_ok("") && !ref_ok("Bad Tag") && !ref_ok(":x") && !ref_ok("a:") && !ref_ok("a..b") &&
             !ref_ok("a/-b"),
         "and ones it does not");
  char *r = bundle_export_default_ref("/x/My Image.v2.sif");
  TAP_IS_STR(r, "my-image.v2:latest", "the default name: base name, no extension, lowercase");
  free(r);
  r = bundle_export_default_ref("--.sif");
  TAP_IS_STR(r, "image:latest", "a name with no letter or digit: 'image'");
  free(r);
  return tap_done();
}
