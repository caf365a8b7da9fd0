/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A variable named twice in process.env.  Slurm appends the job's whole
 * environment to the image's (PATH twice), and anyone may append to a
 * bundle's list.  runc hands the list to execve() as it is after finding
 * the program with the last value (Go's Setenv), glibc's getenv() returns
 * the first, and a shell keeps the last: a program would see another PATH
 * than the one it was found with.  So the container's own config keeps
 * only the last of each name, as a shell that set it again would.
 */
#ifndef SIFOCI_OWN_BUNDLE_ENV_H
#define SIFOCI_OWN_BUNDLE_ENV_H

#include <jansson.h>

/* Drops from CONFIG's process.env every NAME=... that a later entry of the
 * same NAME overrides; order otherwise kept, entries that are not strings
 * left for the runtime to refuse.  0, or -1 on OOM. */
int own_bundle_env_last_wins(json_t *config);

#endif
