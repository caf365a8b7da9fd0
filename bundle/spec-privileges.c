/* SPDX-License-Identifier: Apache-2.0 */
/* --net, --pid, --ipc, --uts, --add-caps, --drop-caps, --no-privs,
 * --keep-privs, --security: linux.namespaces, process.capabilities,
 * process.noNewPrivileges, linux.seccomp, process.apparmorProfile. */
#include "spec-internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "seccomp-profile.h"

/* Every capability Linux has (capability.h, 6.x), in number order. */
static const char *const all_caps[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
#define N_CAPS (sizeof(all_caps) / sizeof(all_caps[0]))

static const char *const ns_mode_names[BUNDLE_NS_MODE_MAX] = {"private", "host"};

static int parse_ns(const char *option, const char *value, const char *private_name,
                    enum bundle_ns_mode *ret, oci_error **err)
{
  if (strcmp(value, private_name) == 0 || strcmp(value, ns_mode_names[BUNDLE_NS_PRIVATE]) == 0)
    *ret = BUNDLE_NS_PRIVATE;
  else if (strcmp(value, ns_mode_names[BUNDLE_NS_HOST]) == 0)
    *ret = BUNDLE_NS_HOST;
  else
    return spec_bad(err, option, value, "'%s' or 'host'", private_name);
  return 0;
}

int spec_parse_net(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  return parse_ns("net", value, "none", &o->net, err);
}

int spec_parse_pid(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  return parse_ns("pid", value, "private", &o->pid, err);
}

int spec_parse_ipc(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  return parse_ns("ipc", value, "private", &o->ipc, err);
}

int spec_parse_uts(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  return parse_ns("uts", value, "private", &o->uts, err);
}

/* "sys_admin", "CAP_SYS_ADMIN", "cap_sys_admin" -> its index; -1 if none */
static int cap_index(const char *name)
{
  char buf[40] = "CAP_";
  const char *s = strncasecmp(name, "CAP_", 4) == 0 ? name + 4 : name;
  if (strlen(s) + 5 > sizeof(buf))
    return -1;
  for (size_t i = 0; s[i]; i++)
    buf[4 + i] = (char)toupper((unsigned char)s[i]);
  buf[4 + strlen(s)] = '\0';
  for (size_t i = 0; i < N_CAPS; i++)
    if (strcmp(buf, all_caps[i]) == 0)
      return (int)i;
  return -1;
}

static int caps_item(char ***v, size_t *n, const char *option, const char *item, oci_error **err)
{
  if (strcasecmp(item, "all") == 0)
    return spec_strv_add(v, n, "ALL", option, err);
  int i = cap_index(item);
  if (i < 0)
    return spec_bad(err, option, item, "no such capability");
  return spec_strv_add(v, n, all_caps[i], option, err);
}

static int add_caps_item(struct bundle_spec_options *o, const char *item, oci_error **err)
{
  return caps_item(&o->add_caps, &o->n_add_caps, "add-caps", item, err);
}

static int drop_caps_item(struct bundle_spec_options *o, const char *item, oci_error **err)
{
  return caps_item(&o->drop_caps, &o->n_drop_caps, "drop-caps", item, err);
}

int spec_parse_add_caps(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  return spec_each_item(o, "add-caps", value, add_caps_item, err);
}

int spec_parse_drop_caps(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  return spec_each_item(o, "drop-caps", value, drop_caps_item, err);
}

static int load_seccomp(struct bundle_spec_options *o, const char *path, oci_error **err)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  if (spec_read_user_file("security", path, &text, &len, err) < 0)
    return -1;
  json_error_t jerr;
  json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
  if (j == NULL)
    return oci_error_set_kind(err, OCI_ERR_USAGE, 0,
                              "--security seccomp:'%s': not valid JSON: %s (line %d)", path,
                              jerr.text, jerr.line);
  if (!json_is_object(j) || !json_is_string(json_object_get(j, "defaultAction"))) {
    json_decref(j);
    return oci_error_set_kind(err, OCI_ERR_USAGE, 0,
                              "--security seccomp:'%s': not a seccomp profile (an object with "
                              "a defaultAction string, as linux.seccomp in config.json)",
                              path);
  }
  json_decref(o->seccomp);
  o->seccomp = j;
  return 0;
}

/* seccomp:unconfined, seccomp:FILE, apparmor:PROFILE */
int spec_parse_security(struct bundle_spec_options *o, const char *value, oci_error **err)
{
  if (strncmp(value, "seccomp:", 8) == 0) {
    const char *what = value + 8;
    if (*what == '\0')
      return spec_bad(err, "security", value, "seccomp:unconfined or seccomp:FILE");
    if (strcmp(what, "unconfined") == 0) {
      o->seccomp_unconfined = true;
      return 0;
    }
    return load_seccomp(o, what, err);
  }
  if (strncmp(value, "apparmor:", 9) == 0 && value[9] != '\0') {
    free(o->apparmor);
    o->apparmor = strdup(value + 9);
    return o->apparmor ? 0 : oci_error_set(err, ENOMEM, "--security");
  }
  return spec_bad(err, "security", value,
                  "takes seccomp:unconfined, seccomp:FILE or apparmor:PROFILE");
}

