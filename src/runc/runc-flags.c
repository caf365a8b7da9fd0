/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runc 1.1's command line as a table, and its rewriting for crun.
 *
 * runc parses with urfave/cli v1 on top of Go's flag package, so the rules
 * reproduced here are Go's: `-x` and `--x` are the same flag, short and long
 * names alike; a value comes after `=` or as the next argument; a bool flag
 * takes only `=VALUE` (true/false/1/0/t/f...); `--` ends the flags and is
 * itself dropped.  urfave moves flags written after the positionals in front
 * of them, except for exec and ps, where everything after the container ID
 * belongs to the command.
 *
 * crun (checked against 1.8.1) parses with argp in order: it stops at the
 * first positional, so every flag must come first, and it only knows the
 * double-dash spelling.  The crun argv is therefore always
 *   crun GLOBAL-FLAGS VERB VERB-FLAGS POSITIONALS
 * with each flag spelled `--name` (value as the next argument).
 */
#include "runc-flags.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

enum { ARG_BOOL, ARG_VALUE };

/* What crun does with a runc flag. */
enum {
  CRUN_SAME,   /* crun has it under the same long name */
  CRUN_DROP,   /* not passed on: meaningless for crun (see why) */
  CRUN_REJECT, /* crun cannot do it: an error naming why */
};

struct rp_flag {
  const char *opt;    /* "--" + runc's long name: also crun's spelling (no renames needed) */
  char alias;         /* runc's one-letter name, or 0 */
  unsigned char arg;  /* ARG_* */
  unsigned char crun; /* CRUN_* */
  const char *why;    /* for CRUN_DROP and CRUN_REJECT */
};

struct rp_verb {
  const char *name;
  const struct rp_flag *flags; /* ends with a NULL opt */
  bool in_order;               /* flags stop at the first positional (exec, ps) */
  const char *crun_lacks;      /* not NULL: crun has no such command */
};

/* `-h`/`--help`, accepted everywhere; argp spells it `--help` only. */
static const struct rp_flag help_flag = {"--help", 'h', ARG_BOOL, CRUN_SAME, NULL};

static const struct rp_flag global_flags[] = {
    {"--debug", 0, ARG_BOOL, CRUN_SAME, NULL},
    {"--log", 0, ARG_VALUE, CRUN_SAME, NULL},
    {"--log-format", 0, ARG_VALUE, CRUN_SAME, NULL},
    {"--root", 0, ARG_VALUE, CRUN_SAME, NULL},
    /* only checkpoint and restore use it, and those are refused for crun */
    {"--criu", 0, ARG_VALUE, CRUN_DROP, "crun runs no CRIU binary"},
    {"--systemd-cgroup", 0, ARG_BOOL, CRUN_SAME, NULL},
    {"--rootless", 0, ARG_VALUE, CRUN_SAME, NULL},
    {"--version", 'v', ARG_BOOL, CRUN_SAME, NULL},
    {NULL, 0, 0, 0, NULL},
};

/* Entries shared by several verbs (the braces are at the use). */
#define F_BUNDLE "--bundle", 'b', ARG_VALUE, CRUN_SAME, NULL
#define F_CONSOLE_SOCKET "--console-socket", 0, ARG_VALUE, CRUN_SAME, NULL
#define F_PID_FILE "--pid-file", 0, ARG_VALUE, CRUN_SAME, NULL
#define F_PRESERVE_FDS "--preserve-fds", 0, ARG_VALUE, CRUN_SAME, NULL
#define F_NO_PIVOT "--no-pivot", 0, ARG_BOOL, CRUN_SAME, NULL
#define F_NO_NEW_KEYRING "--no-new-keyring", 0, ARG_BOOL, CRUN_SAME, NULL
#define F_DETACH "--detach", 'd', ARG_BOOL, CRUN_SAME, NULL
#define F_FORMAT "--format", 'f', ARG_VALUE, CRUN_SAME, NULL

static const struct rp_flag no_flags[] = {{NULL}};

static const struct rp_flag create_flags[] = {
    {F_BUNDLE},         {F_CONSOLE_SOCKET}, {F_PID_FILE}, {F_NO_PIVOT},
    {F_NO_NEW_KEYRING}, {F_PRESERVE_FDS},   {NULL},
};

static const struct rp_flag run_flags[] = {
    {F_BUNDLE},
    {F_CONSOLE_SOCKET},
    {F_DETACH},
    {F_PID_FILE},
    {F_NO_PIVOT},
    {F_NO_NEW_KEYRING},
    {F_PRESERVE_FDS},
    {"--no-subreaper", 0, ARG_BOOL, CRUN_SAME, NULL},
    {"--keep", 0, ARG_BOOL, CRUN_REJECT,
     "crun's run always deletes the container it ran; use create, start and delete"},
    {NULL},
};

