/* SPDX-License-Identifier: Apache-2.0 */
/* The option table and what the option files share (spec-internal.h). */
#include "spec-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "fs.h"

/* PARSE takes the value; a flag (PARSE NULL) sets the bool at FLAG. */
#define FLAG(name, field)                                                                          \
  {                                                                                                \
    name, NULL, offsetof(struct bundle_spec_options, field)                                        \
  }
static const struct {
  const char *name;
  spec_parse_fn parse;
  size_t flag;
} option_table[] = {
    {"bind", spec_parse_bind, 0},
    {"mount", spec_parse_mount, 0},
    {"home", spec_parse_home, 0},
    FLAG("no-home", no_home),
    {"scratch", spec_parse_scratch, 0},
    {"workdir", spec_parse_workdir, 0},
    {"no-mount", spec_parse_no_mount, 0},
    {"env", spec_parse_env, 0},
    {"env-file", spec_parse_env_file, 0},
    FLAG("cleanenv", cleanenv),
    {"cwd", spec_parse_cwd, 0},
    {"hostname", spec_parse_hostname, 0},
    {"dns", spec_parse_dns, 0},
    {"net", spec_parse_net, 0},
    {"pid", spec_parse_pid, 0},
    {"ipc", spec_parse_ipc, 0},
    {"uts", spec_parse_uts, 0},
    {"add-caps", spec_parse_add_caps, 0},
    {"drop-caps", spec_parse_drop_caps, 0},
    FLAG("no-privs", no_privs),
    FLAG("keep-privs", keep_privs),
    {"security", spec_parse_security, 0},
    {"cpus", spec_parse_cpus, 0},
    {"cpu-shares", spec_parse_cpu_shares, 0},
    {"cpuset-cpus", spec_parse_cpuset_cpus, 0},
    {"memory", spec_parse_memory, 0},
    {"memory-swap", spec_parse_memory_swap, 0},
    {"memory-reservation", spec_parse_memory_reservation, 0},
    {"pids-limit", spec_parse_pids_limit, 0},
    {"blkio-weight", spec_parse_blkio_weight, 0},
    {"apply-cgroups", spec_parse_apply_cgroups, 0},
    {"device", spec_parse_device, 0},
    {"cdi-dirs", spec_parse_cdi_dirs, 0},
    {"nv", spec_parse_nv, 0},
    {"rocm", spec_parse_rocm, 0},
};

int spec_bad(oci_error **err, const char *option, const char *value, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;
  va_start(ap, fmt);
  int r = vasprintf(&msg, fmt, ap);
  va_end(ap);
  return oci_error_set_kind(err, OCI_ERR_USAGE, 0, "--%s '%.300s': %s", option, value,
                            r < 0 ? "bad value" : msg);
}

int spec_strv_add(char ***v, size_t *n, const char *s, const char *option, oci_error **err)
{
  if (*n >= BUNDLE_OPT_MAX_ITEMS)
    return oci_error_set_kind(err, OCI_ERR_USAGE, 0, "--%s: more than %d given", option,
                              BUNDLE_OPT_MAX_ITEMS);
  char **nv = realloc(*v, (*n + 2) * sizeof(char *));
  if (nv == NULL)
    return oci_error_set(err, ENOMEM, "--%s", option);
  *v = nv;
  nv[*n] = strdup(s);
  if (nv[*n] == NULL)
    return oci_error_set(err, ENOMEM, "--%s", option);
  nv[++*n] = NULL;
  return 0;
}

int spec_each_item(struct bundle_spec_options *o, const char *option, const char *value,
                   int (*fn)(struct bundle_spec_options *o, const char *item, oci_error **err),
                   oci_error **err)
{
  cleanup_free char *copy = strdup(value);
  if (copy == NULL)
    return oci_error_set(err, ENOMEM, "--%s", option);
  char *p = copy;
  for (;;) {
    char *comma = strchr(p, ',');
    if (comma)
      *comma = '\0';
    if (*p == '\0')
      return spec_bad(err, option, value, "an empty item in the list");
    if (fn(o, p, err) < 0)
      return -1;
    if (comma == NULL)
      return 0;
    p = comma + 1;
  }
}

