/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reader for the Singularity Image Format (see shared docs sif-format.md).
 * Every offset and size from the file is checked against the file size
 * before it is used; nothing here trusts the image.
 */
#ifndef SIFOCI_SIF_H
#define SIFOCI_SIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

#define SIF_HEADER_SIZE 128
#define SIF_DESCRIPTOR_SIZE 585
#define SIF_NAME_LEN 128
#define SIF_EXTRA_LEN 384
/* IDs are uint32 and Singularity writes 48 slots; anything far beyond that
 * is a hostile header, not an image. */
#define SIF_MAX_DESCRIPTORS 65536

enum sif_datatype {
  SIF_DATA_DEFFILE = 0x4001,
  SIF_DATA_ENVVAR = 0x4002,
  SIF_DATA_LABELS = 0x4003,
  SIF_DATA_PARTITION = 0x4004,
  SIF_DATA_SIGNATURE = 0x4005,
  SIF_DATA_GENERIC_JSON = 0x4006,
  SIF_DATA_GENERIC = 0x4007,
  SIF_DATA_CRYPTO_MESSAGE = 0x4008,
  SIF_DATA_SBOM = 0x4009,
  SIF_DATA_OCI_ROOT_INDEX = 0x400a,
  SIF_DATA_OCI_BLOB = 0x400b,
};

enum sif_fstype {
  SIF_FS_SQUASH = 1,
  SIF_FS_EXT3 = 2,
  SIF_FS_IMMUTABLE_OBJECT = 3,
  SIF_FS_RAW = 4,
  SIF_FS_ENCRYPTED_SQUASH = 5,
};

enum sif_parttype {
  SIF_PART_SYSTEM = 1,
  SIF_PART_PRIMSYS = 2,
  SIF_PART_DATA = 3,
  SIF_PART_OVERLAY = 4,
};

#define SIF_GROUP_MASK 0xf0000000u

struct sif_descriptor {
  size_t slot; /* 0-based index in the descriptor table */
  int32_t datatype;
  uint32_t id;
  uint32_t groupid_raw; /* as stored, with the 0xf0000000 flag */
  uint32_t link_raw;
  int64_t offset; /* validated: 0 <= offset <= file size */
  int64_t size;   /* validated: offset + size <= file size */
  int64_t size_with_padding;
  int64_t created_at;
  int64_t modified_at;
  char name[SIF_NAME_LEN + 1]; /* always NUL-terminated */
  uint8_t extra[SIF_EXTRA_LEN];
  /* Decoded from extra for partitions (0 otherwise). */
  int32_t fstype;
  int32_t parttype;
  char arch[4]; /* "02", ... ; "" when not a partition */
  /* Decoded from extra for OCI blobs / root index ("" otherwise). */
  char digest[SIF_EXTRA_LEN + 1];
};

struct sif_image {
  int fd; /* O_RDONLY|O_CLOEXEC, owned */
  char *path;
  dev_t dev;
  ino_t ino;
  int64_t file_size;
  char launch_script[33];
  char arch[4];
  uint8_t uuid[16];
  int64_t created_at;
  int64_t modified_at;
  int64_t descriptors_free;
  int64_t descriptors_total;
  int64_t descriptors_offset;
  int64_t descriptors_size;
  int64_t data_offset;
  int64_t data_size;
  struct sif_descriptor *descs; /* used descriptors only, table order */
  size_t n_descs;
};

/* Open and parse PATH.  Errors name what is wrong (the caller adds the
 * path): "not a SIF image (bad magic)", "partition 3 ends past the end of
 * the file", ... */
int sif_open(const char *path, struct sif_image **ret, oci_error **err);

/* Parse an image from an open fd (ownership of fd passes to the image even on
 * failure).  Used by sif_open and by the fuzz harness. */
int sif_load_fd(int fd, const char *path, struct sif_image **ret, oci_error **err);

void sif_close(struct sif_image *img);
static inline void sif_closep(struct sif_image **img)
{
  if (*img)
    sif_close(*img);
}
#define cleanup_sif __attribute__((cleanup(sif_closep)))

/* Is this an OCI-SIF (has an OCI.RootIndex object)? */
bool sif_is_oci(const struct sif_image *img);

/* The primary system partition.  Fails when there is none or more than one. */
int sif_primary_partition(const struct sif_image *img, const struct sif_descriptor **ret,
                          oci_error **err);

/* First used object of DATATYPE whose name is NAME; NULL when absent. */
const struct sif_descriptor *sif_find_named(const struct sif_image *img, int32_t datatype,
                                            const char *name);

/* OCI blob (or root index) by its "sha256:..." digest; NULL when absent. */
const struct sif_descriptor *sif_find_digest(const struct sif_image *img, const char *digest);

/* Read a whole object into a new NUL-terminated buffer; fails above max_size. */
int sif_read_object(const struct sif_image *img, const struct sif_descriptor *d, size_t max_size,
                    char **ret_data, size_t *ret_len, oci_error **err);

/* Names for printing. */
const char *sif_datatype_name(int32_t datatype);
const char *sif_fstype_name(int32_t fstype);
const char *sif_parttype_name(int32_t parttype);
/* "02" -> "amd64"; unknown codes -> NULL. */
const char *sif_arch_name(const char *code);
/* The SIF code of the machine we run on ("02" on x86_64). */
const char *sif_host_arch(void);
/* Can this host run partitions of arch CODE? ("00" always can.) */
bool sif_arch_runnable(const char *code);

/* The group number without the flag bit (0 = no group). */
static inline uint32_t sif_group(uint32_t raw)
{
  return raw & ~SIF_GROUP_MASK;
}

#endif
