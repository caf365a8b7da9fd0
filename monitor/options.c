/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oci-monitor's options (options.h): one table says each option's name,
 * kind and field; getopt_long's array and the checks come from it.
 */
#include "options.h"

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "container-id.h"
#include "errors.h"
#include "version.h"

static const char usage[] =
    "usage: oci-monitor --id ID --bundle ABS_BUNDLE --state-dir ABS_DIR\n"
    "                   --runtime PATH [--runtime-arg ARG]...\n"
    "                   --log-path PATH [--log-format kubernetes|json] [--log-max-size BYTES]\n"
    "                   [--terminal] [--run-mode] [--cleanup-arg ARG]... [--start]\n"
    "                   [--attach-fd N [--attach-stdout-fd N] [--attach-stderr-fd N]]\n"
    "                   [--pid-file PATH] [--create-timeout SECONDS] --report-fd N\n"
    "Runs one container under RUNTIME and stays with it until it exits.  See\n"
    "monitor/README.md in the sifoci sources.\n";

typedef enum {
  KIND_STRING, /* char *, the last one wins */
  KIND_PATH,   /* char *, made absolute */
  KIND_LIST,   /* char **, NULL-terminated: every one kept, in order */
  KIND_FLAG,   /* gboolean */
  KIND_U64,    /* guint64 in [min, max] */
  KIND_INT,    /* int in [min, max] */
  KIND_FORMAT, /* the log format's name, checked last */
  KIND_HELP,
  KIND_VERSION,
  KIND_MAX,
} Kind;

typedef struct {
  const char *name;
  Kind kind;
  size_t offset; /* of the field in MonOptions (not for FORMAT, HELP, VERSION) */
  gboolean required;
  guint64 min, max;
  const char *range; /* said after a bad value */
} Option;

#define F(field) offsetof(MonOptions, field)
static const Option table[] = {
    {"id", KIND_STRING, F(id), TRUE},
    {"bundle", KIND_STRING, F(bundle), TRUE},
    {"state-dir", KIND_STRING, F(state_dir), TRUE},
    {"runtime", KIND_STRING, F(runtime), TRUE},
    {"runtime-arg", KIND_LIST, F(runtime_args)},
    {"log-path", KIND_PATH, F(log_path), TRUE},
    {"log-format", KIND_FORMAT},
    {"log-max-size", KIND_U64, F(log_max_size), FALSE, 0, G_MAXINT64},
    {"log-rotate", KIND_INT, F(log_rotate), FALSE, 1, 1000, " (1..1000 files)"},
    {"terminal", KIND_FLAG, F(terminal)},
    {"run-mode", KIND_FLAG, F(run_mode)},
    {"start", KIND_FLAG, F(start)},
    {"attach-fd", KIND_INT, F(attach_fd), FALSE, 0, G_MAXINT},
    {"attach-stdout-fd", KIND_INT, F(attach_out_fd[0]), FALSE, 0, G_MAXINT},
    {"attach-stderr-fd", KIND_INT, F(attach_out_fd[1]), FALSE, 0, G_MAXINT},
    {"cleanup-arg", KIND_LIST, F(cleanup_cmd)},
    {"pid-file", KIND_PATH, F(pid_file)},
    {"create-timeout", KIND_INT, F(create_timeout), FALSE, 1, 86400, " (1..86400 s)"},
    {"report-fd", KIND_INT, F(report_fd), TRUE, 0, G_MAXINT},
    {"help", KIND_HELP},
    {"version", KIND_VERSION},
};
#undef F

#define OPT_BASE 1000

void mon_options_init(MonOptions *o)
{
  memset(o, 0, sizeof(*o));
  o->create_timeout = 60;
  o->log_rotate = 1;
  o->report_fd = -1;
  o->attach_fd = o->attach_out_fd[0] = o->attach_out_fd[1] = -1;
}

void mon_options_clear(MonOptions *o)
{
  g_free(o->id);
  g_free(o->bundle);
  g_free(o->state_dir);
  g_free(o->runtime);
  g_free(o->log_path);
  g_free(o->pid_file);
  g_strfreev(o->runtime_args);
  g_strfreev(o->cleanup_cmd);
  mon_options_init(o);
}

