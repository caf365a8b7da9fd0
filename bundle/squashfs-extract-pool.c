/* SPDX-License-Identifier: Apache-2.0 */
#include "squashfs-extract-pool.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqfs/error.h>
#include <sqfs/inode.h>

#include "squashfs-internal.h"
#include "squashfs-tree.h"

/* Read and write this much at a time. */
#define CHUNK (1u << 20)
/* A file larger than this is cut into pieces of this size (a multiple of
 * every squashfs block size, so no block is decompressed twice). */
#define PIECE (8u << 20)
/* Pieces waiting: bounds the fds held open (one per waiting file). */
#define QUEUE_MAX 128
#define WORKERS_MAX 8

struct xfile {
  const sqfs_tree_node_t *node;
  int fd;
  void *meta;
  unsigned pieces_left; /* under the pool's lock */
};

struct piece {
  struct xfile *file;
  uint64_t off, len;
};

/* One worker's own libsquashfs objects. */
struct reader {
  sqfs_file_t *file;
  sqfs_compressor_t *cmp;
  sqfs_data_reader_t *data;
  char *buf;
};

struct bundle_xpool {
  struct bundle_xpool_config cfg;
  struct bundle_sqfs *sq;
  struct reader inline_reader; /* workers == 0: the image's own readers */
  pthread_mutex_t lock;
  pthread_cond_t not_empty, not_full, idle;
  struct piece queue[QUEUE_MAX];
  size_t head, count;
  size_t busy; /* pieces taken and not finished */
  bool closed;
  int abort, failed; /* atomic: skip what is left; a worker failed */
  oci_error *err;
  unsigned n_workers;
  pthread_t threads[WORKERS_MAX];
  struct reader readers[WORKERS_MAX];
};

unsigned bundle_xpool_default_workers(void)
{
  const char *env = getenv("SIFOCI_EXTRACT_THREADS");
  if (env != NULL && *env != '\0') {
    char *end = NULL;
    unsigned long n = strtoul(env, &end, 10);
    if (*end == '\0' && n >= 1)
      return n > WORKERS_MAX ? WORKERS_MAX : n == 1 ? 0 : (unsigned)n;
  }
  cpu_set_t set;
  int cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
  if (cpus <= 1)
    return 0;
  return cpus > WORKERS_MAX ? WORKERS_MAX : (unsigned)cpus;
}

static void reader_close(struct reader *r, bool owned)
{
  if (owned) {
    sqfs_destroy(r->data);
    sqfs_destroy(r->cmp);
    sqfs_destroy(r->file);
  }
  free(r->buf);
  memset(r, 0, sizeof(*r));
}

/* A data reader of its own over a copy of the image's window. */
static int reader_open(struct bundle_sqfs *sq, struct reader *r, oci_error **err)
{
  sqfs_compressor_config_t cfg;
  r->buf = malloc(CHUNK);
  r->file = sqfs_copy(sq->file);
  if (r->buf == NULL || r->file == NULL)
    return oci_error_set(err, ENOMEM, "extracting");
  int rc = sqfs_compressor_config_init(&cfg, (SQFS_COMPRESSOR)sq->super.compression_id,
                                       sq->super.block_size, SQFS_COMP_FLAG_UNCOMPRESS);
  if (rc == 0)
    rc = sqfs_compressor_create(&cfg, &r->cmp);
  if (rc == 0 && (sq->super.flags & SQFS_FLAG_COMPRESSOR_OPTIONS))
    rc = r->cmp->read_options(r->cmp, r->file);
  if (rc == 0) {
    r->data = sqfs_data_reader_create(r->file, sq->super.block_size, r->cmp, 0);
    rc = r->data == NULL ? SQFS_ERROR_ALLOC
                         : sqfs_data_reader_load_fragment_table(r->data, &sq->super);
  }
  if (rc != 0)
    return oci_error_set(err, 0, "extracting: a worker's reader: %s", bundle_sqfs_strerror(rc));
  return 0;
}

int bundle_xpool_fail(const sqfs_tree_node_t *n, int errnum, const char *what, oci_error **err)
{
  char path[512];
  bundle_sqfs_node_path(n, path, sizeof(path));
  if (errnum == ENOSPC || errnum == EDQUOT)
    return oci_error_set(err, errnum, "extracting '%s'", path);
  return oci_error_set(err, errnum, "extracting '%s': %s", path, what);
}

