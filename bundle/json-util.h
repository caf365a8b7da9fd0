/* SPDX-License-Identifier: Apache-2.0 */
/* Small jansson helpers shared by the config.json writers. */
#ifndef SIFOCI_JSON_UTIL_H
#define SIFOCI_JSON_UTIL_H

#include <jansson.h>

/* A JSON array of the strings of the NULL-terminated V; NULL on OOM. */
json_t *bundle_json_strv(const char *const *v);

#endif