static const struct rp_flag exec_flags[] = {
    {F_CONSOLE_SOCKET},
    {"--cwd", 0, ARG_VALUE, CRUN_SAME, NULL},
    {"--env", 'e', ARG_VALUE, CRUN_SAME, NULL},
    /* crun's --tty takes an optional value; bare --tty is runc's meaning */
    {"--tty", 't', ARG_BOOL, CRUN_SAME, NULL},
    {"--user", 'u', ARG_VALUE, CRUN_SAME, NULL},
    {"--additional-gids", 'g', ARG_VALUE, CRUN_REJECT,
     "crun's exec has no such flag; put additionalGids in a --process file"},
    {"--process", 'p', ARG_VALUE, CRUN_SAME, NULL},
    {F_DETACH},
    {F_PID_FILE},
    {"--process-label", 0, ARG_VALUE, CRUN_SAME, NULL},
    {"--apparmor", 0, ARG_VALUE, CRUN_SAME, NULL},
    {"--no-new-privs", 0, ARG_BOOL, CRUN_SAME, NULL},
    {"--cap", 'c', ARG_VALUE, CRUN_SAME, NULL},
    {F_PRESERVE_FDS},
    {"--cgroup", 0, ARG_VALUE, CRUN_SAME, NULL},
    /* A running container is unaffected; a paused one gets crun's own
     * "the container is paused" error, which is the honest answer. */
    {"--ignore-paused", 0, ARG_BOOL, CRUN_DROP, "crun never execs into a paused container"},
    {NULL},
};

static const struct rp_flag kill_flags[] = {
    {"--all", 'a', ARG_BOOL, CRUN_SAME, NULL},
    {NULL},
};

static const struct rp_flag delete_flags[] = {
    {"--force", 'f', ARG_BOOL, CRUN_SAME, NULL},
    {NULL},
};

static const struct rp_flag update_flags[] = {
    {"--resources", 'r', ARG_VALUE, CRUN_SAME, NULL},
    {"--blkio-weight", 0, ARG_VALUE, CRUN_SAME, NULL},
    {"--cpu-period", 0, ARG_VALUE, CRUN_SAME, NULL},
    {"--cpu-quota", 0, ARG_VALUE, CRUN_SAME, NULL},
    {"--cpu-share", 0, ARG_VALUE, CRUN_SAME, NULL},
    {"--cpu-rt-period", 0, ARG_VALUE, CRUN_SAME, NULL},
    {"--cpu-rt-runtime", 0, ARG_VALUE, CRUN_SAME, NULL},
    {"--cpuset-cpus", 0, ARG_VALUE, CRUN_SAME, NULL},
    {"--cpuset-mems", 0, ARG_VALUE, CRUN_SAME, NULL},
    {"--kernel-memory", 0, ARG_VALUE, CRUN_SAME, NULL}, /* hidden in runc, deprecated in both */
    {"--kernel-memory-tcp", 0, ARG_VALUE, CRUN_SAME, NULL},
    {"--memory", 0, ARG_VALUE, CRUN_SAME, NULL},
    {"--memory-reservation", 0, ARG_VALUE, CRUN_SAME, NULL},
    {"--memory-swap", 0, ARG_VALUE, CRUN_SAME, NULL},
    {"--pids-limit", 0, ARG_VALUE, CRUN_SAME, NULL},
    {"--l3-cache-schema", 0, ARG_VALUE, CRUN_REJECT, "crun does not manage Intel RDT"},
    {"--mem-bw-schema", 0, ARG_VALUE, CRUN_REJECT, "crun does not manage Intel RDT"},
    {NULL},
};

static const struct rp_flag format_flags[] = {{F_FORMAT}, {NULL}};

static const struct rp_flag list_flags[] = {
    {F_FORMAT},
    {"--quiet", 'q', ARG_BOOL, CRUN_SAME, NULL},
    {NULL},
};

static const struct rp_flag spec_flags[] = {
    {F_BUNDLE},
    {"--rootless", 0, ARG_BOOL, CRUN_SAME, NULL},
    {NULL},
};

/* Listed so that their flags parse, and their refusal names the command. */
#define NO_CRIU "crun here is built without checkpoint/restore (CRIU); use runc"

