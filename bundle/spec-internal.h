/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Between spec-options.c (the option table, what every option file shares)
 * and the files of one concern each: spec-mounts.c, spec-process.c,
 * spec-privileges.c, spec-limits.c, spec-devices.c.  Parsers take the value as the user
 * wrote it and fail with a usage error naming the option; appliers edit
 * config.json.
 */
#ifndef SIFOCI_SPEC_INTERNAL_H
#define SIFOCI_SPEC_INTERNAL_H

#include "spec-options.h"

typedef int (*spec_parse_fn)(struct bundle_spec_options *o, const char *value, oci_error **err);

/* A usage error "--OPTION 'VALUE': message". */
int spec_bad(oci_error **err, const char *option, const char *value, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Append a copy of S to *V (n in *N, NULL-terminated); at most
 * BUNDLE_OPT_MAX_ITEMS, OPTION names the list in the error. */
int spec_strv_add(char ***v, size_t *n, const char *s, const char *option, oci_error **err);

/* Call FN on each comma-separated piece of VALUE (empty pieces are an
 * error). */
int spec_each_item(struct bundle_spec_options *o, const char *option, const char *value,
                   int (*fn)(struct bundle_spec_options *o, const char *item, oci_error **err),
                   oci_error **err);

/* PATH made canonical for a container path: absolute, no "." or ".."
 * components, no repeated or trailing '/', not "/" itself. */
int spec_container_path(const char *option, const char *path, char **ret, oci_error **err);

/* A host path that must exist: its canonical form. */
int spec_host_path(const char *option, const char *path, char **ret, oci_error **err);

/* Read a file a user named (at most BUNDLE_OPT_MAX_FILE bytes). */
int spec_read_user_file(const char *option, const char *path, char **ret, size_t *ret_len,
                        oci_error **err);

/* Is PATH (canonical) equal to P or below it? */
bool spec_path_within(const char *path, const char *p);

/* spec-mounts.c */
int spec_parse_bind(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_parse_mount(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_parse_home(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_parse_scratch(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_parse_workdir(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_parse_no_mount(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_apply_mounts(json_t *config, const struct bundle_spec_options *o, const char *bundle_path,
                      struct bundle_spec_extra *extra, oci_error **err);

/* spec-process.c */
int spec_parse_env(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_parse_env_file(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_parse_cwd(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_parse_hostname(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_parse_dns(struct bundle_spec_options *o, const char *value, oci_error **err);
/* Set NAME=VALUE in process.env, replacing NAME where it is. */
int spec_env_set(json_t *config, const char *name, const char *value, oci_error **err);
int spec_apply_process(json_t *config, const struct bundle_spec_options *o,
                       struct bundle_spec_extra *extra, oci_error **err);

/* spec-privileges.c */
int spec_parse_net(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_parse_pid(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_parse_ipc(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_parse_uts(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_parse_add_caps(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_parse_drop_caps(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_parse_security(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_apply_privileges(json_t *config, const struct bundle_spec_options *o, oci_error **err);

/* spec-limits.c */
int spec_parse_cpus(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_parse_cpu_shares(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_parse_cpuset_cpus(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_parse_memory(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_parse_memory_swap(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_parse_memory_reservation(struct bundle_spec_options *o, const char *value,
                                  oci_error **err);
int spec_parse_pids_limit(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_parse_blkio_weight(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_parse_apply_cgroups(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_limits_check(const struct bundle_spec_options *o, oci_error **err);
int spec_apply_limits(json_t *config, const struct bundle_spec_options *o, oci_error **err);

/* spec-devices.c */
int spec_parse_device(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_parse_cdi_dirs(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_parse_nv(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_parse_rocm(struct bundle_spec_options *o, const char *value, oci_error **err);
int spec_apply_devices(json_t *config, const struct bundle_spec_options *o, oci_error **err);

#endif
