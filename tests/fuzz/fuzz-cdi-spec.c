/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the CDI spec reader (bundle/cdi-spec.c) with arbitrary bytes as a
 * spec file, read both as JSON and as YAML, and apply every device of an
 * accepted spec to an empty config (bundle/cdi-apply.c), as root makes
 * bundles and as a user does (nodes bound in a user namespace).  A spec accepted
 * has a kind and a non-empty device list; a refusal names the file; and
 * applying what was accepted never crashes (it may refuse, naming the
 * file too). */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cdi-apply.h"
#include "cdi-spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void named(oci_error **err, const char *file)
{
  if (*err == NULL || strncmp((*err)->msg, file, strlen(file)) != 0)
    abort();
  oci_error_free(err);
}

static void one(const uint8_t *data, size_t size, bool yaml)
{
  const char *file = yaml ? "/cdi/fuzz.yaml" : "/cdi/fuzz.json";
  json_t *spec = NULL;
  oci_error *err = NULL;
  if (cdi_spec_parse((const char *)data, size, file, yaml, &spec, &err) < 0) {
    if (spec != NULL)
      abort();
    named(&err, file);
    return;
  }
  json_t *devices = json_object_get(spec, "devices");
  if (err != NULL || !json_is_string(json_object_get(spec, "kind")) ||
      json_array_size(devices) == 0)
    abort();
  size_t i;
  json_t *d;
  json_array_foreach(devices, i, d)
  {
    for (int userns = 0; userns < 2; userns++) {
      json_t *config = json_object();
      if (config == NULL)
        abort();
      if (cdi_apply_edits(config, json_object_get(spec, "containerEdits"), file, userns, &err) <
              0 ||
          cdi_apply_edits(config, json_object_get(d, "containerEdits"), file, userns, &err) < 0)
        named(&err, file);
      json_decref(config);
    }
  }
  json_decref(spec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  one(data, size, false);
  one(data, size, true);
  return 0;
}
