/* SPDX-License-Identifier: Apache-2.0 */
/* The bundle options' tables: names and letters as SingularityCE's action
 * flags have them; each long name is the option's name in
 * bundle/spec-options.c. */
#include "mount-flags.h"

#include <jansson.h>
#include <string.h>

/* keys of the long-only ones: far above any verb's own */
enum { K = CLI_OPT_LONG + 0x200 };

const struct cli_option cli_mount_flags_mounts[] = {
    {"bind", 'B', "SRC[:DST[:ro|rw]]",
     "bind-mount a host path (repeatable, or a comma list); DST defaults to SRC"},
    {"mount", K + 1, "SPEC", "type=bind,src=SRC,dst=DST[,ro]: a bind mount, spelled out"},
    {"home", 'H', "SRC[:DST]", "bind SRC as the home directory (DST, default SRC) and set HOME"},
    {"no-home", K + 2, NULL, "no home directory mount (the default for a bundle)"},
    {"scratch", 'S', "DIR", "an empty directory at DIR (tmpfs, or under --workdir); repeatable"},
    {"workdir", 'W', "DIR", "host DIR backs /tmp, /var/tmp (DIR/tmp, DIR/var_tmp) and --scratch"},
    {"no-mount", K + 3, "LIST",
     "leave out default mounts: sys, dev (extract only), tmp (--workdir's), home"},
    {NULL, 0, NULL, NULL},
};

const struct cli_option cli_mount_flags_process[] = {
    {"env", K + 10, "NAME=VALUE", "set an environment variable (repeatable; wins over the image)"},
    {"env-file", K + 11, "FILE", "NAME=VALUE lines ('#' comments) from FILE"},
    {"cleanenv", 'e', NULL, "drop the image's environment but PATH and TERM"},
    {"cwd", K + 12, "DIR", "working directory in the container"},
    {"hostname", K + 13, "NAME", "the container's hostname (it has its own UTS namespace)"},
    {"dns", K + 14, "IP[,IP]", "name servers: a resolv.conf in the bundle, on /etc/resolv.conf"},
    {NULL, 0, NULL, NULL},
};

const struct cli_option cli_mount_flags_privileges[] = {
    {"net", K + 20, "none|host",
     "none (default): a network namespace with only loopback; host: the host's\n"
     "network and its /etc/resolv.conf"},
    {"pid", K + 21, "private|host", "PID namespace: a new one (default) or the host's"},
    {"ipc", K + 22, "private|host", "IPC namespace: a new one (default) or the host's"},
    {"uts", K + 23, "private|host", "UTS namespace: a new one (default) or the host's"},
    {"add-caps", K + 24, "CAPS", "add capabilities (CAP_NET_ADMIN,sys_ptrace,... or all)"},
    {"drop-caps", K + 25, "CAPS", "drop capabilities (same names, or all)"},
    {"no-privs", K + 26, NULL, "no capabilities at all, and noNewPrivileges"},
    {"keep-privs", K + 27, NULL, "every capability (root in the container keeps them)"},
    {"security", K + 28, "WHAT",
     "seccomp:unconfined (no filter), seccomp:FILE (a linux.seccomp JSON profile)\n"
     "or apparmor:PROFILE"},
    {NULL, 0, NULL, NULL},
};

const struct cli_option cli_mount_flags_limits[] = {
    {"cpus", K + 30, "N", "CPUs' worth of time (e.g. 1.5): cpu quota per 100 ms period"},
    {"cpu-shares", K + 31, "N", "relative CPU weight (2-262144)"},
    {"cpuset-cpus", K + 32, "LIST", "CPUs to run on (0-3,5)"},
    {"memory", K + 33, "SIZE", "memory limit (bytes, or k, m, g, t: 1024-based)"},
    {"memory-swap", K + 34, "SIZE", "memory and swap together (-1: unlimited swap)"},
    {"memory-reservation", K + 35, "SIZE", "memory soft limit"},
    {"pids-limit", K + 36, "N", "most processes at once (-1: unlimited)"},
    {"blkio-weight", K + 37, "N", "relative block I/O weight (10-1000)"},
    {"apply-cgroups", K + 38, "FILE",
     "linux.resources from FILE: JSON, or TOML as SingularityCE's cgroups.toml"},
    {NULL, 0, NULL, NULL},
};

const struct cli_option cli_mount_flags_devices[] = {
    {"device", K + 40, "VENDOR/CLASS=NAME",
     "a device from a CDI spec (repeatable): its nodes, mounts, env and hooks"},
    {"cdi-dirs", K + 41, "DIR[,DIR]", "where the CDI specs are (default /etc/cdi,/var/run/cdi)"},
    {"nv", K + 42, NULL, "NVIDIA GPUs: --device nvidia.com/gpu=all"},
    {"rocm", K + 43, NULL, "AMD GPUs: --device amd.com/gpu=all"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_option *const tables[] = {
    cli_mount_flags_mounts, cli_mount_flags_process, cli_mount_flags_privileges,
    cli_mount_flags_limits, cli_mount_flags_devices,
};

int cli_mount_flag(const struct cli_context *ctx, struct bundle_spec_options *o, int key,
                   const char *value, oci_error **err)
{
  for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
    for (const struct cli_option *opt = tables[t]; opt->name; opt++) {
      if (opt->key != key)
        continue;
      if (bundle_spec_option_set(o, opt->name, opt->arg ? value : NULL, err) < 0)
        return oci_error_prefix(err, "%s", ctx->verb->name);
      return 1;
    }
  return 0;
}

const char *cli_mount_flags_limit_asked(const struct bundle_spec_options *o)
{
  size_t i;
  json_t *pair;
  json_array_foreach(o->asked, i, pair)
  {
    const char *name = json_string_value(json_array_get(pair, 0));
    for (const struct cli_option *opt = cli_mount_flags_limits; name && opt->name; opt++)
      if (strcmp(opt->name, name) == 0)
        return opt->name;
  }
  return NULL;
}
