/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the attach/control frame parser, and check that what parses encodes
 * back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct proto_frame f;
  if (proto_parse(data, size, &f) != 0)
    return 0;
  static uint8_t buf[PROTO_MAX_FRAME];
  size_t n = 0;
  switch (f.type) {
  case PROTO_HELLO: n = proto_encode_hello(buf, f.terminal, (enum proto_state)f.state); break;
  case PROTO_EXIT: n = proto_encode_exit(buf, f.exit_status, f.signal); break;
  case PROTO_RESIZE: n = proto_encode_resize(buf, f.rows, f.cols); break;
  case PROTO_STDOUT:
  case PROTO_STDERR:
  case PROTO_STDIN: n = proto_encode_data(buf, f.type, f.data, f.len); break;
  case PROTO_CLOSE_STDIN:
  case PROTO_DETACH:
  case PROTO_HOLD: n = proto_encode_empty(buf, f.type); break;
  default: abort();
  }
  if (n != size || memcmp(buf, data, n) != 0)
    abort();
  return 0;
}
