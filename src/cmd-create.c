/* SPDX-License-Identifier: Apache-2.0 */
/* oci create: a container from a bundle, under its own oci-monitor. */
#include "cmd-create.h"

#include <getopt.h>
#include <stdio.h>

#include "rootless.h"

enum { OPT_PID_FILE = CLI_OPT_LONG, OPT_LOG_FORMAT };

const struct cli_option cli_create_options[] = {
    {"bundle", 'b', "DIR", "the OCI bundle (required)"},
    {"pid-file", OPT_PID_FILE, "FILE", "write the container's pid here"},
    {"log-path", 'l', "FILE", "container log (default: STATE/ID/container.log)"},
    {"log-format", OPT_LOG_FORMAT, "FMT", "kubernetes (default) or json"},
    {NULL, 0, NULL, NULL},
};

bool cli_create_option(int key, const char *value, struct container_create_opts *o)
{
  switch (key) {
  case 'b': o->bundle = value; return true;
  case OPT_PID_FILE: o->pid_file = value; return true;
  case 'l': o->log_path = value; return true;
  case OPT_LOG_FORMAT: o->log_format = value; return true;
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

static int cmd_create(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  struct container_create_opts o = {0};
  int c;
  while ((c = cli_next_option(ctx, argc, argv, err)) > 0)
    cli_create_option(c, optarg, &o);
  if (c < 0 || cli_create_finish(ctx, argc, argv, &o, err) < 0)
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
