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

#include "rootless.h"

enum { OPT_PID_FILE = CLI_OPT_LONG, OPT_LOG_FORMAT, OPT_LOG_SIZE_MAX, OPT_LOG_ROTATE };

const struct cli_option cli_create_options[] = {
    {"bundle", 'b', "DIR", "the OCI bundle (required)"},
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

int cli_create_finish(const struct cli_context *ctx, int argc, char **argv,
                      struct container_create_opts *o, oci_error **err)
{
  if (cli_check_args(ctx, argc - optind, err) < 0)
    return -1;
  if (o->bundle == NULL)
    return cli_usage_error(ctx, err, "--bundle is required");
  o->root = ctx->root;
  o->runtime = ctx->runtime;
  o->self_path = ctx->self_path;
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
  if (stat(o->bundle, &st) == 0 && !S_ISDIR(st.st_mode)) {
    if (S_ISREG(st.st_mode) && is_sif_image(o->bundle))
      return cli_usage_error(ctx, err,
                             "bundle '%s': that is an image: 'oci mount' it first "
                             "('oci mount %s DIR', then 'oci %s -b DIR %s')",
                             o->bundle, o->bundle, ctx->verb->name, o->id);
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
  if (realpath(o->bundle, abs) != NULL && container_using_bundle(ctx->root, abs, &user, NULL) > 0 &&
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
  int c;
  while ((c = cli_next_option(ctx, argc, argv, err)) > 0)
    cli_create_option(c, optarg, &o);
  if (c < 0 || cli_create_finish(ctx, argc, argv, &o, err) < 0 ||
      cli_create_preflight(ctx, &o, false, err) < 0)
    return -1;
  cleanup_container struct container ct = {0};
  pid_t pid;
  const char *note = rootless_mapping_note(); /* what a single-ID mapping limits */
  if (note != NULL)
    fprintf(stderr, "oci: %s\n", note);
  if (container_create(&o, &ct, &pid, err) < 0)
    return -1;
  fprintf(stderr, "Container %s created with PID %ld\n", o.id, (long)pid);
  return 0;
}

const struct cli_verb cli_verb_create = {
    .name = "create",
    .usage = "-b BUNDLE [OPTIONS] ID",
    .summary = "create a container from a bundle, under a monitor",
    .options = {cli_create_options},
    .min_args = 1,
    .max_args = 1,
    .handler = cmd_create,
};