static const struct rp_verb verbs[] = {
    {"checkpoint", no_flags, false, NO_CRIU},
    {"create", create_flags, false, NULL},
    {"delete", delete_flags, false, NULL},
    {"events", no_flags, false, "crun has no events command"},
    {"exec", exec_flags, true, NULL},
    {"features", no_flags, false, "crun 1.8 has no features command"},
    {"kill", kill_flags, false, NULL},
    {"list", list_flags, false, NULL},
    {"pause", no_flags, false, NULL},
    {"ps", format_flags, true, NULL},
    {"restore", no_flags, false, NO_CRIU},
    {"resume", no_flags, false, NULL},
    {"run", run_flags, false, NULL},
    {"spec", spec_flags, false, NULL},
    {"start", no_flags, false, NULL},
    {"state", no_flags, false, NULL},
    {"update", update_flags, false, NULL},
};

static const struct rp_verb *find_verb(const char *name)
{
  for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
    if (strcmp(verbs[i].name, name) == 0)
      return &verbs[i];
  return NULL;
}

/* Go's flag syntax: "-name", "--name", either with "=value".  False for
 * "-", "--" and what Go calls bad flag syntax ("---x", "-=x"). */
static bool split_flag(const char *arg, const char **ret_name, size_t *ret_len,
                       const char **ret_value)
{
  const char *p = arg + 1;
  if (*p == '-')
    p++;
  if (*p == '\0' || *p == '-' || *p == '=')
    return false;
  const char *eq = strchr(p, '=');
  *ret_name = p;
  *ret_len = eq ? (size_t)(eq - p) : strlen(p);
  *ret_value = eq ? eq + 1 : NULL;
  return true;
}

static const struct rp_flag *find_flag(const struct rp_flag *table, const char *name, size_t len)
{
  for (const struct rp_flag *f = table; f->opt; f++)
    if ((strlen(f->opt + 2) == len && strncmp(f->opt + 2, name, len) == 0) ||
        (len == 1 && f->alias == name[0]))
      return f;
  if ((len == 4 && strncmp(name, "help", 4) == 0) || (len == 1 && name[0] == 'h'))
    return &help_flag;
  return NULL;
}

/* strconv.ParseBool: 1 = true, 0 = false, -1 = not a bool. */
static int parse_bool(const char *s)
{
  static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
  static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
  for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
    if (strcmp(s, yes[i]) == 0)
      return 1;
    if (strcmp(s, no[i]) == 0)
      return 0;
  }
  return -1;
}

/* One flag and its value, read at argv[*i] (which starts with '-' and is not
 * "-" or "--"); *i moves past the value when it is the next argument. */
struct parsed_flag {
  const struct rp_flag *flag;
  const char *value; /* ARG_VALUE: the value; ARG_BOOL: NULL */
  bool on;           /* ARG_BOOL: its value */
};

static int parse_flag(const struct rp_flag *table, int argc, char **argv, int *i,
                      struct parsed_flag *ret, oci_error **err)
{
  const char *name, *value;
  size_t len;
  if (!split_flag(argv[*i], &name, &len, &value))
    return oci_error_set(err, 0, "bad flag syntax: %s", argv[*i]);
  const struct rp_flag *f = find_flag(table, name, len);
  if (f == NULL)
    return oci_error_set(err, 0, "flag provided but not defined: -%.*s", (int)len, name);
  *ret = (struct parsed_flag){.flag = f};
  if (f->arg == ARG_BOOL) {
    int b = value ? parse_bool(value) : 1;
    if (b < 0)
      return oci_error_set(err, 0, "invalid boolean value \"%s\" for -%.*s: parse error", value,
                           (int)len, name);
    ret->on = b;
    return 0;
  }
  if (value == NULL) {
    if (*i + 1 >= argc)
      return oci_error_set(err, 0, "flag needs an argument: -%.*s", (int)len, name);
    value = argv[++*i];
  }
  ret->value = value;
  return 0;
}

static bool is_flag(const char *a)
{
  return a[0] == '-' && a[1] != '\0';
}

void rp_scan_globals(int argc, char **argv, struct rp_globals *ret)
{
  *ret = (struct rp_globals){.verb = argc};
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) {
      ret->verb = i + 1 < argc ? i + 1 : argc;
      return;
    }
    if (!is_flag(argv[i])) {
      ret->verb = i;
      return;
    }
    struct parsed_flag pf;
    cleanup_error oci_error *ignored = NULL;
    if (parse_flag(global_flags, argc, argv, &i, &pf, &ignored) < 0)
      return; /* the runtime will say what is wrong */
    if (strcmp(pf.flag->opt, "--log") == 0)
      ret->log = pf.value;
    else if (strcmp(pf.flag->opt, "--log-format") == 0)
      ret->log_format = pf.value;
    else if (strcmp(pf.flag->opt, "--version") == 0)
      ret->version = pf.on;
  }
}

