/* SPDX-License-Identifier: Apache-2.0 */
#include "own-bundle-env.h"

#include <string.h>

/* NAME of a NAME=VALUE entry (the whole string without '='), as a length */
static size_t env_name_len(const json_t *entry)
{
  const char *s = json_string_value(entry);
  size_t len = json_string_length(entry);
  const char *eq = memchr(s, '=', len);
  return eq ? (size_t)(eq - s) : len;
}

int own_bundle_env_last_wins(json_t *config)
{
  json_t *process = json_object_get(config, "process");
  json_t *env = json_object_get(process, "env");
  if (!json_is_array(env))
    return 0;
  /* name -> index of its last entry; keys go with their length, so a
   * name holding a NUL is still one name */
  json_auto_t *last = json_object();
  if (last == NULL)
    return -1;
  size_t i, dups = 0;
  json_t *e;
  json_array_foreach(env, i, e)
  {
    if (!json_is_string(e))
      continue;
    const char *name = json_string_value(e);
    size_t len = env_name_len(e);
    if (json_object_getn(last, name, len) != NULL)
      dups++;
    if (json_object_setn_new_nocheck(last, name, len, json_integer((json_int_t)i)) < 0)
      return -1;
  }
  if (dups == 0)
    return 0;
  json_auto_t *kept = json_array();
  if (kept == NULL)
    return -1;
  json_array_foreach(env, i, e)
  {
    if (json_is_string(e) && json_integer_value(json_object_getn(last, json_string_value(e),
                                                                 env_name_len(e))) != (json_int_t)i)
      continue;
    if (json_array_append(kept, e) < 0)
      return -1;
  }
  return json_object_set(process, "env", kept);
}
