/* SPDX-License-Identifier: Apache-2.0 */
/* `oci-runc`: the runc-compatible personality on its own, linked against libc
 * only (see src/meson.build for why it is not a link to `oci`). */
#include "runc-personality.h"

int main(int argc, char **argv)
{
  return runc_personality_main(argc, argv);
}
