/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Read-only loop devices over a window of a SIF, shared between bundles:
 * a device that already maps the same file (st_dev + st_ino), offset and
 * size read-only is reused; otherwise a free one is bound with
 * LOOP_CONFIGURE (read-only + autoclear), so it goes away by itself when
 * the last squashfs mount on it does.
 */
#ifndef SIFOCI_LOOP_H
#define SIFOCI_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* How often a free device is asked for when others race us to it. */
#define BUNDLE_LOOP_ATTEMPTS 64

struct bundle_loop {
  int fd;        /* O_RDONLY on the device; holds it until the mount does */
  char path[32]; /* "/dev/loopN" */
  dev_t rdev;
  bool attached; /* we bound it; false when an existing device was reused */
};

/* What a loop device must map to be ours (or shareable). */
struct bundle_loop_target {
  dev_t file_dev;
  ino_t file_ino;
  uint64_t offset;
  uint64_t size;
  /* a read-write device of its own (never shared; BACKING_FD O_RDWR) */
  bool writable;
};

/* Find or bind a device for TARGET, backed by BACKING_FD (read-only, the
 * same file).  NAME goes in lo_file_name (informational). */
int bundle_loop_get(int backing_fd, const char *name, const struct bundle_loop_target *target,
                    struct bundle_loop *ret, oci_error **err);

/* Does a loop device map TARGET's file and window?  WRITABLE_ONLY: a
 * read-write one; otherwise any. */
bool bundle_loop_maps(const struct bundle_loop_target *target, bool writable_only);

/* Drop our hold (the fd).  Autoclear frees a device we bound once no mount
 * holds it either. */
void bundle_loop_put(struct bundle_loop *loop);

/* After the mounts are gone: if PATH (still device RDEV) maps TARGET but
 * lost its autoclear flag (a crash between LOOP_SET_FD and
 * LOOP_SET_STATUS64 on kernels without LOOP_CONFIGURE), detach it.  A
 * device that is gone or maps something else is left alone. */
int bundle_loop_release(const char *path, dev_t rdev, const struct bundle_loop_target *target,
                        oci_error **err);

#endif
