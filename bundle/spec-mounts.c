/* SPDX-License-Identifier: Apache-2.0 */
/* --bind, --mount, --home, --no-home, --scratch, --workdir, --no-mount:
 * entries of config.json's mounts. */
#include "spec-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"

static int add_bind(struct bundle_spec_options *o, const char *option, const char *src,
                    const char *dst, bool ro, oci_error **err)
{
  if (o->n_binds >= BUNDLE_OPT_MAX_ITEMS)
    return oci_error_set_kind(err, OCI_ERR_USAGE, 0, "--%s: more than %d binds", option,
                              BUNDLE_OPT_MAX_ITEMS);
  cleanup_free char *real = NULL, *norm = NULL;
  if (spec_host_path(option, src, &real, err) < 0)
    return -1;
  /* no destination: the same path in the container as on the host */
  if (spec_container_path(option, dst ? dst : src[0] == '/' ? src : real, &norm, err) < 0)
    return -1;
  struct bundle_bind *nb = realloc(o->binds, (o->n_binds + 1) * sizeof(*nb));
  if (nb == NULL)
    return oci_error_set(err, ENOMEM, "--%s", option);
  o->binds = nb;
  nb[o->n_binds++] = (struct bundle_bind){steal_ptr(&real), steal_ptr(&norm), ro};
  return 0;
}

/* SRC[:DST[:ro|rw]] */
static int bind_item(struct bundle_spec_options *o, const char *item, oci_error **err)
{
  cleanup_free char *copy = strdup(item);
  if (copy == NULL)
    return oci_error_set(err, ENOMEM, "--bind");
  char *dst = strchr(copy, ':'), *mode = NULL;
  if (dst != NULL) {
    *dst++ = '\0';
    mode = strchr(dst, ':');
    if (mode != NULL)
      *mode++ = '\0';
  }
  if (*copy == '\0' || (dst && *dst == '\0'))
    return spec_bad(err, "bind", item, "SRC[:DST[:ro|rw]] with an empty SRC or DST");
  bool ro = false;
  if (mode != NULL) {
    if (strcmp(mode, "ro") == 0)
      ro = true;
    else if (strcmp(mode, "rw") != 0)
      return spec_bad(err, "bind", item, "'%s' is neither ro nor rw", mode);
  }
  return add_bind(o, "bind", copy, dst, ro, err);
}

int spec_parse_bind(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  return spec_each_item(o, "bind", value, bind_item, err);
}

/* type=bind,source=SRC,destination=DST[,ro|readonly[=true|false]] */
int spec_parse_mount(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  cleanup_free char *copy = strdup(value);
  if (copy == NULL)
    return oci_error_set(err, ENOMEM, "--mount");
  const char *type = NULL, *src = NULL, *dst = NULL;
  bool ro = false;
  char *save = NULL;
  for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(kv, '=');
    const char *v = eq ? eq + 1 : NULL;
    if (eq)
      *eq = '\0';
    if (strcmp(kv, "ro") == 0 || strcmp(kv, "readonly") == 0) {
      if (v != NULL && strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
        return spec_bad(err, "mount", value, "%s takes true or false", kv);
      ro = v == NULL || strcmp(v, "true") == 0;
      continue;
    }
    const char **slot =
        strcmp(kv, "type") == 0                               ? &type
        : strcmp(kv, "src") == 0 || strcmp(kv, "source") == 0 ? &src
        : strcmp(kv, "dst") == 0 || strcmp(kv, "destination") == 0 || strcmp(kv, "target") == 0
            ? &dst
            : NULL;
    if (slot == NULL)
      return spec_bad(err, "mount", value, "unknown key '%s' (type, src, dst, ro)", kv);
    if (v == NULL || *v == '\0')
      return spec_bad(err, "mount", value, "'%s' needs a value", kv);
    if (*slot != NULL)
      return spec_bad(err, "mount", value, "'%s' given twice", kv);
    *slot = v;
  }
  if (type == NULL || strcmp(type, "bind") != 0)
    return spec_bad(err, "mount", value, "only type=bind is supported");
  if (src == NULL || dst == NULL)
    return spec_bad(err, "mount", value, "needs src= and dst=");
  return add_bind(o, "mount", src, dst, ro, err);
}

/* SRC[:DST] */
int spec_parse_home(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  if (o->home.src != NULL)
    return spec_bad(err, "home", value, "--home given twice");
  cleanup_free char *copy = strdup(value);
  if (copy == NULL)
    return oci_error_set(err, ENOMEM, "--home");
  char *dst = strchr(copy, ':');
  if (dst)
    *dst++ = '\0';
  if (*copy == '\0' || (dst && *dst == '\0'))
    return spec_bad(err, "home", value, "SRC[:DST] with an empty SRC or DST");
  cleanup_free char *real = NULL, *norm = NULL;
  if (spec_host_path("home", copy, &real, err) < 0 || spec_container_path("home",
                                                                          dst              ? dst
                                                                          : copy[0] == '/' ? copy
                                                                                           : real,
                                                                          &norm, err) < 0)
    return -1;
  struct stat st;
  if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
    return spec_bad(err, "home", value, "'%s' is not a directory", real);
  o->home = (struct bundle_bind){steal_ptr(&real), steal_ptr(&norm), false};
  return 0;
}

