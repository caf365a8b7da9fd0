/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the image config checks with hostile oci-config.json text: huge
 * arrays, deep nesting, odd types, NUL bytes, overlong strings. */
#include <stddef.h>
#include <stdint.h>

#include "image-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  json_error_t jerr;
  json_t *config =
      json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
  if (config == NULL)
    return 0;
  oci_error *err = NULL;
  (void)image_config_validate(config, &err);
  oci_error_free(&err);
  json_decref(config);
  return 0;
}
