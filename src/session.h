/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the verbs do, one function each, with their output: the verb files
 * parse options and call one of these.  Return values follow cli.h: an
 * exit status >= 0, or -1 with *err (err->status when it is not 1).
 */
#ifndef SIFOCI_SESSION_H
#define SIFOCI_SESSION_H

#include <stdbool.h>

#include "attach-client.h"
#include "error.h"
#include "container.h"
#include "runtime.h"

int session_create(const struct container_create_opts *o, oci_error **err);
int session_simple(const char *root, const char *id, enum rt_op op, oci_error **err);
/* Signal the container.  GRACE_SECONDS > 0: if it is still running that
 * long after the signal, send SIGKILL. */
int session_kill(const char *root, const char *id, int signum, int grace_seconds, oci_error **err);
int session_update(const char *root, const char *id, const char *resources, oci_error **err);
int session_delete(const char *root, const char *id, bool force, oci_error **err);
int session_state(const char *root, const char *id, oci_error **err);
int session_list(const char *root, bool json, bool quiet, oci_error **err);
int session_exec(const char *root, const char *id, const struct rt_exec_opts *o, oci_error **err);
int session_attach(const char *root, const char *id, struct attach_opts *o, oci_error **err);
/* DETACH: create + start and return; else create in run mode, attach,
 * start, and wait for the end. */
int session_run(const struct container_create_opts *o, bool detach, struct attach_opts *ao,
                oci_error **err);
int session_logs(const char *root, const char *id, bool follow, long tail, oci_error **err);

#endif
