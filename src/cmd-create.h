/* SPDX-License-Identifier: Apache-2.0 */
/* create's options, which `oci run` takes as well: one table for both. */
#ifndef SIFOCI_CMD_CREATE_H
#define SIFOCI_CMD_CREATE_H

#include <stdbool.h>

#include "cli.h"
#include "container.h"

/* keys CLI_OPT_LONG .. CLI_OPT_LONG + 9 are create's */
extern const struct cli_option cli_create_options[];

/* KEY is one of create's options: its value goes to O; false otherwise. */
bool cli_create_option(int key, const char *value, struct container_create_opts *o);

/* After the options: the ID (the one operand), and the options create
 * cannot do without.  EXTRA_HINT: what to say of a word after the ID
 * (NULL: the usage). */
int cli_create_finish(const struct cli_context *ctx, int argc, char **argv,
                      struct container_create_opts *o, const char *extra_hint, oci_error **err);

/* What every create takes from the command line's context: root,
 * runtime, the oci binary. */
void cli_create_context(const struct cli_context *ctx, struct container_create_opts *o);

/* Before anything is made: a SIF image given as the bundle is named as
 * such; ATTACHED (a foreground `oci run`): a terminal bundle needs a
 * terminal on stdin; another live container on the same bundle is warned
 * about (on stderr). */
int cli_create_preflight(const struct cli_context *ctx, struct container_create_opts *o,
                         bool attached, oci_error **err);

#endif
