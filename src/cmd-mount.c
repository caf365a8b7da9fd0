/* SPDX-License-Identifier: Apache-2.0 */
/* oci mount [--no-seccomp] [--method M] [--quiet] [BUNDLE OPTIONS] IMAGE
 * BUNDLE: a SIF image as an OCI bundle (bundle/bundle.h), with what the
 * user asks for in its config.json (mount-flags.h). */
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bundle.h"
#include "cli.h"
#include "mount-flags.h"

enum {
  OPT_NO_SECCOMP = CLI_OPT_LONG,
  OPT_METHOD,
  OPT_QUIET,
  OPT_OVERLAY,
  OPT_WRITABLE_TMPFS,
  OPT_WRITABLE
};

static const struct cli_option options[] = {
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
    {NULL, 0, NULL, NULL},
};

struct progress_bar {
  struct timespec start, last;
  bool drawn;
};

static double since(const struct timespec *a, const struct timespec *b)
{
  return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* bytes done of total, rate, time left; redrawn at most 10 times a second */
static void draw_progress(const struct bundle_extract_stats *s, void *data)
{
  struct progress_bar *bar = data;
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

static int cmd_mount(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  struct bundle_mount_options mopts = {0};
  struct bundle_spec_options spec_opts = {0};
  struct bundle_overlays overlays = {0};
  const char *overlay_args[BUNDLE_OVERLAYS_MAX + 1];
  size_t n_overlay_args = 0;
  bool writable_tmpfs = false, writable = false;
  bool quiet = false;
  int c, r;
  while ((c = cli_next_option(ctx, argc, argv, err)) > 0) {
    if ((r = cli_mount_flag(ctx, &spec_opts, c, optarg, err)) != 0) {
      if (r < 0)
        goto fail;
      continue;
    }
    switch (c) {
    case OPT_NO_SECCOMP: mopts.no_seccomp = true; break;
    case OPT_QUIET: quiet = true; break;
    case OPT_WRITABLE_TMPFS: writable_tmpfs = true; break;
    case OPT_WRITABLE: writable = true; break;
    case OPT_OVERLAY:
      if (n_overlay_args == BUNDLE_OVERLAYS_MAX) {
        cli_usage_error(ctx, err, "at most %d --overlay options", BUNDLE_OVERLAYS_MAX);
        goto fail;
      }
      overlay_args[n_overlay_args++] = optarg;
      break;
    case OPT_METHOD:
      mopts.method = bundle_method_from_name(optarg);
      if (mopts.method == BUNDLE_METHOD_MAX) {
        cli_usage_error(ctx, err, "unknown --method '%s' (auto, kernel, fuse or extract)", optarg);
        goto fail;
      }
      break;
    default: break;
    }
  }
  if (c < 0 || cli_check_args(ctx, argc - optind, err) < 0)
    goto fail;
  if (bundle_spec_options_check(&spec_opts, err) < 0) {
    oci_error_prefix(err, "mount");
    goto fail;
  }
  if (bundle_overlays_parse(overlay_args, n_overlay_args, writable_tmpfs, writable, &overlays,
                            err) < 0) {
    oci_error_prefix(err, "mount '%s'", argv[optind]);
    goto fail;
  }
  mopts.spec_options = &spec_opts;
  mopts.overlays = &overlays;
  struct progress_bar bar = {0};
  clock_gettime(CLOCK_MONOTONIC, &bar.start);
  struct bundle_extract_stats stats = {0};
  enum bundle_method used = BUNDLE_METHOD_AUTO;
  bool owner_only = false;
  if (!quiet && isatty(STDERR_FILENO)) {
    mopts.progress = draw_progress;
    mopts.progress_data = &bar;
  }
  mopts.ret_stats = &stats;
  mopts.ret_method = &used;
  mopts.ret_fuse_owner_only = &owner_only;
  const char *image = argv[optind];
  r = bundle_mount(image, argv[optind + 1], &mopts, err);
  bundle_spec_options_clear(&spec_opts);
  bundle_overlays_clear(&overlays);
  if (r < 0) {
    if (bar.drawn)
      fputc('\n', stderr);
    return oci_error_prefix(err, "mount '%s'", image);
  }
  if (used == BUNDLE_METHOD_EXTRACT && stats.devices_skipped > 0)
    fprintf(stderr,
            "oci: mount '%s': note: %llu device node(s) in the image skipped (a container gets "
            "its devices from the runtime)\n",
            image, (unsigned long long)stats.devices_skipped);
  if (used == BUNDLE_METHOD_FUSE && owner_only)
    fprintf(stderr,
            "oci: mount '%s': note: no user_allow_other in /etc/fuse.conf: only the container's "
            "root can use its files\n",
            image);
  return 0;
fail:
  bundle_spec_options_clear(&spec_opts);
  bundle_overlays_clear(&overlays);
  return -1;
}

const struct cli_verb cli_verb_mount = {
    .name = "mount",
    .usage =
        "[--no-seccomp] [--method auto|kernel|fuse|extract] [--quiet] [--overlay PATH[:ro]]... "
        "[--writable-tmpfs|--writable] [BUNDLE OPTIONS] IMAGE BUNDLE",
    .summary = "make an OCI bundle from a SIF image (read-only image, writable overlay)",
    .options = {options, cli_mount_flags_mounts, cli_mount_flags_process,
                cli_mount_flags_privileges, cli_mount_flags_limits, cli_mount_flags_devices},
    .option_titles = {NULL, CLI_MOUNT_FLAG_TITLES},
    .min_args = 2,
    .max_args = 2,
    .handler = cmd_mount,
};
