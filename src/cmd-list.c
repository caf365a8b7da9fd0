/* SPDX-License-Identifier: Apache-2.0 */
/* oci list: the containers under --root, as runc list shows them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "cli.h"
#include "container-id.h"
#include "container.h"
#include "fs.h"
#include "text-escape.h"

enum { OPT_FORMAT = CLI_OPT_LONG };

static const struct cli_option options[] = {
    {"format", OPT_FORMAT, "FMT", "table (default) or json"},
    {"quiet", 'q', NULL, "print IDs only"},
    {NULL, 0, NULL, NULL},
};

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

struct id_list {
  char **v; /* NULL-terminated */
  size_t n;
};

/* fs_dir_scan: collect what may be a container's dir */
static int add_id(int rootfd, const struct dirent *de, void *data, oci_error **err)
{
  struct id_list *l = data;
  if (!container_id_is_valid(de->d_name) || de->d_type == DT_REG || de->d_type == DT_LNK)
    return 0;
  char **v = realloc(l->v, (l->n + 2) * sizeof(char *));
  if (v == NULL)
    return oci_error_set(err, ENOMEM, "list");
  l->v = v;
  if ((v[l->n] = strdup(de->d_name)) == NULL)
    return oci_error_set(err, ENOMEM, "list");
  v[++l->n] = NULL;
  return 0;
}

/* The IDs under ROOT, sorted; NULL-terminated (empty when there is no ROOT). */
static int list_ids(const char *root, char ***ret, oci_error **err)
{
  cleanup_strv char **none = calloc(1, sizeof(char *));
  if (none == NULL)
    return oci_error_set(err, ENOMEM, "list");
  cleanup_close int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 && errno != ENOENT)
    return oci_error_set(err, errno, "state root '%s'", root);
  struct id_list l = {0};
  if (fd >= 0 && fs_dir_scan(fd, add_id, &l, err) < 0) {
    cleanup_strv char **partial = l.v;
    return oci_error_prefix(err, "state root '%s'", root);
  }
  if (l.v == NULL) {
    *ret = steal_ptr(&none);
    return 0;
  }
  qsort(l.v, l.n, sizeof(char *), cmp_str);
  *ret = l.v;
  return 0;
}

static void print_cell(const char *text, size_t width, bool last)
{
  if (last)
    printf("%s\n", text);
  else
    printf("%-*s", (int)width + 3, text);
}

enum { NCOL = 5 };

/* The list columns of one container: ID, PID, STATUS, BUNDLE, CREATED,
 * escaped (a bundle path is the user's text), newly allocated. */
static void row_cells(json_t *st, char *cell[NCOL])
{
  char pid[24];
  snprintf(pid, sizeof(pid), "%" JSON_INTEGER_FORMAT,
           json_integer_value(json_object_get(st, "pid")));
  const char *raw[NCOL] = {json_string_value(json_object_get(st, "id")), pid,
                           json_string_value(json_object_get(st, "status")),
                           json_string_value(json_object_get(st, "bundle")),
                           json_string_value(json_object_get(st, "created"))};
  /* a damaged entry says why in its status */
  cleanup_free char *status = NULL;
  const char *why = json_string_value(json_object_get(st, "error"));
  if (why && raw[2] && strcmp(raw[2], "damaged") == 0 && asprintf(&status, "damaged: %s", why) > 0)
    raw[2] = status;
  for (int c = 0; c < NCOL; c++)
    cell[c] = text_escape(raw[c] ? raw[c] : "");
}

static void free_cells(char *cell[NCOL])
{
  for (int c = 0; c < NCOL; c++)
    free(cell[c]);
}