int spec_container_path(const char *option, const char *path, char **ret, oci_error **err)
{
  size_t len = strlen(path);
  if (path[0] != '/')
    return spec_bad(err, option, path, "a path in the container must be absolute");
  if (len >= 4096)
    return spec_bad(err, option, path, "path too long");
  char *norm = malloc(len + 1);
  if (norm == NULL)
    return oci_error_set(err, ENOMEM, "--%s", option);
  size_t n = 0;
  for (const char *p = path; *p;) {
    while (*p == '/')
      p++;
    size_t clen = strcspn(p, "/");
    if (clen == 0)
      break;
    if (clen == 2 && strncmp(p, "..", 2) == 0) {
      free(norm);
      return spec_bad(err, option, path, "a path in the container may not hold '..'");
    }
    if (!(clen == 1 && p[0] == '.')) {
      norm[n++] = '/';
      memcpy(norm + n, p, clen);
      n += clen;
    }
    p += clen;
  }
  norm[n] = '\0';
  if (n == 0) {
    free(norm);
    return spec_bad(err, option, path, "'/' itself cannot be a destination");
  }
  *ret = norm;
  return 0;
}

int spec_host_path(const char *option, const char *path, char **ret, oci_error **err)
{
  char *real = realpath(path, NULL);
  if (real == NULL)
    return oci_error_set_kind(err, OCI_ERR_USAGE, errno, "--%s: source '%.300s'", option, path);
  *ret = real;
  return 0;
}

int spec_read_user_file(const char *option, const char *path, char **ret, size_t *ret_len,
                        oci_error **err)
{
  int r = fs_read_file_at(AT_FDCWD, path, BUNDLE_OPT_MAX_FILE, 0, ret, ret_len, err);
  if (r == 1)
    return oci_error_set_kind(err, OCI_ERR_USAGE, ENOENT, "--%s '%.300s'", option, path);
  if (r < 0)
    return oci_error_prefix(err, "--%s '%.300s'", option, path);
  return 0;
}

