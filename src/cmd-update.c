/* SPDX-License-Identifier: Apache-2.0 */
/* oci update: new resource limits (OCI LinuxResources JSON) for a
 * container; '-' reads them from stdin. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "container.h"

static const struct cli_option options[] = {
    {"from-file", 'f', "FILE", "OCI LinuxResources JSON ('-' reads stdin)"},
    {NULL, 0, NULL, NULL},
};

/* The resources JSON, checked here: the runtime's own words for bad JSON
 * are Go's ("invalid character '}' looking for beginning of object key
 * string") with no position. */
static json_t *load_resources(const char *file, oci_error **err)
{
  json_error_t jerr;
  bool from_stdin = strcmp(file, "-") == 0;
  json_t *j = from_stdin ? json_loadf(stdin, 0, &jerr) : json_load_file(file, 0, &jerr);
  const char *shown = from_stdin ? "stdin" : file;
  if (j == NULL) {
    if (jerr.line < 0) /* not a parse error: the file itself */
      oci_error_set(err, 0, "update: '%s': %s", shown, jerr.text);
    else
      oci_error_set(err, 0, "update: '%s' is not valid JSON: line %d, column %d: %s", shown,
                    jerr.line, jerr.column, jerr.text);
    return NULL;
  }
  if (!json_is_object(j)) {
    json_decref(j);
    oci_error_set(err, 0, "update: '%s': expected a JSON object (OCI LinuxResources)", shown);
  }
  return json_is_object(j) ? j : NULL;
}

/* Resources read from stdin go to the runtime as a file of the state dir
 * (stdin is read already): its path, or NULL with *err. */
static char *write_resources(struct container *ct, json_t *j, oci_error **err)
{
  char name[64];
  snprintf(name, sizeof(name), "update-%ld.json", (long)getpid());
  cleanup_free char *text = json_dumps(j, JSON_COMPACT);
  char *path = ctr_path(ct->c, name);
  if (text == NULL || path == NULL) {
    free(path);
    oci_error_set(err, ENOMEM, "update");
    return NULL;
  }
  cleanup_close int fd =
      openat(ct->c->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  size_t len = strlen(text);
  if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
    oci_error_set(err, errno, "update: '%s'", path);
    unlinkat(ct->c->dirfd, name, 0);
    free(path);
    return NULL;
  }
  return path;
}

static int cmd_update(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  const char *file = NULL;
  int c;
  while ((c = cli_next_option(ctx, argc, argv, err)) > 0)
    file = optarg; /* -f is the only one */
  if (c < 0 || cli_check_args(ctx, argc - optind, err) < 0)
    return -1;
  /* runc would take "nothing" as a silent no-op */
  if (file == NULL || file[0] == '\0')
    return cli_usage_error(ctx, err, "nothing to update: give -f FILE (or -f - for stdin)");
  json_auto_t *resources = load_resources(file, err);
  if (resources == NULL)
    return -1;
  cleanup_container struct container ct = {0};
  if (container_open(ctx->root, argv[optind], CTR_LOCK_EXCLUSIVE, 0, &ct, err) < 0)
    return -1;
  if (strcmp(file, "-") != 0)
    return container_update(&ct, file, err) < 0 ? -1 : 0;
  cleanup_free char *copy = write_resources(&ct, resources, err);
  if (copy == NULL)
    return -1;
  int r = container_update(&ct, copy, err);
  unlink(copy);
  return r < 0 ? -1 : 0;
}

const struct cli_verb cli_verb_update = {
    .name = "update",
    .usage = "-f FILE|- ID",
    .summary = "update a container's resource limits",
    .options = {options},
    .min_args = 1,
    .max_args = 1,
    .handler = cmd_update,
};
