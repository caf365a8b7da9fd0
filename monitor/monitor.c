/* SPDX-License-Identifier: Apache-2.0 */
/* PLACEHOLDER until the monitor is written. */
#include <stdio.h>

int main(void)
{
  fprintf(stderr, "oci-monitor: not implemented yet\n");
  return 1;
}
