/* SPDX-License-Identifier: Apache-2.0 */
#include "json-util.h"

json_t *bundle_json_strv(const char *const *v)
{
  json_t *a = json_array();
  for (size_t i = 0; a != NULL && v[i] != NULL; i++)
    if (json_array_append_new(a, json_string(v[i])) < 0) {
      json_decref(a);
      return NULL;
    }
  return a;
}
