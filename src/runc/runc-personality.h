/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The runc-compatible personality: `oci-runc` (or `oci` with
 * SIFOCI_PERSONALITY=runc) takes runc's command line and replaces itself with
 * the configured runtime, for tools that bring their own monitor (podman,
 * containerd's shim, CRI-O, the OCI validation suite).
 */
#ifndef SIFOCI_RUNC_PERSONALITY_H
#define SIFOCI_RUNC_PERSONALITY_H

#include <stdbool.h>

/* argv[0]'s basename is "oci-runc", or SIFOCI_PERSONALITY=runc. */
bool runc_personality_selected(const char *argv0);

/* Returns only on error, with the exit status. */
int runc_personality_main(int argc, char **argv);

#endif