static void drop_namespace(json_t *namespaces, const char *type)
{
  for (size_t i = json_array_size(namespaces); i-- > 0;) {
    const char *t = json_string_value(json_object_get(json_array_get(namespaces, i), "type"));
    if (t && strcmp(t, type) == 0)
      json_array_remove(namespaces, i);
  }
}

static void mark_list(bool *set, char **names, size_t n, bool value)
{
  for (size_t i = 0; i < n; i++) {
    if (strcmp(names[i], "ALL") == 0) {
      for (size_t k = 0; k < N_CAPS; k++)
        set[k] = value;
      continue;
    }
    int k = cap_index(names[i]);
    if (k >= 0)
      set[k] = value;
  }
}

/* --keep-privs: what this process may hold (its bounding set), as root in
 * a container can hold no more than the runtime that starts it; every
 * capability when /proc says nothing. */
static uint64_t own_bounding_set(void)
{
  cleanup_fclose FILE *f = fopen("/proc/self/status", "re");
  char line[256];
  while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
    unsigned long long mask;
    if (sscanf(line, "CapBnd: %llx", &mask) == 1)
      return (uint64_t)mask;
  }
  return UINT64_MAX;
}

/* The capability set the options ask for, starting from the bounding set
 * the config has. */
static void final_caps(json_t *caps, const struct bundle_spec_options *o, bool set[N_CAPS])
{
  memset(set, 0, N_CAPS * sizeof(bool));
  size_t i;
  json_t *c;
  if (o->keep_privs) {
    uint64_t own = own_bounding_set();
    for (i = 0; i < N_CAPS; i++)
      set[i] = (own >> i) & 1;
  } else if (!o->no_privs) {
    json_array_foreach(json_object_get(caps, "bounding"), i, c)
    {
      int k = json_is_string(c) ? cap_index(json_string_value(c)) : -1;
      if (k >= 0)
        set[k] = true;
    }
  }
  mark_list(set, o->add_caps, o->n_add_caps, true);
  mark_list(set, o->drop_caps, o->n_drop_caps, false);
}

static int apply_caps(json_t *config, const struct bundle_spec_options *o, oci_error **err)
{
  if (!o->keep_privs && !o->no_privs && o->n_add_caps == 0 && o->n_drop_caps == 0)
    return 0;
  json_t *process = json_object_get(config, "process");
  json_t *caps = json_object_get(process, "capabilities");
  bool set[N_CAPS];
  final_caps(caps, o, set);
  const char *names[N_CAPS + 1];
  size_t n = 0;
  for (size_t i = 0; i < N_CAPS; i++)
    if (set[i])
      names[n++] = all_caps[i];
  names[n] = NULL;
  static const char *const sets[] = {"bounding", "effective", "permitted"};
  json_t *nc = json_object();
  for (size_t i = 0; nc && i < sizeof(sets) / sizeof(sets[0]); i++) {
    json_t *a = json_array();
    for (size_t k = 0; a && k < n; k++)
      if (json_array_append_new(a, json_string(names[k])) < 0)
        a = NULL;
    if (json_object_set_new(nc, sets[i], a) < 0) {
      json_decref(nc);
      nc = NULL;
    }
  }
  if (nc == NULL || json_object_set_new(process, "capabilities", nc) < 0)
    return oci_error_set(err, ENOMEM, "process.capabilities");
  if (o->no_privs && json_object_set_new(process, "noNewPrivileges", json_true()) < 0)
    return oci_error_set(err, ENOMEM, "process.noNewPrivileges");
  /* the default profile allows what the capabilities unlock: made again
   * for the new set (an absent profile, --no-seccomp, stays absent) */
  json_t *lnx = json_object_get(config, "linux");
  if (json_object_get(lnx, "seccomp") != NULL && o->seccomp == NULL &&
      json_object_set_new(lnx, "seccomp", bundle_seccomp_profile(names)) < 0)
    return oci_error_set(err, ENOMEM, "linux.seccomp");
  return 0;
}

int spec_apply_privileges(json_t *config, const struct bundle_spec_options *o, oci_error **err)
{
  json_t *lnx = json_object_get(config, "linux");
  json_t *namespaces = json_object_get(lnx, "namespaces");
  if (o->net == BUNDLE_NS_HOST)
    drop_namespace(namespaces, "network");
  if (o->pid == BUNDLE_NS_HOST)
    drop_namespace(namespaces, "pid");
  if (o->ipc == BUNDLE_NS_HOST)
    drop_namespace(namespaces, "ipc");
  if (o->uts == BUNDLE_NS_HOST) {
    /* runc refuses a hostname without a UTS namespace of its own */
    drop_namespace(namespaces, "uts");
    json_object_del(config, "hostname");
  }
  if (apply_caps(config, o, err) < 0)
    return -1;
  if (o->seccomp_unconfined)
    json_object_del(lnx, "seccomp");
  if (o->seccomp && json_object_set(lnx, "seccomp", o->seccomp) < 0)
    return oci_error_set(err, ENOMEM, "linux.seccomp");
  if (o->apparmor && json_object_set_new(json_object_get(config, "process"), "apparmorProfile",
                                         json_string(o->apparmor)) < 0)
    return oci_error_set(err, ENOMEM, "process.apparmorProfile");
  return 0;
}