bool spec_path_within(const char *path, const char *p)
{
  size_t n = strlen(p);
  if (n == 1 && p[0] == '/')
    return true;
  return strncmp(path, p, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

int bundle_spec_option_set(struct bundle_spec_options *o, const char *name, const char *value,
                           oci_error **err)
{
  for (size_t i = 0; i < sizeof(option_table) / sizeof(option_table[0]); i++) {
    if (strcmp(option_table[i].name, name) != 0)
      continue;
    if (o->asked == NULL && (o->asked = json_array()) == NULL)
      return oci_error_set(err, ENOMEM, "--%s", name);
    o->asked_bytes += strlen(name) + 16;
    for (const char *c = value; c && *c; c++) /* as JSON writes it: \u001b for ESC */
      o->asked_bytes += (unsigned char)*c < 0x20 || *c == '"' || *c == '\\' ? 6 : 1;
    if (json_array_size(o->asked) >= 4 * BUNDLE_OPT_MAX_ITEMS ||
        o->asked_bytes > BUNDLE_OPT_MAX_ASKED)
      return oci_error_set_kind(err, OCI_ERR_USAGE, 0,
                                "more than %d options or %u KiB of them: too many",
                                4 * BUNDLE_OPT_MAX_ITEMS, BUNDLE_OPT_MAX_ASKED >> 10);
    if (option_table[i].parse == NULL)
      *(bool *)((char *)o + option_table[i].flag) = true;
    else if (option_table[i].parse(o, value, err) < 0)
      return -1;
    json_t *pair = json_pack("[s, s?]", name, value);
    if (pair == NULL) /* nor could config.json, which is JSON, hold it */
      return oci_error_set_kind(err, OCI_ERR_USAGE, 0, "--%s: the value is not UTF-8", name);
    if (json_array_append_new(o->asked, pair) < 0)
      return oci_error_set(err, ENOMEM, "--%s", name);
    return 0;
  }
  return oci_error_set(err, 0, "no option '%s' for the bundle", name);
}

bool bundle_spec_options_any(const struct bundle_spec_options *o)
{
  return o != NULL && json_array_size(o->asked) > 0;
}

static int conflict(oci_error **err, const char *a, const char *b)
{
  return oci_error_set_kind(err, OCI_ERR_USAGE, 0, "--%s and --%s cannot go together", a, b);
}

int bundle_spec_options_check(const struct bundle_spec_options *o, oci_error **err)
{
  if (o->home.src && (o->no_home || (o->no_mount & BUNDLE_NO_MOUNT_HOME)))
    return conflict(err, "home", o->no_home ? "no-home" : "no-mount home");
  if (o->no_privs && o->keep_privs)
    return conflict(err, "no-privs", "keep-privs");
  if (o->no_privs && o->n_add_caps > 0)
    return conflict(err, "no-privs", "add-caps");
  if (o->hostname && o->uts == BUNDLE_NS_HOST)
    return conflict(err, "hostname", "uts host");
  if (o->seccomp_unconfined && o->seccomp)
    return conflict(err, "security seccomp:unconfined", "security seccomp:FILE");
  return spec_limits_check(o, err);
}

int bundle_spec_options_apply(json_t *config, const struct bundle_spec_options *o,
                              const char *bundle_path, struct bundle_spec_extra *ret_extra,
                              oci_error **err)
{
  memset(ret_extra, 0, sizeof(*ret_extra));
  if (bundle_spec_options_check(o, err) < 0 || spec_apply_process(config, o, ret_extra, err) < 0 ||
      spec_apply_mounts(config, o, bundle_path, ret_extra, err) < 0 ||
      spec_apply_privileges(config, o, err) < 0 || spec_apply_limits(config, o, err) < 0 ||
      spec_apply_devices(config, o, err) < 0) {
    bundle_spec_extra_clear(ret_extra);
    return -1;
  }
  return 0;
}

int bundle_spec_extra_make(const struct bundle_spec_extra *extra, int bundle_dirfd, oci_error **err)
{
  if (extra->n_workdir_dirs > 0) {
    cleanup_close int wfd = open(extra->workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (wfd < 0)
      return oci_error_set(err, errno, "--workdir '%s'", extra->workdir);
    for (size_t i = 0; i < extra->n_workdir_dirs; i++) {
      const char *d = extra->workdir_dirs[i];
      /* tmp and var_tmp back /tmp and /var/tmp: sticky and open to all,
       * as those are */
      bool tmp = strcmp(d, "tmp") == 0 || strcmp(d, "var_tmp") == 0;
      bool created = false;
      if (fs_mkdir_at(wfd, d, tmp ? 01777 : 0755, &created, err) < 0)
        return oci_error_prefix(err, "--workdir '%s'", extra->workdir);
    }
  }
  if (extra->resolv_conf != NULL &&
      fs_write_file_at(bundle_dirfd, BUNDLE_RESOLV_CONF, extra->resolv_conf,
                       strlen(extra->resolv_conf), 0644, 0, err) < 0)
    return oci_error_prefix(err, "--dns");
  return 0;
}

void bundle_spec_extra_clear(struct bundle_spec_extra *extra)
{
  free(extra->resolv_conf);
  cleanup_strv_fn(&extra->workdir_dirs);
  memset(extra, 0, sizeof(*extra));
}

void bundle_spec_options_clear(struct bundle_spec_options *o)
{
  for (size_t i = 0; i < o->n_binds; i++) {
    free(o->binds[i].src);
    free(o->binds[i].dst);
  }
  free(o->binds);
  free(o->home.src);
  free(o->home.dst);
  cleanup_strv_fn(&o->scratch);
  free(o->workdir);
  cleanup_strv_fn(&o->env);
  free(o->cwd);
  free(o->hostname);
  cleanup_strv_fn(&o->dns);
  cleanup_strv_fn(&o->add_caps);
  cleanup_strv_fn(&o->drop_caps);
  json_decref(o->seccomp);
  free(o->apparmor);
  free(o->limits.cpuset_cpus);
  json_decref(o->limits.from_file);
  cleanup_strv_fn(&o->devices);
  cleanup_strv_fn(&o->cdi_dirs);
  json_decref(o->asked);
  memset(o, 0, sizeof(*o));
}
