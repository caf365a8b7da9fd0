/* SPDX-License-Identifier: Apache-2.0 */
/* `oci mount`'s options and the mount they ask for (mount-request.h). */
#include "mount-request.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mount-flags.h"
#include "rootless.h"

/* keys: above create's and run's own, below the bundle options'
 * (mount-flags.c), so one verb can offer all of them */
enum {
  OPT_NO_SECCOMP = CLI_OPT_LONG + 0x100,
  OPT_METHOD,
  OPT_QUIET,
  OPT_OVERLAY,
  OPT_WRITABLE_TMPFS,
  OPT_WRITABLE,
  OPT_PLATFORM
};

const struct cli_option cli_mount_options[] = {
    {"no-seccomp", OPT_NO_SECCOMP, NULL, "leave the default seccomp profile out of config.json"},
    {"method", OPT_METHOD, "M",
     "auto (default: kernel for root; for others fuse when it can serve the image,\n"
     "else extract), kernel (loop + squashfs + overlay, root only), fuse (squashfuse\n"
     "+ fuse-overlayfs daemons) or extract (unpack the image into BUNDLE/rootfs)"},
    {"quiet", OPT_QUIET, NULL, "no progress bar while extracting"},
    {"overlay", OPT_OVERLAY, "PATH[:ro]",
     "a directory (DIR/upper and DIR/work take the container's writes, kept\n"
     "across umount), an ext3 image file (its upper/ and work/, kept in the file)\n"
     "or a squashfs file (always read-only); with :ro a read-only layer above\n"
     "the image; repeatable, at most one writable (kernel method; fuse: directories)"},
    {"writable-tmpfs", OPT_WRITABLE_TMPFS, NULL,
     "the writable layer on a tmpfs of its own (gone at umount; kernel method)"},
    {"writable", OPT_WRITABLE, NULL,
     "the image's ext3 overlay partition is the writable layer: writes are kept\n"
     "in the SIF file (checked with e2fsck -n first; kernel method)"},
    {"platform", OPT_PLATFORM, "OS/ARCH[/VARIANT]",
     "the image to take from an OCI-SIF that holds several (default: the host's,\n"
     "linux/ARCH)"},
    {NULL, 0, NULL, NULL},
};

/* As runc tells (libcontainer/apparmor): the module says it is on. */
static bool apparmor_enabled(void)
{
  char c = 0;
  FILE *f = fopen("/sys/module/apparmor/parameters/enabled", "re");
  if (f != NULL) {
    c = (char)fgetc(f);
    fclose(f);
  }
  return c == 'Y';
}

