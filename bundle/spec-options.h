/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a user asks `oci mount` (and later `oci run/create IMAGE.sif`) to put
 * in config.json beyond what the image says: bind mounts, home, scratch,
 * environment, namespaces, capabilities, cgroup limits, CDI devices.  The
 * options are spelled as SingularityCE spells its action flags.
 *
 * The CLI hands each option over by name and value as the user wrote it
 * (bundle_spec_option_set); the value is checked there, so a bad one is a
 * usage error before anything is made.  bundle_spec_options_apply then
 * edits the config built by bundle_spec_build, one concern per file:
 * spec-mounts.c, spec-process.c, spec-privileges.c, spec-limits.c.  What
 * the options need on disk (the workdir's directories, the bundle's
 * resolv.conf) is made by bundle_spec_extra_make, once the bundle exists.
 */
#ifndef SIFOCI_SPEC_OPTIONS_H
#define SIFOCI_SPEC_OPTIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Caps on what one command line may ask for. */
#define BUNDLE_OPT_MAX_ITEMS 256       /* binds, env entries, scratch dirs, ... each */
#define BUNDLE_OPT_MAX_FILE (1u << 20) /* --env-file, --security seccomp:FILE, --apply-cgroups */
/* the options' text together: the mount record (256 KiB at most) keeps it */
#define BUNDLE_OPT_MAX_ASKED (64u << 10)

/* The name of the resolv.conf --dns writes into the bundle. */
#define BUNDLE_RESOLV_CONF "resolv.conf"

struct bundle_bind {
  char *src; /* absolute, canonical (the source exists) */
  char *dst; /* absolute, normalized */
  bool ro;
};

/* --no-mount: which of the default mounts to leave out (not /proc: runc
 * and crun need it) */
enum bundle_no_mount {
  BUNDLE_NO_MOUNT_SYS = 1 << 0,
  BUNDLE_NO_MOUNT_DEV = 1 << 1,
  BUNDLE_NO_MOUNT_TMP = 1 << 2,
  BUNDLE_NO_MOUNT_HOME = 1 << 3,
};

/* --net, --pid, --ipc, --uts */
enum bundle_ns_mode {
  BUNDLE_NS_PRIVATE, /* a new namespace (the default; --net none) */
  BUNDLE_NS_HOST,    /* the host's: the namespace is left out */
  BUNDLE_NS_MODE_MAX,
};

enum bundle_gpu_kind {
  BUNDLE_GPU_NVIDIA = 1 << 0,
  BUNDLE_GPU_AMD = 1 << 1,
};

/* One limit that was asked for; SET says whether it was. */
struct bundle_limit {
  bool set;
  int64_t value;
};

struct bundle_limits {
  struct bundle_limit cpu_quota, cpu_period, cpu_shares, memory, memory_swap, memory_reservation,
      pids, blkio_weight;
  char *cpuset_cpus;
  json_t *from_file; /* --apply-cgroups: a linux.resources object, checked */
};

struct bundle_spec_options {
  /* mounts (spec-mounts.c) */
  struct bundle_bind *binds;
  size_t n_binds;
  struct bundle_bind home; /* src NULL: none */
  bool no_home;
  char **scratch; /* normalized destinations */
  size_t n_scratch;
  char *workdir; /* absolute, canonical */
  unsigned no_mount;

  /* process (spec-process.c): env in command-line order, K=V */
  char **env;
  size_t n_env;
  bool cleanenv;
  char *cwd, *hostname;
  char **dns;
  size_t n_dns;

  /* namespaces and privileges (spec-privileges.c) */
  enum bundle_ns_mode net, pid, ipc, uts;
  char **add_caps, **drop_caps; /* "CAP_X" */
  size_t n_add_caps, n_drop_caps;
  bool no_privs, keep_privs;
  bool seccomp_unconfined;
  json_t *seccomp; /* --security seccomp:FILE, checked */
  char *apparmor;

  /* limits (spec-limits.c) */
  struct bundle_limits limits;

  /* CDI devices (spec-devices.c): qualified names, in order, each once */
  char **devices;
  size_t n_devices;
  char **cdi_dirs; /* NULL: CDI's defaults */
  size_t n_cdi_dirs;
  unsigned gpu_kinds; /* BUNDLE_GPU_*: asked with --nv, --rocm */

  /* what was asked, as [[name, value], ...] in order (the mount record) */
  json_t *asked;
  size_t asked_bytes;
};

/* Take option NAME ("bind", "env", "memory", ...: the long option without
 * "--") with VALUE (NULL for a flag).  A bad value: a usage error naming
 * the option; an unknown name: an error. */
int bundle_spec_option_set(struct bundle_spec_options *o, const char *name, const char *value,
                           oci_error **err);

/* Options that cannot go together, once all are in: a usage error. */
int bundle_spec_options_check(const struct bundle_spec_options *o, oci_error **err);

/* Was anything asked? */
bool bundle_spec_options_any(const struct bundle_spec_options *o);

/* What the options need made once the bundle exists. */
struct bundle_spec_extra {
  char *resolv_conf;   /* the text of BUNDLE/resolv.conf, NULL for none */
  char **workdir_dirs; /* under o->workdir, in order (parents first) */
  size_t n_workdir_dirs;
  const char *workdir;
};

/* Apply O to CONFIG (from bundle_spec_build for a bundle at BUNDLE_PATH,
 * absolute).  *RET_EXTRA says what to make (bundle_spec_extra_make). */
int bundle_spec_options_apply(json_t *config, const struct bundle_spec_options *o,
                              const char *bundle_path, struct bundle_spec_extra *ret_extra,
                              oci_error **err);

/* Make what EXTRA says: the workdir's directories (kept when there) and
 * BUNDLE_RESOLV_CONF under BUNDLE_DIRFD. */
int bundle_spec_extra_make(const struct bundle_spec_extra *extra, int bundle_dirfd,
                           oci_error **err);

void bundle_spec_extra_clear(struct bundle_spec_extra *extra);
void bundle_spec_options_clear(struct bundle_spec_options *o);

#endif
