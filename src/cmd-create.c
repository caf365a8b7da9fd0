/* SPDX-License-Identifier: Apache-2.0 */
/* oci create: a container from a bundle, under its own oci-monitor. */
#include "cmd-create.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "ephemeral.h"
#include "mount-flags.h"
#include "rootless.h"

enum { OPT_PID_FILE = CLI_OPT_LONG, OPT_LOG_FORMAT, OPT_LOG_SIZE_MAX, OPT_LOG_ROTATE };

const struct cli_option cli_create_options[] = {
    {"bundle", 'b', "DIR", "the OCI bundle (without it: an IMAGE, mounted for the container)"},
    {"pid-file", OPT_PID_FILE, "FILE", "write the container's pid here"},
    {"log-path", 'l', "FILE", "container log (default: STATE/ID/container.log)"},
    {"log-format", OPT_LOG_FORMAT, "FMT", "kubernetes (default) or json"},
    {"log-size-max", OPT_LOG_SIZE_MAX, "BYTES", "rotate the log when it would pass BYTES"},
    {"log-rotate", OPT_LOG_ROTATE, "N", "keep N rotated logs, LOG.1 .. LOG.N (default 1)"},
    {NULL, 0, NULL, NULL},
};

bool cli_create_option(int key, const char *value, struct container_create_opts *o)
{
  switch (key) {
  case 'b': o->bundle = value; return true;
  case OPT_PID_FILE: o->pid_file = value; return true;
  case 'l': o->log_path = value; return true;
  case OPT_LOG_FORMAT: o->log_format = value; return true;
  case OPT_LOG_SIZE_MAX: o->log_size_max = value; return true;
  case OPT_LOG_ROTATE: o->log_rotate = value; return true;
  default: return false;
  }
}

void cli_create_context(const struct cli_context *ctx, struct container_create_opts *o)
{
  o->root = ctx->root;
  o->runtime = ctx->runtime;
  o->self_path = ctx->self_path;
}

int cli_create_finish(const struct cli_context *ctx, int argc, char **argv,
                      struct container_create_opts *o, const char *extra_hint, oci_error **err)
{
  int n = argc - optind;
  if (n > 1 && extra_hint != NULL)
    return cli_usage_error(ctx, err, "'%s' after the ID: %s", argv[optind + 1], extra_hint);
  if (n > 1)
    return cli_usage_error(ctx, err, "too many arguments (usage: oci %s -b BUNDLE [OPTIONS] ID)",
                           ctx->verb->name);
  if (cli_check_args(ctx, n, err) < 0)
    return -1;
  if (o->bundle == NULL)
    return cli_usage_error(ctx, err, "--bundle is required (or give an image: oci %s IMAGE ...)",
                           ctx->verb->name);
  cli_create_context(ctx, o);
  o->id = argv[optind];
  return 0;
}

/* A SIF file where a bundle directory belongs: the header has "SIF_MAGIC"
 * after its 32-byte launch line. */
static bool is_sif_image(const char *path)
{
  char head[42];
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  return fd >= 0 && pread(fd, head, sizeof(head), 0) == (ssize_t)sizeof(head) &&
         memcmp(head + 32, "SIF_MAGIC", 10) == 0;
}

int cli_create_preflight(const struct cli_context *ctx, struct container_create_opts *o,
                         bool attached, oci_error **err)
{
  struct stat st;
  int r;
  if (o->bundle != NULL && stat(o->bundle, &st) == 0 && !S_ISDIR(st.st_mode)) {
    if (S_ISREG(st.st_mode) && is_sif_image(o->bundle)) {
      /* the image form says the same (ephemeral.h) */
      cleanup_free char *form = NULL;
      if (strcmp(ctx->verb->name, "run") == 0)
        r = asprintf(&form, "oci run --name %s %s", o->id, o->bundle);
      else
        r = asprintf(&form, "oci %s %s %s", ctx->verb->name, o->bundle, o->id);
      return cli_usage_error(ctx, err,
                             "bundle '%s': that is an image: '%s' runs it from a bundle of its "
                             "own (or 'oci mount %s DIR', then 'oci %s -b DIR %s')",
                             o->bundle, r < 0 ? "oci run IMAGE" : form, o->bundle, ctx->verb->name,
                             o->id);
    }
    return cli_usage_error(ctx, err, "bundle '%s' is not a directory", o->bundle);
  }
  /* A terminal container fed from a file or a pipe would sit at its
   * prompt, its stdin's end never reaching it: it runs on pipes instead,
   * as `docker run` without -t does, so `oci run ... </dev/null`, a pipe,
   * a script, Slurm or CI get the output, the end of input and the exit
   * status.  (`oci mount` writes terminal bundles: a terminal is what a
   * user at one wants.) */
  if (attached && !isatty(0))
    o->without_terminal = true;
  /* Two containers on one bundle write to one writable layer (its
   * overlay's upper dir): allowed, as runc allows it, but rarely meant. */
  char abs[PATH_MAX];
  cleanup_free char *user = NULL;
  if (o->bundle != NULL && realpath(o->bundle, abs) != NULL &&
      container_using_bundle(ctx->root, abs, &user, NULL) > 0 &&
      strcmp(user, o->id) != 0) /* (that one is "already exists") */
    fprintf(stderr,
            "oci: warning: container '%s' runs from bundle '%s' too: the two share its "
            "writable layer\n",
            user, o->bundle);
  return 0;
}

static int cmd_create(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  struct container_create_opts o = {0};
  struct cli_ephemeral e = {0};
  /* before the first goto: its cleanup runs at out */
  cleanup_container struct container ct = {0};
  int c, r = -1;
  while ((c = cli_next_option(ctx, argc, argv, err)) > 0)
    if (!cli_create_option(c, optarg, &o) &&
        cli_mount_request_option(ctx, &e.req, c, optarg, err) < 0)
      goto out;
  if (c < 0)
    goto out;
  /* no --bundle and two operands: IMAGE ID (ephemeral.h) */
  if (o.bundle == NULL && argc - optind == 2) {
    if (cli_ephemeral_prepare(ctx, &e, argv[optind], argv[optind + 1], &o, err) < 0)
      goto out;
  } else if (e.req.any) {
    cli_usage_error(ctx, err, "mount options need an image: oci create [OPTIONS] IMAGE ID");
    goto out;
  } else if (cli_create_finish(ctx, argc, argv, &o, NULL, err) < 0) {
    goto out;
  }
  if (cli_create_preflight(ctx, &o, false, err) < 0)
    goto out;
  pid_t pid;
  const char *note = rootless_mapping_note(); /* what a single-ID mapping limits */
  if (note != NULL)
    fprintf(stderr, "oci: %s\n", note);
  if (container_create(&o, &ct, &pid, err) < 0)
    goto out;
  fprintf(stderr, "Container %s created with PID %ld\n", o.id, (long)pid);
  r = 0;
out:
  cli_ephemeral_clear(&e);
  return r;
}

const struct cli_verb cli_verb_create = {
    .name = "create",
    .usage = "-b BUNDLE [OPTIONS] ID | [OPTIONS] [MOUNT OPTIONS] IMAGE ID",
    .summary = "create a container from a bundle or an image, under a monitor",
    .options = {cli_create_options, cli_mount_options, cli_mount_flags_mounts,
                cli_mount_flags_process, cli_mount_flags_privileges, cli_mount_flags_limits,
                cli_mount_flags_devices},
    .option_titles = {NULL, "Mount options (with IMAGE)", CLI_MOUNT_FLAG_TITLES},
    .min_args = 1,
    .max_args = 2,
    .handler = cmd_create,
};
