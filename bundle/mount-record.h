/* SPDX-License-Identifier: Apache-2.0 */
/*
 * BUNDLE/.sifoci-mount.json: what `oci mount` did, so that `oci umount`
 * undoes exactly that, also after the CLI died half way.  It is written
 * (atomically) before each step with the step already listed, so it always
 * names a superset of what exists; undoing tolerates "not there".
 *
 *   {"format": "sifoci-mount", "version": 1, "state": "mounting"|"mounted",
 *    "bundle": "/abs/bundle", "bundleCreated": true,
 *    "image": {"path": "/abs/x.sif", "dev": N, "ino": N, "offset": N, "size": N},
 *    "loop": {"device": "/dev/loop3", "major": 7, "minor": 3, "attached": true},
 *    "mounts": [{"target": ".image", "type": "squashfs"},
 *               {"target": "rootfs", "type": "overlay"}],
 *      (fuse: "type": "fuse.squashfuse_ll" | "fuse.squashfuse" |
 *       "fuse.fuse-overlayfs", with "pid": N, "pidStart": N once started)
 *    "created": ["rootfs", "overlay", ...],
 *    "method": "kernel"|"extract"|"fuse",   (absent: kernel)
 *    "options": [["bind", "/a:/b"], ["no-privs", null], ...],
 *    "layerLoops": [{"device": "/dev/loop4", "major": 7, "minor": 4, "attached": true,
 *                    "offset": N, "size": N}, ...]   (version 2: a multi-layer OCI-SIF,
 *      one loop device per layer, bottom first, each mounted on ".layers/N"; the
 *      mounts then list {"target": ".layers/0", "type": "squashfs"}, ... and no
 *      ".image"; version 1 records, which have none, are read as they were)
 *    "overlays": [{"path": "/abs/dir", "mode": "rw"|"ro"},
 *                 {"path": "/abs/f.img", "mode": "rw"|"ro", "kind": "ext3", "dev": N,
 *                  "ino": N, "size": N, "mount": ".overlays/0", "loop": {...}},
 *                 {"path": null, "mode": "tmpfs"}]}   (overlay-layers.h; absent: none)
 *      (an image file's mount and loop device are in its entry, overlay-files.h)
 *      (--writable-tmpfs adds the mount {"target": "overlay", "type": "tmpfs"};
 *       the SIF's overlay partition {"target": ".sif-overlay", "type": "ext3"})
 *                                          (what was asked, spec-options.h;
 *                                           absent: nothing)
 *
 * Names are relative to the bundle and checked against the short list of
 * things mount makes, so a damaged record cannot point umount elsewhere.
 */
#ifndef SIFOCI_MOUNT_RECORD_H
#define SIFOCI_MOUNT_RECORD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

#define BUNDLE_RECORD_NAME ".sifoci-mount.json"
/* what fs_write_file_at leaves when killed while writing the record */
#define BUNDLE_RECORD_TMP_NAME ".sifoci-mount.json.tmp"
#define BUNDLE_RECORD_FORMAT "sifoci-mount"
/* 1 is still written when there are no layer loops (and always read) */
#define BUNDLE_RECORD_VERSION 2
#define BUNDLE_RECORD_VERSION_1 1
#define BUNDLE_RECORD_MAX_SIZE (256u << 10)
/* the layers' mount points: ".layers/N", N below this */
#define BUNDLE_RECORD_MAX_LAYERS 128
#define BUNDLE_LAYERS_DIR ".layers"
#define BUNDLE_RECORD_MAX_MOUNTS (4 + BUNDLE_RECORD_MAX_LAYERS)
/* Directories and files made: fixed ones plus one per volume and layer. */
#define BUNDLE_RECORD_MAX_CREATED (300 + BUNDLE_RECORD_MAX_LAYERS + 1)
#define BUNDLE_RECORD_MAX_OPTIONS 1024 /* 4 * BUNDLE_OPT_MAX_ITEMS */

enum bundle_record_state {
  BUNDLE_RECORD_MOUNTING,
  BUNDLE_RECORD_MOUNTED,
  BUNDLE_RECORD_STATE_MAX,
};

struct bundle_record_mount {
  char target[16]; /* "rootfs", ".image", "overlay" (--writable-tmpfs) or ".layers/N" */
  char type[32];   /* "overlay" or "squashfs"; fuse: "fuse.<daemon>" */
  /* fuse: the daemon, once started (0: not known), and its start time
   * (/proc/PID/stat field 22), so that a reused PID is not taken for it */
  int pid;
  unsigned long long pid_start;
};

/* A layer's loop device (kernel method, multi-layer OCI-SIF). */
struct bundle_record_loop {
  char device[32];
  dev_t rdev;
  bool attached;
  uint64_t offset, size;
};

struct bundle_record {
  enum bundle_record_state state;
  char *bundle;
  bool bundle_created;
  char *image;
  dev_t image_dev;
  ino_t image_ino;
  uint64_t offset, size;
  bool has_loop;
  char loop_device[32];
  dev_t loop_rdev;
  bool loop_attached;
  struct bundle_record_loop layer_loops[BUNDLE_RECORD_MAX_LAYERS]; /* bottom first */
  size_t n_layer_loops;
  struct bundle_record_mount mounts[BUNDLE_RECORD_MAX_MOUNTS];
  size_t n_mounts;
  char **created; /* in creation order */
  bool extracted; /* --method extract: rootfs is a tree, no mounts */
  bool fuse;      /* --method fuse: the mounts are FUSE mounts */
  size_t n_created;
  json_t *options;  /* [[name, value|null], ...] as asked (spec-options.h), or NULL */
  json_t *overlays; /* what --overlay / --writable-tmpfs asked (overlay-layers.h), or NULL */
};

/* Write the record under DIRFD (0600, tmp + rename). */
int bundle_record_save(int dirfd, const struct bundle_record *rec, oci_error **err);

/* Read and check it.  1 when there is no record. */
int bundle_record_load(int dirfd, struct bundle_record *rec, oci_error **err);

/* Append NAME to rec->created. */
int bundle_record_add_created(struct bundle_record *rec, const char *name, oci_error **err);

/* Is NAME ".layers/N" (N < BUNDLE_RECORD_MAX_LAYERS, plain decimal)? */
bool bundle_record_layer_name_ok(const char *name);

/* Is NAME something mount makes (so umount may delete it)? */
bool bundle_record_name_ok(const char *name);

void bundle_record_clear(struct bundle_record *rec);

/* Does DIRFD hold nothing but BUNDLE_RECORD_TMP_NAME? */
bool bundle_only_stale_record_tmp(int dirfd);

/* A new bundle is made as PARENT/.BASE.sifoci-new-PID (BASE cut to 200
 * bytes) and renamed into place once its first record is in it. */
#define BUNDLE_NEW_DIR_FORMAT ".%.200s.sifoci-new-%ld"
/* Remove what mounts of BASE killed before that rename left in PARENT_FD:
 * directories whose creator is gone (they hold at most a first record,
 * nothing mounted).  Best effort. */
void bundle_sweep_new_dirs(int parent_fd, const char *base);

#endif
