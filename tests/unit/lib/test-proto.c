/* SPDX-License-Identifier: Apache-2.0 */
/* Attach protocol frames and container ID validation. */
#include <stdint.h>
#include <string.h>

#include "proto.h"
#include "tap.h"
#include "container-id.h"

int main(void)
{
  uint8_t buf[PROTO_MAX_FRAME];
  struct proto_frame f;
  size_t n;

  n = proto_encode_hello(buf, 1, PROTO_STATE_RUNNING);
  TAP_OK(proto_parse(buf, n, &f) == 0 && f.type == PROTO_HELLO && f.terminal == 1 &&
             f.state == PROTO_STATE_RUNNING,
         "hello round-trips");
  n = proto_encode_exit(buf, 137, 9);
  TAP_OK(proto_parse(buf, n, &f) == 0 && f.exit_status == 137 && f.signal == 9, "exit round-trips");
  n = proto_encode_resize(buf, 40, 132);
  TAP_OK(proto_parse(buf, n, &f) == 0 && f.rows == 40 && f.cols == 132, "resize round-trips");
  n = proto_encode_data(buf, PROTO_STDERR, "abc", 3);
  TAP_OK(proto_parse(buf, n, &f) == 0 && f.type == PROTO_STDERR && f.len == 3 &&
             memcmp(f.data, "abc", 3) == 0,
         "data round-trips");
  static uint8_t big[PROTO_MAX_PAYLOAD + 100];
  n = proto_encode_data(buf, PROTO_STDOUT, big, sizeof(big));
  TAP_IS_INT(n, PROTO_MAX_FRAME, "data is cut at the frame limit");

  TAP_OK(proto_parse(buf, 0, &f) < 0, "empty record refused");
  buf[0] = 99;
  TAP_OK(proto_parse(buf, 1, &f) < 0, "unknown type refused");
  buf[0] = PROTO_STDOUT;
  TAP_OK(proto_parse(buf, 1, &f) < 0, "empty data frame refused");
  n = proto_encode_exit(buf, 300, 0);
  TAP_OK(proto_parse(buf, n, &f) < 0, "exit status > 255 refused");
  n = proto_encode_resize(buf, 1, 1);
  TAP_OK(proto_parse(buf, n - 1, &f) < 0, "short resize refused");
  n = proto_encode_empty(buf, PROTO_CLOSE_STDIN);
  TAP_OK(proto_parse(buf, n, &f) == 0 && f.type == PROTO_CLOSE_STDIN, "close-stdin parses");
  buf[1] = 'x';
  TAP_OK(proto_parse(buf, 2, &f) < 0, "close-stdin with payload refused");

  TAP_OK(container_id_is_valid("busybox1"), "plain ID accepted");
  TAP_OK(container_id_is_valid("a.b_c-d"), "ID with . _ - accepted");
  TAP_OK(!container_id_is_valid(""), "empty ID refused");
  TAP_OK(!container_id_is_valid(".."), "'..' refused");
  TAP_OK(!container_id_is_valid("a/b"), "'/' refused");
  TAP_OK(!container_id_is_valid("-a"), "leading '-' refused");
  TAP_OK(!container_id_is_valid("a\nb"), "control character refused");
  char longid[CONTAINER_ID_MAX_LEN + 2];
  memset(longid, 'a', sizeof(longid) - 1);
  longid[sizeof(longid) - 1] = '\0';
  TAP_OK(!container_id_is_valid(longid), "129-character ID refused");
  longid[CONTAINER_ID_MAX_LEN] = '\0';
  TAP_OK(container_id_is_valid(longid), "128-character ID accepted");
  return tap_done();
}