static int pwrite_all(int fd, const char *buf, size_t len, uint64_t off)
{
  while (len > 0) {
    ssize_t n = pwrite(fd, buf, len, (off_t)off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    if (n == 0) {
      errno = EIO;
      return -1;
    }
    buf += n, len -= (size_t)n, off += (uint64_t)n;
  }
  return 0;
}

/* [off, off + len) of N's data into FD at the same offset. */
static int write_range(struct bundle_xpool *p, struct reader *r, const sqfs_tree_node_t *n, int fd,
                       uint64_t off, uint64_t len, bool draw, oci_error **err)
{
  for (uint64_t end = off + len; off < end;) {
    sqfs_u32 want = end - off < CHUNK ? (sqfs_u32)(end - off) : CHUNK;
    sqfs_s32 got = sqfs_data_reader_read(r->data, n->inode, off, r->buf, want);
    if (got <= 0)
      return bundle_xpool_fail(n, 0, got < 0 ? bundle_sqfs_strerror(got) : "file ends early", err);
    if (pwrite_all(fd, r->buf, (size_t)got, off) < 0)
      return bundle_xpool_fail(n, errno, "write", err);
    off += (uint64_t)got;
    __atomic_fetch_add(&p->cfg.stats->bytes_done, (uint64_t)got, __ATOMIC_RELAXED);
    if (draw && p->cfg.progress)
      p->cfg.progress(p->cfg.stats, p->cfg.progress_data);
    if (__atomic_load_n(&p->failed, __ATOMIC_RELAXED))
      return -1; /* another worker failed: its error is the one */
  }
  return 0;
}

/* The bar is redrawn while the walk waits: a tenth of a second from now. */
static struct timespec tenth_from_now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  t.tv_nsec += 100 * 1000 * 1000;
  if (t.tv_nsec >= 1000000000L) {
    t.tv_sec++;
    t.tv_nsec -= 1000000000L;
  }
  return t;
}

static void file_free(struct bundle_xpool *p, struct xfile *f)
{
  close(f->fd);
  if (p->cfg.free_meta)
    p->cfg.free_meta(f->meta);
  free(f);
}

static void record_error(struct bundle_xpool *p, oci_error **e)
{
  pthread_mutex_lock(&p->lock);
  if (p->err == NULL && e != NULL && *e != NULL) {
    p->err = *e;
    *e = NULL;
  }
  __atomic_store_n(&p->failed, 1, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&p->lock);
  oci_error_free(e);
}

struct worker_arg {
  struct bundle_xpool *pool;
  struct reader *reader;
};

