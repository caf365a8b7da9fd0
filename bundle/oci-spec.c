/* SPDX-License-Identifier: Apache-2.0 */
#include "oci-spec.h"

#include <stddef.h>

#include "json-util.h"
#include "seccomp-profile.h"

/* SingularityCE 4.x DefaultCaps, in its order. */
static const char *const default_caps[] = {
    "CAP_NET_RAW", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_READ", "CAP_AUDIT_WRITE", "CAP_DAC_OVERRIDE",
    "CAP_SETFCAP", "CAP_SETPCAP",          "CAP_SETGID",     "CAP_SETUID",      "CAP_MKNOD",
    "CAP_CHOWN",   "CAP_FOWNER",           "CAP_FSETID",     "CAP_KILL",        "CAP_SYS_CHROOT",
    NULL,
};

/* What `runc spec` (1.1) masks and makes read-only; SingularityCE sets
 * neither, which leaves /proc/kcore and friends readable in the container. */
static const char *const masked_paths[] = {
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
    NULL,
};
static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static const char *const namespaces[] = {"pid", "network", "ipc", "uts", "mount", NULL};

struct default_mount {
  const char *destination, *type, *source;
  const char *const options[8];
};

static const struct default_mount default_mounts[] = {
    {"/proc", "proc", "proc", {"nosuid", "noexec", "nodev", NULL}},
    {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k", NULL}},
    {"/dev/pts",
     "devpts",
     "devpts",
     {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL}},
    {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL}},
    {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev", NULL}},
    {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro", NULL}},
    /* runc picks cgroup v1 or v2 for type "cgroup" itself. */
    {"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro", NULL}},
};

static json_t *default_process(void)
{
  json_t *caps =
      json_pack("{s:o, s:o, s:o}", "bounding", bundle_json_strv(default_caps), "effective",
                bundle_json_strv(default_caps), "permitted", bundle_json_strv(default_caps));
  if (caps == NULL)
    return NULL;
  return json_pack("{s:b, s:{s:i, s:i}, s:[s], s:[s, s], s:s, s:o, s:[{s:s, s:i, s:i}]}",
                   "terminal", 1, "user", "uid", 0, "gid", 0, "args", "/bin/sh", "env",
                   BUNDLE_SPEC_DEFAULT_PATH, "TERM=xterm", "cwd", "/", "capabilities", caps,
                   "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024);
}

static json_t *default_mounts_json(void)
{
  json_t *a = json_array();
  for (size_t i = 0; a != NULL && i < sizeof(default_mounts) / sizeof(default_mounts[0]); i++) {
    const struct default_mount *m = &default_mounts[i];
    json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "destination", m->destination, "type", m->type,
                          "source", m->source, "options", bundle_json_strv(m->options));
    if (json_array_append_new(a, o) < 0) {
      json_decref(a);
      return NULL;
    }
  }
  return a;
}

static json_t *default_linux(void)
{
  json_t *ns = json_array();
  for (size_t i = 0; ns != NULL && namespaces[i] != NULL; i++)
    if (json_array_append_new(ns, json_pack("{s:s}", "type", namespaces[i])) < 0) {
      json_decref(ns);
      return NULL;
    }
  return json_pack("{s:{s:[{s:b, s:s}]}, s:o, s:o, s:o, s:o}", "resources", "devices", "allow", 0,
                   "access", "rwm", "namespaces", ns, "maskedPaths", bundle_json_strv(masked_paths),
                   "readonlyPaths", bundle_json_strv(readonly_paths), "seccomp",
                   bundle_seccomp_profile(default_caps));
}

json_t *bundle_spec_default(const char *rootfs_path)
{
  /* json_pack's "o" steals the reference and fails on NULL, so a failed
   * allocation anywhere makes the whole pack fail without leaks. */
  return json_pack("{s:s, s:o, s:{s:s}, s:s, s:o, s:o}", "ociVersion", BUNDLE_SPEC_OCI_VERSION,
                   "process", default_process(), "root", "path", rootfs_path, "hostname",
                   BUNDLE_SPEC_HOSTNAME, "mounts", default_mounts_json(), "linux", default_linux());
}
