/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The image config's User ("uid", "uid:gid", "name", "name:group",
 * "uid:group", "name:gid") turned into numbers, through the image's own
 * /etc/passwd and /etc/group, never the host's.
 */
#ifndef SIFOCI_IMAGE_USER_H
#define SIFOCI_IMAGE_USER_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "image-files.h"

/* Longest user or group name accepted (glibc's LOGIN_NAME_MAX is 256). */
#define BUNDLE_USER_NAME_MAX 256

/* Resolve USER.  An empty string is root (0:0).  When only a uid is given,
 * the gid is the user's primary group from passwd when the uid is listed
 * there, else 0.  A name that does not resolve is an error naming it. */
int bundle_user_resolve(const char *user, const struct bundle_image_files *files, uint32_t *ret_uid,
                        uint32_t *ret_gid, oci_error **err);

/* A decimal id in 0..2^32-2 ((uid_t)-1 is "no id"), nothing else. */
bool bundle_parse_id(const char *s, uint32_t *ret);

/* Look NAME (or, when NAME is NULL, UID) up in passwd TEXT: 0 found, 1 not. */
int bundle_passwd_lookup(const char *text, const char *name, uint32_t uid, uint32_t *ret_uid,
                         uint32_t *ret_gid);

/* Look group NAME up in group TEXT: 0 found, 1 not. */
int bundle_group_lookup(const char *text, const char *name, uint32_t *ret_gid);

#endif
