/* SPDX-License-Identifier: Apache-2.0 */
/* Detach keys as `oci attach --detach-keys` and `oci run` parse them. */
#include <stdlib.h>
#include <string.h>

#include "attach-client.h"
#include "tap.h"

static void test_detach_keys(void)
{
  struct attach_opts o = {0};
  TAP_OK(attach_parse_detach_keys(NULL, &o, NULL) == 0 && o.n_detach_keys == 2 &&
             o.detach_keys[0] == 0x10 && o.detach_keys[1] == 0x11,
         "default detach keys are ctrl-p ctrl-q");
  TAP_OK(attach_parse_detach_keys("ctrl-a,x,ctrl-@,ctrl-_", &o, NULL) == 0 &&
             o.n_detach_keys == 4 && o.detach_keys[0] == 1 && o.detach_keys[1] == 'x' &&
             o.detach_keys[2] == 0 && o.detach_keys[3] == 0x1f,
         "ctrl-a,x,ctrl-@,ctrl-_");
  TAP_OK(attach_parse_detach_keys("", &o, NULL) == 0 && o.n_detach_keys == 0, "'' disables");
  oci_error *e = NULL;
  TAP_OK(attach_parse_detach_keys("ctrl-1", &o, &e) < 0 && e->kind == OCI_ERR_USAGE,
         "ctrl-1 refused");
  oci_error_free(&e);
  TAP_OK(attach_parse_detach_keys("ab", &o, &e) < 0, "'ab' refused");
  oci_error_free(&e);
}

int main(void)
{
  test_detach_keys();
  return tap_done();
}