static void *worker_run(void *arg)
{
  struct worker_arg a = *(struct worker_arg *)arg;
  free(arg);
  struct bundle_xpool *p = a.pool;
  pthread_mutex_lock(&p->lock);
  for (;;) {
    while (p->count == 0 && !p->closed)
      pthread_cond_wait(&p->not_empty, &p->lock);
    if (p->count == 0)
      break;
    struct piece pc = p->queue[p->head];
    p->head = (p->head + 1) % QUEUE_MAX;
    p->count--;
    p->busy++;
    bool skip = p->abort || p->failed; /* both only ever set under the lock too */
    pthread_cond_signal(&p->not_full);
    pthread_mutex_unlock(&p->lock);

    oci_error *e = NULL;
    int rc =
        skip ? -1 : write_range(p, a.reader, pc.file->node, pc.file->fd, pc.off, pc.len, false, &e);
    if (rc < 0 && !skip)
      record_error(p, &e);

    pthread_mutex_lock(&p->lock);
    bool last = --pc.file->pieces_left == 0;
    pthread_mutex_unlock(&p->lock);
    if (last) {
      if (!__atomic_load_n(&p->failed, __ATOMIC_RELAXED) &&
          !__atomic_load_n(&p->abort, __ATOMIC_RELAXED) &&
          p->cfg.done(p->cfg.ctx, pc.file->node, pc.file->fd, pc.file->meta, &e) < 0)
        record_error(p, &e);
      file_free(p, pc.file);
    }
    pthread_mutex_lock(&p->lock);
    p->busy--;
    if (p->count == 0 && p->busy == 0)
      pthread_cond_broadcast(&p->idle);
  }
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

static void pool_free(struct bundle_xpool *p)
{
  for (unsigned i = 0; i < p->n_workers; i++)
    reader_close(&p->readers[i], true);
  reader_close(&p->inline_reader, false);
  pthread_mutex_destroy(&p->lock);
  pthread_cond_destroy(&p->not_empty);
  pthread_cond_destroy(&p->not_full);
  pthread_cond_destroy(&p->idle);
  oci_error_free(&p->err);
  free(p);
}

static void stop_workers(struct bundle_xpool *p)
{
  pthread_mutex_lock(&p->lock);
  p->closed = true;
  pthread_cond_broadcast(&p->not_empty);
  pthread_mutex_unlock(&p->lock);
  for (unsigned i = 0; i < p->n_workers; i++)
    pthread_join(p->threads[i], NULL);
}

int bundle_xpool_start(struct bundle_sqfs *sq, const struct bundle_xpool_config *cfg,
                       struct bundle_xpool **ret, oci_error **err)
{
  struct bundle_xpool *p = calloc(1, sizeof(*p));
  if (p == NULL)
    return oci_error_set(err, ENOMEM, "extracting");
  p->cfg = *cfg;
  p->sq = sq;
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->not_empty, NULL);
  pthread_cond_init(&p->not_full, NULL);
  pthread_cond_init(&p->idle, NULL);
  unsigned want = cfg->workers > WORKERS_MAX ? WORKERS_MAX : cfg->workers;
  if (want == 0) {
    p->inline_reader.data = sq->data;
    p->inline_reader.buf = malloc(CHUNK);
    if (p->inline_reader.buf == NULL) {
      pool_free(p);
      return oci_error_set(err, ENOMEM, "extracting");
    }
    *ret = p;
    return 0;
  }
  for (unsigned i = 0; i < want; i++)
    if (reader_open(sq, &p->readers[i], err) < 0) {
      p->n_workers = i + 1; /* frees the partly opened one too */
      pool_free(p);
      return -1;
    }
  /* workers take no signals: they stay with the thread that handles them */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  for (unsigned i = 0; i < want; i++) {
    struct worker_arg *a = malloc(sizeof(*a));
    int rc = a == NULL ? ENOMEM : 0;
    if (a != NULL) {
      *a = (struct worker_arg){p, &p->readers[i]};
      rc = pthread_create(&p->threads[i], NULL, worker_run, a);
      if (rc != 0)
        free(a);
    }
    if (rc != 0) {
      if (i == 0) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        p->n_workers = want;
        pool_free(p);
        return oci_error_set(err, rc, "extracting: starting a worker thread");
      }
      for (unsigned j = i; j < want; j++)
        reader_close(&p->readers[j], true);
      want = i; /* fewer workers, same result */
      break;
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  p->n_workers = want;
  *ret = p;
  return 0;
}

bool bundle_xpool_failed(struct bundle_xpool *p)
{
  return __atomic_load_n(&p->failed, __ATOMIC_RELAXED) != 0;
}

void bundle_xpool_progress(struct bundle_xpool *p)
{
  if (p->cfg.progress)
    p->cfg.progress(p->cfg.stats, p->cfg.progress_data);
}

static int submit_inline(struct bundle_xpool *p, struct xfile *f, uint64_t size, oci_error **err)
{
  int rc = write_range(p, &p->inline_reader, f->node, f->fd, 0, size, true, err);
  if (rc == 0)
    rc = p->cfg.done(p->cfg.ctx, f->node, f->fd, f->meta, err);
  if (rc < 0)
    __atomic_store_n(&p->failed, 1, __ATOMIC_RELAXED);
  file_free(p, f);
  return rc;
}

int bundle_xpool_submit(struct bundle_xpool *p, const sqfs_tree_node_t *n, uint64_t size, int fd,
                        void *meta, oci_error **err)
{
  struct xfile *f = calloc(1, sizeof(*f));
  if (f == NULL) {
    close(fd);
    if (p->cfg.free_meta)
      p->cfg.free_meta(meta);
    return oci_error_set(err, ENOMEM, "extracting");
  }
  *f = (struct xfile){.node = n, .fd = fd, .meta = meta};
  if (p->n_workers == 0)
    return submit_inline(p, f, size, err);
  unsigned pieces = (unsigned)((size + PIECE - 1) / PIECE);
  f->pieces_left = pieces;
  for (unsigned i = 0; i < pieces; i++) {
    uint64_t off = (uint64_t)i * PIECE, len = size - off < PIECE ? size - off : PIECE;
    pthread_mutex_lock(&p->lock);
    while (p->count == QUEUE_MAX) {
      /* the walk's thread draws the bar while it waits for room */
      struct timespec until = tenth_from_now();
      pthread_cond_timedwait(&p->not_full, &p->lock, &until);
      if (p->count == QUEUE_MAX) {
        pthread_mutex_unlock(&p->lock);
        bundle_xpool_progress(p);
        pthread_mutex_lock(&p->lock);
      }
    }
    p->queue[(p->head + p->count) % QUEUE_MAX] = (struct piece){f, off, len};
    p->count++;
    pthread_cond_signal(&p->not_empty);
    pthread_mutex_unlock(&p->lock);
  }
  return 0;
}

int bundle_xpool_finish(struct bundle_xpool *p, bool abort, oci_error **err)
{
  if (p->n_workers > 0) {
    pthread_mutex_lock(&p->lock);
    if (abort)
      __atomic_store_n(&p->abort, 1, __ATOMIC_RELAXED);
    while (p->count > 0 || p->busy > 0) {
      struct timespec until = tenth_from_now();
      pthread_cond_timedwait(&p->idle, &p->lock, &until);
      pthread_mutex_unlock(&p->lock);
      bundle_xpool_progress(p);
      pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    stop_workers(p);
  }
  int rc = 0;
  if (p->err != NULL) {
    if (err != NULL && *err == NULL) {
      *err = p->err;
      p->err = NULL;
    }
    rc = -1;
  } else if (p->failed && !abort) {
    rc = -1;
  }
  pool_free(p);
  return rc;
}