static void print_table(json_t *all)
{
  static const char *const cols[] = {"ID", "PID", "STATUS", "BUNDLE", "CREATED"};
  size_t width[NCOL];
  for (int c = 0; c < NCOL; c++)
    width[c] = strlen(cols[c]);
  size_t i;
  json_t *st;
  /* like runc list: columns padded to the widest cell plus 3 */
  json_array_foreach(all, i, st)
  {
    char *cell[NCOL];
    row_cells(st, cell);
    for (int c = 0; c < NCOL; c++)
      if (cell[c] && strlen(cell[c]) > width[c])
        width[c] = strlen(cell[c]);
    free_cells(cell);
  }
  for (int c = 0; c < NCOL; c++)
    print_cell(cols[c], width[c], c == NCOL - 1);
  json_array_foreach(all, i, st)
  {
    char *cell[NCOL];
    row_cells(st, cell);
    for (int c = 0; c < NCOL; c++)
      print_cell(cell[c] ? cell[c] : "?", width[c], c == NCOL - 1);
    free_cells(cell);
  }
}

/* Does ROOT/ID still exist (as anything)? */
static bool dir_has(const char *root, const char *id)
{
  cleanup_close int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat sb;
  return fd >= 0 && fstatat(fd, id, &sb, AT_SYMLINK_NOFOLLOW) == 0;
}

static int list(const char *root, bool as_json, bool quiet, oci_error **err)
{
  cleanup_strv char **ids = NULL;
  if (list_ids(root, &ids, err) < 0)
    return -1;
  json_auto_t *all = json_array();
  for (char **id = ids; *id; id++) {
    cleanup_container struct container ct = {0};
    cleanup_error oci_error *e = NULL;
    json_t *st = NULL;
    int flags = CONTAINER_ALLOW_INCOMPLETE | CONTAINER_ALLOW_DAMAGED;
    if (container_open(root, *id, CTR_LOCK_NONE, flags, &ct, &e) < 0) {
      /* deleted meanwhile, or there and unusable: never hidden */
      cleanup_free char *why = oci_error_format(e);
      if (dir_has(root, *id))
        st = json_pack("{s:s, s:i, s:s, s:s, s:s}", "id", *id, "pid", 0, "status", "damaged",
                       "bundle", "", "error", why ? why : "cannot be opened");
      if (st)
        json_array_append_new(all, st);
      continue;
    }
    if (!ct.incomplete && ctr_run_is_leaving(ct.c) && ctr_monitor_pid(ct.c) > 0)
      continue; /* its `oci run` has returned */
    if (ct.incomplete)
      st = container_incomplete_json(&ct);
    else if (container_state_json(&ct, &st, &e) < 0)
      st = json_pack("{s:s, s:i, s:s, s:s}", "id", *id, "pid", 0, "status", "unknown", "bundle",
                     ctr_state_str(ct.c, "bundle") ?: "");
    if (st && ctr_is_removed(ct.c)) /* removed while we read it */
      json_decref(st);
    else if (st)
      json_array_append_new(all, st);
  }
  size_t i;
  json_t *st;
  if (quiet) {
    json_array_foreach(all, i, st)
    {
      puts(json_string_value(json_object_get(st, "id")));
    }
    return 0;
  }
  if (as_json)
    return cli_print_json(all, err) < 0 ? -1 : 0;
  print_table(all);
  return 0;
}

static int cmd_list(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  bool as_json = false, quiet = false;
  int c;
  while ((c = cli_next_option(ctx, argc, argv, err)) > 0) {
    switch (c) {
    case OPT_FORMAT:
      if (strcmp(optarg, "json") != 0 && strcmp(optarg, "table") != 0)
        return cli_usage_error(ctx, err, "--format '%s': use table or json", optarg);
      as_json = strcmp(optarg, "json") == 0;
      break;
    case 'q': quiet = true; break;
    default: break;
    }
  }
  if (c < 0 || cli_check_args(ctx, argc - optind, err) < 0)
    return -1;
  return list(ctx->root, as_json, quiet, err);
}

const struct cli_verb cli_verb_list = {
    .name = "list",
    .usage = "[OPTIONS]",
    .summary = "list containers",
    .options = {options},
    .min_args = 0,
    .max_args = 0,
    .handler = cmd_list,
};
