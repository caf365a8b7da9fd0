/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file contents of an extraction (squashfs-extract.c), written by
 * worker threads while the tree walk goes on creating the entries: the
 * walk creates each regular file, hands its fd over here, and a worker
 * decompresses the data (with a data reader and a compressor of its own:
 * libsquashfs's are not thread-safe) and writes it with pwrite.  A large
 * file is cut into pieces that several workers write at once.  The worker
 * that writes a file's last piece calls DONE (xattrs, mode, times), then
 * closes it.  With no workers (one CPU) the same work runs inline, in the
 * caller's thread.
 */
#ifndef SIFOCI_SQUASHFS_EXTRACT_POOL_H
#define SIFOCI_SQUASHFS_EXTRACT_POOL_H

#include <sqfs/dir_reader.h>

#include "error.h"
#include "squashfs-extract.h"
#include "squashfs-image.h"

struct bundle_xpool;

/* Called once per file, after all its bytes are written, from a worker
 * (or the caller, inline): must be thread-safe.  META is the submitter's. */
typedef int (*bundle_xpool_done_fn)(void *ctx, const sqfs_tree_node_t *n, int fd, void *meta,
                                    oci_error **err);
typedef void (*bundle_xpool_free_fn)(void *meta);

struct bundle_xpool_config {
  unsigned workers; /* 0: inline */
  struct bundle_extract_stats *stats;
  bundle_progress_fn progress; /* only ever called in the caller's thread */
  void *progress_data;
  bundle_xpool_done_fn done;
  bundle_xpool_free_fn free_meta;
  void *ctx;
};

/* How many workers an extraction uses here: SIFOCI_EXTRACT_THREADS when
 * set (1 = none, the walk writes), else the CPUs we may run on, at most 8,
 * and none on one CPU. */
unsigned bundle_xpool_default_workers(void);

int bundle_xpool_start(struct bundle_sqfs *sq, const struct bundle_xpool_config *cfg,
                       struct bundle_xpool **ret, oci_error **err);

/* Write N's SIZE bytes into FD and then call DONE.  FD and META are the
 * pool's from here on, also when this fails. */
int bundle_xpool_submit(struct bundle_xpool *p, const sqfs_tree_node_t *n, uint64_t size, int fd,
                        void *meta, oci_error **err);

/* A worker failed: the walk should stop (the error comes from finish). */
bool bundle_xpool_failed(struct bundle_xpool *p);

/* Let the caller's progress function see the workers' bytes (rate-limited
 * by the function itself). */
void bundle_xpool_progress(struct bundle_xpool *p);

/* Wait for everything submitted (drawing progress), stop the workers and
 * free the pool.  ABORT: skip what is not written yet.  Returns the first
 * worker error. */
int bundle_xpool_finish(struct bundle_xpool *p, bool abort, oci_error **err);

/* "extracting '/path': WHAT: strerror" (disk full: without WHAT). */
int bundle_xpool_fail(const sqfs_tree_node_t *n, int errnum, const char *what, oci_error **err);

#endif