static int scratch_item(struct bundle_spec_options *o, const char *item, oci_error **err)
{
  cleanup_free char *norm = NULL;
  if (spec_container_path("scratch", item, &norm, err) < 0)
    return -1;
  return spec_strv_add(&o->scratch, &o->n_scratch, norm, "scratch", err);
}

int spec_parse_scratch(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  return spec_each_item(o, "scratch", value, scratch_item, err);
}

int spec_parse_workdir(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  cleanup_free char *real = NULL;
  if (spec_host_path("workdir", value, &real, err) < 0)
    return -1;
  struct stat st;
  if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
    return spec_bad(err, "workdir", value, "not a directory");
  free(o->workdir);
  o->workdir = steal_ptr(&real);
  return 0;
}

/* in the order of enum bundle_no_mount */
static const char *const no_mount_names[] = {"sys", "dev", "tmp", "home"};

static int no_mount_item(struct bundle_spec_options *o, const char *item, oci_error **err)
{
  if (strcmp(item, "proc") == 0) /* runc: "error closing exec fds: open /proc/self/fd" */
    return spec_bad(err, "no-mount", item, "runc and crun need /proc in the container");
  for (size_t i = 0; i < sizeof(no_mount_names) / sizeof(no_mount_names[0]); i++)
    if (strcmp(item, no_mount_names[i]) == 0) {
      o->no_mount |= 1u << i;
      return 0;
    }
  return spec_bad(err, "no-mount", item, "not one of sys, dev, tmp, home");
}

int spec_parse_no_mount(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  return spec_each_item(o, "no-mount", value, no_mount_item, err);
}

/* The default mounts each --no-mount name leaves out. */
static const struct {
  unsigned bit;
  const char *destination;
} default_mounts[] = {
    {BUNDLE_NO_MOUNT_SYS, "/sys"},     {BUNDLE_NO_MOUNT_SYS, "/sys/fs/cgroup"},
    {BUNDLE_NO_MOUNT_DEV, "/dev"},     {BUNDLE_NO_MOUNT_DEV, "/dev/pts"},
    {BUNDLE_NO_MOUNT_DEV, "/dev/shm"}, {BUNDLE_NO_MOUNT_DEV, "/dev/mqueue"},
};

static void drop_default_mounts(json_t *mounts, unsigned no_mount)
{
  for (size_t i = json_array_size(mounts); i-- > 0;) {
    const char *d = json_string_value(json_object_get(json_array_get(mounts, i), "destination"));
    for (size_t k = 0; d && k < sizeof(default_mounts) / sizeof(default_mounts[0]); k++)
      if ((no_mount & default_mounts[k].bit) && strcmp(d, default_mounts[k].destination) == 0) {
        json_array_remove(mounts, i);
        break;
      }
  }
}

/* A destination must not be masked (the runtime would cover it) nor be
 * mounted on twice by what the user asked. */
static int check_destination(json_t *config, json_t *mounts, size_t first_new, const char *what,
                             const char *dst, oci_error **err)
{
  size_t i;
  json_t *m;
  json_array_foreach(json_object_get(json_object_get(config, "linux"), "maskedPaths"), i, m)
  {
    const char *masked = json_string_value(m);
    if (masked && (spec_path_within(dst, masked) || spec_path_within(masked, dst)))
      return oci_error_set_kind(err, OCI_ERR_USAGE, 0,
                                "%s: destination '%s' is inside (or holds) the masked path '%s'",
                                what, dst, masked);
  }
  for (i = first_new; i < json_array_size(mounts); i++) {
    const char *d = json_string_value(json_object_get(json_array_get(mounts, i), "destination"));
    if (d && strcmp(d, dst) == 0)
      return oci_error_set_kind(err, OCI_ERR_USAGE, 0, "%s: '%s' is mounted on twice", what, dst);
  }
  return 0;
}

static int add_mount(json_t *config, json_t *mounts, size_t first_new, const char *what, json_t *m,
                     oci_error **err)
{
  if (m == NULL)
    return oci_error_set(err, ENOMEM, "mounts");
  const char *dst = json_string_value(json_object_get(m, "destination"));
  if (check_destination(config, mounts, first_new, what, dst, err) < 0) {
    json_decref(m);
    return -1;
  }
  return json_array_append_new(mounts, m) < 0 ? oci_error_set(err, ENOMEM, "mounts") : 0;
}

/* nosuid,nodev: a host directory carries nothing that should gain
 * privileges or reach devices in the container */
