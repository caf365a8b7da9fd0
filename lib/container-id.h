/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container-ID rule: [A-Za-z0-9][A-Za-z0-9_.-]{0,127}.  An ID names a
 * directory under the state root, so it is checked before it touches any
 * path: no '/', no "..", no leading dot or dash, nothing a shell or a
 * terminal could misread.
 */
#ifndef SIFOCI_CONTAINER_ID_H
#define SIFOCI_CONTAINER_ID_H

#include <stdbool.h>

#define CONTAINER_ID_MAX_LEN 128

/* A state dir on its way out is renamed ROOT/.gone-PID-ID (PID: the
 * process removing it) first, so that it leaves the ROOT/ID namespace at
 * once; no ID can start with the dot. */
#define CONTAINER_GONE_DIR_PREFIX ".gone-"

bool container_id_is_valid(const char *id);

#endif