/* The crun argv under construction; its capacity is fixed up front. */
struct out {
  const char **v;
  int n;
};

static void out_add(struct out *o, const char *s)
{
  o->v[o->n++] = s;
}

static int add_crun_flag(struct out *o, const struct parsed_flag *pf, const char *verb,
                         oci_error **err)
{
  const struct rp_flag *f = pf->flag;
  if (f->arg == ARG_BOOL && !pf->on)
    return 0; /* --x=false is the default, for runc and for crun */
  switch (f->crun) {
  case CRUN_REJECT:
    return oci_error_set(err, 0, "%s%s%s: not supported with crun: %s", verb ? verb : "",
                         verb ? " " : "", f->opt, f->why);
  case CRUN_DROP: return 0;
  case CRUN_SAME:
    out_add(o, f->opt);
    if (f->arg == ARG_VALUE)
      out_add(o, pf->value);
    return 0;
  default: return 0;
  }
}

/* runc takes "kill", "SIGKILL" and "sigkill"; crun only upper case. */
static void upcase_signal(char *sig)
{
  if (!isalpha((unsigned char)sig[0]))
    return;
  for (; *sig; sig++)
    *sig = (char)toupper((unsigned char)*sig);
}

/* VERB's flags and positionals from argv[I]: the flags first, crun-spelled,
 * then the positionals (parked in POS meanwhile). */
static int add_verb_args(struct out *o, const struct rp_verb *verb, int i, int argc, char **argv,
                         const char **pos, oci_error **err)
{
  int npos = 0;
  bool flags_done = false;
  for (; i < argc; i++) {
    char *a = argv[i];
    if (!flags_done && strcmp(a, "--") == 0) {
      flags_done = true;
      continue;
    }
    if (flags_done || !is_flag(a)) {
      if (npos == 1 && strcmp(verb->name, "kill") == 0)
        upcase_signal(a); /* our own argv, about to be replaced by exec */
      pos[npos++] = a;
      flags_done = flags_done || verb->in_order;
      continue;
    }
    struct parsed_flag pf;
    if (parse_flag(verb->flags, argc, argv, &i, &pf, err) < 0 ||
        add_crun_flag(o, &pf, verb->name, err) < 0)
      return -1;
  }
  /* argp would read a positional "-x" as a flag; runc took it after "--" */
  if (npos > 0 && pos[0][0] == '-')
    out_add(o, "--");
  for (int k = 0; k < npos; k++)
    out_add(o, pos[k]);
  return 0;
}

int rp_crun_argv(const char *runtime, int argc, char **argv, const char ***ret_argv,
                 oci_error **err)
{
  /* Every argument gives at most two ("--x=v" becomes "--x" "v"), plus the
   * runtime, a "--" and the NULL; the last argc slots park the positionals
   * while the flags are read, so that they can follow all the flags. */
  size_t cap = 3 * (size_t)argc + 4;
  cleanup_free const char **v = calloc(cap, sizeof(*v));
  if (v == NULL)
    return oci_error_set(err, ENOMEM, "translating the command line for crun");
  struct out o = {v, 0};
  out_add(&o, runtime);

  int i = 1;
  for (; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) {
      i++;
      break;
    }
    if (!is_flag(argv[i]))
      break;
    struct parsed_flag pf;
    if (parse_flag(global_flags, argc, argv, &i, &pf, err) < 0 ||
        add_crun_flag(&o, &pf, NULL, err) < 0)
      return -1;
  }

  if (i < argc) {
    const char *name = argv[i++];
    const struct rp_verb *verb = find_verb(name);
    if (strcmp(name, "help") == 0 || strcmp(name, "h") == 0) {
      /* runc help [VERB] */
      verb = i < argc ? find_verb(argv[i]) : NULL;
      if (verb != NULL && verb->crun_lacks == NULL)
        out_add(&o, verb->name);
      out_add(&o, "--help");
      verb = NULL; /* nothing after the topic counts */
    } else if (verb == NULL) {
      return oci_error_set_kind(err, OCI_ERR_NOT_FOUND, 0, "No help topic for '%s'",
                                name); /* runc's words */
    } else if (verb->crun_lacks != NULL) {
      return oci_error_set(err, 0, "%s: not supported with crun: %s", name, verb->crun_lacks);
    } else {
      out_add(&o, name);
    }

    if (verb != NULL && add_verb_args(&o, verb, i, argc, argv, v + cap - argc, err) < 0)
      return -1;
  }
  v[o.n] = NULL;
  *ret_argv = steal_ptr(&v);
  return 0;
}
