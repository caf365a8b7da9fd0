/* SPDX-License-Identifier: Apache-2.0 */
#include "container-id.h"

#include <string.h>

static bool is_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool container_id_is_valid(const char *id)
{
  if (id == NULL)
    return false;
  size_t n = strlen(id);
  if (n == 0 || n > CONTAINER_ID_MAX_LEN)
    return false;
  for (size_t i = 0; i < n; i++) {
    if (is_alnum(id[i]))
      continue;
    if (i > 0 && (id[i] == '_' || id[i] == '.' || id[i] == '-'))
      continue;
    return false;
  }
  return true;
}
