/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the TOML reader of --apply-cgroups (bundle/toml-parse.c) with
 * arbitrary bytes as the file.  Accepted: an object whose tables nest no
 * deeper than BUNDLE_TOML_MAX_DEPTH and whose leaves are integers,
 * booleans, strings or arrays of tables, with no error set.  Refused: an
 * error that names the file, and nothing returned. */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "toml-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* tables nest at most MAX_DEPTH deep; an array of tables counts as one */
static bool shape_ok(json_t *v, int depth)
{
  if (depth > BUNDLE_TOML_MAX_DEPTH)
    return false;
  const char *k;
  json_t *e;
  size_t i;
  json_t *t;
  json_object_foreach(v, k, e)
  {
    if (json_is_object(e)) {
      if (!shape_ok(e, depth + 1))
        return false;
    } else if (json_is_array(e)) {
      json_array_foreach(e, i, t) if (!json_is_object(t) || !shape_ok(t, depth + 1)) return false;
    } else if (!json_is_integer(e) && !json_is_boolean(e) && !json_is_string(e)) {
      return false;
    }
  }
  return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  json_t *v = NULL;
  oci_error *err = NULL;
  int r = bundle_toml_parse((const char *)data, size, "fuzz.toml", &v, &err);
  if (r == 0) {
    if (err != NULL || !json_is_object(v) || !shape_ok(v, 0))
      abort();
    json_decref(v);
  } else {
    if (r != -1 || v != NULL || err == NULL || strncmp(err->msg, "'fuzz.toml'", 11) != 0)
      abort();
    oci_error_free(&err);
  }
  return 0;
}