static double since(const struct timespec *a, const struct timespec *b)
{
  return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* bytes done of total, rate, time left; redrawn at most 10 times a second */
static void draw_progress(const struct bundle_extract_stats *s, void *data)
{
  struct cli_mount_progress *bar = data;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  bool done = s->bytes_done >= s->bytes_total;
  if (!done && bar->drawn && since(&bar->last, &now) < 0.1)
    return;
  bar->last = now;
  bar->drawn = true;
  double t = since(&bar->start, &now), mib = 1024.0 * 1024.0;
  double rate = t > 0 ? (double)s->bytes_done / t : 0;
  double left = rate > 0 ? (double)(s->bytes_total - s->bytes_done) / rate : 0;
  int width = 30, fill = s->bytes_total ? (int)(width * s->bytes_done / s->bytes_total) : width;
  char bar_text[31];
  memset(bar_text, '#', (size_t)fill);
  memset(bar_text + fill, '.', (size_t)(width - fill));
  bar_text[width] = '\0';
  fprintf(stderr, "\r[%s] %.1f/%.1f MiB  %.1f MiB/s  %ds left ", bar_text,
          (double)s->bytes_done / mib, (double)s->bytes_total / mib, rate / mib,
          done ? 0 : (int)left);
  if (done)
    fputc('\n', stderr);
  fflush(stderr);
}

int cli_mount_request_option(const struct cli_context *ctx, struct cli_mount_request *req, int key,
                             const char *value, oci_error **err)
{
  int r = cli_mount_flag(ctx, &req->spec_opts, key, value, err);
  if (r != 0) {
    req->any = true;
    return r;
  }
  switch (key) {
  case OPT_NO_SECCOMP: req->mopts.no_seccomp = true; break;
  case OPT_QUIET: req->quiet = true; break;
  case OPT_WRITABLE_TMPFS: req->writable_tmpfs = true; break;
  case OPT_WRITABLE: req->writable = true; break;
  case OPT_OVERLAY:
    if (req->n_overlay_args == BUNDLE_OVERLAYS_MAX)
      return cli_usage_error(ctx, err, "at most %d --overlay options", BUNDLE_OVERLAYS_MAX);
    req->overlay_args[req->n_overlay_args++] = value;
    break;
  case OPT_PLATFORM:
    if (bundle_platform_parse(value, &req->platform, NULL) < 0)
      return cli_usage_error(ctx, err,
                             "--platform '%s' is not OS/ARCH[/VARIANT] (e.g. linux/amd64)", value);
    req->mopts.platform = &req->platform;
    break;
  case OPT_METHOD:
    req->mopts.method = bundle_method_from_name(value);
    if (req->mopts.method == BUNDLE_METHOD_MAX)
      return cli_usage_error(ctx, err, "unknown --method '%s' (auto, kernel, fuse or extract)",
                             value);
    break;
  default: return 0;
  }
  req->any = true;
  return 1;
}

int cli_mount_request_finish(const struct cli_context *ctx, struct cli_mount_request *req,
                             const char *image, oci_error **err)
{
  (void)ctx;
  if (bundle_spec_options_check(&req->spec_opts, err) < 0)
    return oci_error_prefix(err, "mount");
  if (bundle_overlays_parse(req->overlay_args, req->n_overlay_args, req->writable_tmpfs,
                            req->writable, &req->overlays, err) < 0)
    return oci_error_prefix(err, "mount '%s'", image);
  req->mopts.spec_options = &req->spec_opts;
  req->mopts.overlays = &req->overlays;
  return 0;
}

int cli_mount_request_mount(struct cli_mount_request *req, const char *image, const char *bundle,
                            oci_error **err)
{
  struct bundle_mount_options *m = &req->mopts;
  clock_gettime(CLOCK_MONOTONIC, &req->bar.start);
  if (!req->quiet && isatty(STDERR_FILENO)) {
    m->progress = draw_progress;
    m->progress_data = &req->bar;
  }
  m->ret_stats = &req->stats;
  m->ret_method = &req->used;
  m->ret_fuse_owner_only = &req->owner_only;
  /* A user's bundle runs rootless: its limits need a delegated cgroup,
   * without which run and create refuse them (rootless.h).  The bundle
   * still gets them, for a runtime that has cgroups; the user hears now. */
  const char *limit = rootless_active() ? cli_mount_flags_limit_asked(&req->spec_opts) : NULL;
  bool apparmor = req->spec_opts.apparmor != NULL && !apparmor_enabled();
  if (bundle_mount(image, bundle, m, err) < 0) {
    if (req->bar.drawn)
      fputc('\n', stderr);
    return oci_error_prefix(err, "mount '%s'", image);
  }
  if (req->used == BUNDLE_METHOD_EXTRACT && req->stats.devices_skipped > 0)
    fprintf(stderr,
            "oci: mount '%s': note: %llu device node(s) in the image skipped (a container gets "
            "its devices from the runtime)\n",
            image, (unsigned long long)req->stats.devices_skipped);
  if (apparmor)
    fprintf(stderr,
            "oci: mount '%s': note: --security apparmor: AppArmor is not enabled on this host: "
            "runc will refuse to start the container here\n",
            image);
  if (limit != NULL && !rootless_has_cgroup())
    fprintf(stderr,
            "oci: mount '%s': note: --%s: this user has no delegated cgroup: 'oci run' and 'oci "
            "create' will refuse the limits (runc cannot apply them without one)\n",
            image, limit);
  if (req->used == BUNDLE_METHOD_FUSE && req->owner_only)
    fprintf(stderr,
            "oci: mount '%s': note: no user_allow_other in /etc/fuse.conf: only the container's "
            "root can use its files\n",
            image);
  return 0;
}

void cli_mount_request_clear(struct cli_mount_request *req)
{
  bundle_spec_options_clear(&req->spec_opts);
  bundle_overlays_clear(&req->overlays);
}
