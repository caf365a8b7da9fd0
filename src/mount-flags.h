/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bundle options on the command line (`oci mount`; `oci run/create
 * IMAGE.sif` once images run directly): their option tables, one per group
 * of the help, and the step from a parsed option to bundle/spec-options.h.
 * A verb puts CLI_MOUNT_FLAG_GROUPS tables from cli_mount_flag_tables in
 * its cli_verb.options (with cli_mount_flag_titles) and hands every key
 * cli_next_option returns to cli_mount_flag first.
 */
#ifndef SIFOCI_MOUNT_FLAGS_H
#define SIFOCI_MOUNT_FLAGS_H

#include "cli.h"
#include "spec-options.h"

#define CLI_MOUNT_FLAG_GROUPS 5

extern const struct cli_option cli_mount_flags_mounts[];
extern const struct cli_option cli_mount_flags_process[];
extern const struct cli_option cli_mount_flags_privileges[];
extern const struct cli_option cli_mount_flags_limits[];
extern const struct cli_option cli_mount_flags_devices[];

#define CLI_MOUNT_FLAG_TITLES                                                                      \
  "Mounts", "Process and environment", "Namespaces and privileges", "Resource limits (cgroups)",   \
      "Devices (CDI)"

/* KEY with VALUE (optarg) into O: 1 when KEY is one of these options, 0
 * when it is not (the verb's own), -1 with a usage error for a bad value. */
int cli_mount_flag(const struct cli_context *ctx, struct bundle_spec_options *o, int key,
                   const char *value, oci_error **err);

/* The first of the limits options O was given (its long name), or NULL. */
const char *cli_mount_flags_limit_asked(const struct bundle_spec_options *o);

#endif
