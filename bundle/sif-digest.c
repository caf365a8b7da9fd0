/* SPDX-License-Identifier: Apache-2.0 */
#include "sif-digest.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "sha256.h"

#define VERIFY_CHUNK (1 << 20)

static bool is_lower_hex(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return s[n] == '\0';
}

/* The hex part of "sha256:<64 hex>", or NULL for any other form: an
 * algorithm we cannot check is not trusted. */
static const char *sha256_hex_of(const struct sif_descriptor *d, oci_error **err)
{
  if (strncmp(d->digest, "sha256:", 7) != 0 || !is_lower_hex(d->digest + 7, 64)) {
    oci_error_set(err, 0, "object %u: digest '%.80s' is not sha256:<64 hex digits>", d->id,
                  d->digest);
    return NULL;
  }
  return d->digest + 7;
}

static int compare(const struct sif_descriptor *d, const char *want, struct sha256 *s,
                   oci_error **err)
{
  uint8_t digest[SHA256_DIGEST_SIZE];
  char hex[SHA256_HEX_SIZE];
  sha256_final(s, digest);
  sha256_hex(digest, hex);
  if (strcmp(hex, want) != 0)
    return oci_error_set(err, 0,
                         "object %u (%s): its data does not match its digest (it hashes "
                         "to sha256:%s): the image is damaged or was tampered with",
                         d->id, d->digest, hex);
  return 0;
}

int sif_blob_check_data(const struct sif_descriptor *d, const void *data, size_t len,
                        oci_error **err)
{
  const char *want = sha256_hex_of(d, err);
  if (want == NULL)
    return -1;
  struct sha256 s;
  sha256_init(&s);
  sha256_update(&s, data, len);
  return compare(d, want, &s, err);
}

int sif_blob_verify(const struct sif_image *img, const struct sif_descriptor *d, oci_error **err)
{
  const char *want = sha256_hex_of(d, err);
  if (want == NULL)
    return -1;
  cleanup_free uint8_t *buf = malloc(VERIFY_CHUNK);
  if (buf == NULL)
    return oci_error_set(err, ENOMEM, "verifying object %u", d->id);
  struct sha256 s;
  sha256_init(&s);
  int64_t off = d->offset, left = d->size;
  while (left > 0) {
    size_t want_len = left < VERIFY_CHUNK ? (size_t)left : VERIFY_CHUNK;
    ssize_t n = pread(img->fd, buf, want_len, (off_t)off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return oci_error_set(err, errno, "verifying object %u", d->id);
    if (n == 0)
      return oci_error_set(err, 0, "object %u ends past the end of the file", d->id);
    sha256_update(&s, buf, (size_t)n);
    off += n;
    left -= n;
  }
  return compare(d, want, &s, err);
}