/* Stores ARG for OPT.  FALSE: a bad number (ERROR set). */
static gboolean store(MonOptions *o, const Option *opt, const char *arg, GError **error)
{
  void *field = (char *)o + opt->offset;
  guint64 v;
  switch (opt->kind) {
  case KIND_STRING:
  case KIND_PATH:
    g_free(*(char **)field);
    *(char **)field = opt->kind == KIND_PATH ? g_canonicalize_filename(arg, NULL) : g_strdup(arg);
    return TRUE;
  case KIND_FLAG: *(gboolean *)field = TRUE; return TRUE;
  case KIND_U64:
  case KIND_INT:
    if (!g_ascii_string_to_unsigned(arg, 10, opt->min, opt->max, &v, NULL))
      return mon_set_error(error, "bad --%s '%s'%s", opt->name, arg, opt->range ? opt->range : "");
    if (opt->kind == KIND_U64)
      *(guint64 *)field = v;
    else
      *(int *)field = (int)v;
    return TRUE;
  default: g_assert_not_reached();
  }
}

/* The checks that need every option. */
static gboolean check(MonOptions *o, const gboolean seen[], const char *format, GError **error)
{
  for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
    if (table[i].required && !seen[i])
      return mon_set_error(error, "--%s is required", table[i].name);
  if (!container_id_is_valid(o->id))
    return mon_set_error(error, "invalid container ID '%s'", o->id);
  if (!g_path_is_absolute(o->bundle) || !g_path_is_absolute(o->state_dir))
    return mon_set_error(error, "--bundle and --state-dir must be absolute paths");
  const int fds[] = {o->report_fd, o->attach_fd, o->attach_out_fd[0], o->attach_out_fd[1]};
  for (size_t i = 0; i < G_N_ELEMENTS(fds); i++)
    for (size_t j = i + 1; j < G_N_ELEMENTS(fds); j++)
      if (fds[i] >= 0 && fds[i] == fds[j])
        return mon_set_error(error, "--report-fd and the --attach-*fd options need different fds");
  if (o->attach_fd < 0 && (o->attach_out_fd[0] >= 0 || o->attach_out_fd[1] >= 0))
    return mon_set_error(error, "--attach-stdout-fd and --attach-stderr-fd need --attach-fd");
  if (!mon_log_parse_format(format, &o->log_format))
    return mon_set_error(error, "unknown --log-format '%s' (kubernetes or json)", format);
  return TRUE;
}

/* getopt over ARGV: each option stored, LIST ones gathered in LISTS.  0,
 * or mon_options_parse's 1 or 2. */
static int read_options(MonOptions *o, int argc, char **argv, const struct option *longopts,
                        gboolean seen[], GPtrArray *lists[], char **format, GError **error)
{
  int c;
  while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    if (c < OPT_BASE || c >= OPT_BASE + (int)G_N_ELEMENTS(table)) {
      mon_set_error(error, "unknown or incomplete option '%s'", argv[optind - 1]);
      return 1;
    }
    const Option *opt = &table[c - OPT_BASE];
    seen[c - OPT_BASE] = TRUE;
    switch (opt->kind) {
    case KIND_LIST: g_ptr_array_add(lists[c - OPT_BASE], g_strdup(optarg)); break;
    case KIND_FORMAT:
      g_free(*format);
      *format = g_strdup(optarg);
      break;
    case KIND_HELP: fputs(usage, stdout); return 2;
    case KIND_VERSION: printf("oci-monitor %s\n", SIFOCI_VERSION); return 2;
    default:
      if (!store(o, opt, optarg, error))
        return 1;
      break;
    }
  }
  if (optind < argc) {
    mon_set_error(error, "unexpected argument '%s'", argv[optind]);
    return 1;
  }
  return 0;
}

int mon_options_parse(MonOptions *o, int argc, char **argv, GError **error)
{
  struct option longopts[G_N_ELEMENTS(table) + 1];
  gboolean seen[G_N_ELEMENTS(table)] = {FALSE};
  GPtrArray *lists[G_N_ELEMENTS(table)] = {NULL};
  g_autofree char *format = g_strdup("kubernetes");
  for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
    gboolean arg =
        table[i].kind != KIND_FLAG && table[i].kind != KIND_HELP && table[i].kind != KIND_VERSION;
    longopts[i] = (struct option){table[i].name, arg ? required_argument : no_argument, NULL,
                                  OPT_BASE + (int)i};
    if (table[i].kind == KIND_LIST)
      lists[i] = g_ptr_array_new_with_free_func(g_free);
  }
  longopts[G_N_ELEMENTS(table)] = (struct option){NULL, 0, NULL, 0};
  opterr = 0;
  int r = read_options(o, argc, argv, longopts, seen, lists, &format, error);
  for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
    if (lists[i] == NULL)
      continue;
    if (r != 0) {
      g_ptr_array_free(lists[i], TRUE);
      continue;
    }
    g_ptr_array_add(lists[i], NULL);
    char ***field = (char ***)(void *)((char *)o + table[i].offset);
    g_strfreev(*field);
    *field = (char **)g_ptr_array_free(lists[i], FALSE);
  }
  if (r != 0)
    return r;
  return check(o, seen, format, error) ? 0 : 1;
}
