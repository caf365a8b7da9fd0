/* SPDX-License-Identifier: Apache-2.0 */
/* `oci exec -u`: user and group names resolved inside the container. */
#ifndef SIFOCI_EXEC_USER_H
#define SIFOCI_EXEC_USER_H

#include "container.h"
#include "error.h"

/* USER ("name", "name:group", "uid:group", ...) through the container's own
 * /etc/passwd and /etc/group: *RET_NUMERIC "uid:gid" (allocated), or NULL
 * when USER is numbers already (the runtime takes it as it is). */
int exec_user_resolve(const struct container *ct, const char *user, char **ret_numeric,
                      oci_error **err);

#endif