static json_t *bind_json(const char *src, const char *dst, bool ro)
{
  return json_pack("{s:s, s:s, s:s, s:[s, s, s, s]}", "destination", dst, "type", "bind", "source",
                   src, "options", "rbind", "nosuid", "nodev", ro ? "ro" : "rw");
}

static int workdir_bind(json_t *config, json_t *mounts, size_t first, const char *workdir,
                        const char *name, const char *dst, struct bundle_spec_extra *extra,
                        oci_error **err)
{
  cleanup_free char *src = NULL;
  if (asprintf(&src, "%s/%s", workdir, name) < 0)
    return oci_error_set(err, ENOMEM, "--workdir");
  if (spec_strv_add(&extra->workdir_dirs, &extra->n_workdir_dirs, name, "workdir", err) < 0)
    return -1;
  return add_mount(config, mounts, first, "--workdir", bind_json(src, dst, false), err);
}

static int add_scratch(json_t *config, json_t *mounts, size_t first,
                       const struct bundle_spec_options *o, struct bundle_spec_extra *extra,
                       oci_error **err)
{
  if (o->workdir != NULL && o->n_scratch > 0 &&
      spec_strv_add(&extra->workdir_dirs, &extra->n_workdir_dirs, "scratch", "workdir", err) < 0)
    return -1;
  for (size_t i = 0; i < o->n_scratch; i++) {
    if (o->workdir == NULL) {
      json_t *m = json_pack("{s:s, s:s, s:s, s:[s, s, s]}", "destination", o->scratch[i], "type",
                            "tmpfs", "source", "tmpfs", "options", "nosuid", "nodev", "mode=1777");
      if (add_mount(config, mounts, first, "--scratch", m, err) < 0)
        return -1;
      continue;
    }
    /* "/a/b" backed by WORKDIR/scratch/_a_b */
    cleanup_free char *name = NULL;
    if (asprintf(&name, "scratch/%s", o->scratch[i]) < 0)
      return oci_error_set(err, ENOMEM, "--scratch");
    for (char *p = name + strlen("scratch/"); *p; p++)
      if (*p == '/')
        *p = '_';
    if (workdir_bind(config, mounts, first, o->workdir, name, o->scratch[i], extra, err) < 0)
      return -1;
  }
  return 0;
}

static int add_resolv_conf(json_t *config, json_t *mounts, size_t first,
                           const struct bundle_spec_options *o, const char *bundle_path,
                           oci_error **err)
{
  cleanup_free char *src = NULL;
  if (o->n_dns > 0) {
    if (asprintf(&src, "%s/%s", bundle_path, BUNDLE_RESOLV_CONF) < 0)
      return oci_error_set(err, ENOMEM, "--dns");
  } else if (o->net == BUNDLE_NS_HOST) {
    /* the host's network, so the host's name servers; none is fine */
    src = realpath("/etc/resolv.conf", NULL);
    if (src == NULL)
      return 0;
  } else {
    return 0;
  }
  return add_mount(config, mounts, first, o->n_dns ? "--dns" : "--net host",
                   bind_json(src, "/etc/resolv.conf", true), err);
}

int spec_apply_mounts(json_t *config, const struct bundle_spec_options *o, const char *bundle_path,
                      struct bundle_spec_extra *extra, oci_error **err)
{
  json_t *mounts = json_object_get(config, "mounts");
  if (!json_is_array(mounts))
    return oci_error_set(err, 0, "config.json has no mounts array");
  drop_default_mounts(mounts, o->no_mount);
  size_t first = json_array_size(mounts);
  extra->workdir = o->workdir;
  /* parents first: the temporary dirs, then home, then binds (which may
   * land inside either) */
  if (o->workdir != NULL && !(o->no_mount & BUNDLE_NO_MOUNT_TMP) &&
      (workdir_bind(config, mounts, first, o->workdir, "tmp", "/tmp", extra, err) < 0 ||
       workdir_bind(config, mounts, first, o->workdir, "var_tmp", "/var/tmp", extra, err) < 0))
    return -1;
  if (add_scratch(config, mounts, first, o, extra, err) < 0)
    return -1;
  if (o->home.src != NULL) {
    if (add_mount(config, mounts, first, "--home", bind_json(o->home.src, o->home.dst, false),
                  err) < 0 ||
        spec_env_set(config, "HOME", o->home.dst, err) < 0)
      return -1;
  }
  for (size_t i = 0; i < o->n_binds; i++) {
    char what[64];
    snprintf(what, sizeof(what), "--bind '%.40s'", o->binds[i].src);
    if (add_mount(config, mounts, first, what,
                  bind_json(o->binds[i].src, o->binds[i].dst, o->binds[i].ro), err) < 0)
      return -1;
  }
  return add_resolv_conf(config, mounts, first, o, bundle_path, err);
}
