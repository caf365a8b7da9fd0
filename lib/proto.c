/* SPDX-License-Identifier: Apache-2.0 */
#include "proto.h"

#include <errno.h>
#include <string.h>

static void put_u16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static void put_i32(uint8_t *p, int32_t v)
{
  uint32_t u = (uint32_t)v;
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(u >> (8 * i));
}

static uint16_t get_u16(const uint8_t *p)
{
  return (uint16_t)(p[0] | p[1] << 8);
}

static int32_t get_i32(const uint8_t *p)
{
  return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                   (uint32_t)p[3] << 24);
}

int proto_parse(const uint8_t *buf, size_t len, struct proto_frame *ret)
{
  if (buf == NULL || len < 1 || len > PROTO_MAX_FRAME)
    return -EINVAL;
  memset(ret, 0, sizeof(*ret));
  ret->type = (enum proto_frame_type)buf[0];
  ret->data = buf + 1;
  ret->len = len - 1;
  switch (buf[0]) {
  case PROTO_HELLO:
    if (ret->len != 2 || buf[1] > 1 || buf[2] == 0 || buf[2] >= PROTO_STATE_MAX)
      return -EINVAL;
    ret->terminal = buf[1];
    ret->state = buf[2];
    return 0;
  case PROTO_STDOUT:
  case PROTO_STDERR:
  case PROTO_STDIN: return ret->len > 0 ? 0 : -EINVAL;
  case PROTO_EXIT:
    if (ret->len != 8)
      return -EINVAL;
    ret->exit_status = get_i32(buf + 1);
    ret->signal = get_i32(buf + 5);
    if (ret->exit_status < 0 || ret->exit_status > 255 || ret->signal < 0 || ret->signal > 127)
      return -EINVAL;
    return 0;
  case PROTO_RESIZE:
    if (ret->len != 4)
      return -EINVAL;
    ret->rows = get_u16(buf + 1);
    ret->cols = get_u16(buf + 3);
    return 0;
  case PROTO_CLOSE_STDIN:
  case PROTO_DETACH:
  case PROTO_HOLD: return ret->len == 0 ? 0 : -EINVAL;
  default: return -EINVAL;
  }
}

size_t proto_encode_data(uint8_t *buf, enum proto_frame_type type, const void *data, size_t len)
{
  if (len > PROTO_MAX_PAYLOAD)
    len = PROTO_MAX_PAYLOAD;
  buf[0] = (uint8_t)type;
  memcpy(buf + 1, data, len);
  return len + 1;
}

size_t proto_encode_hello(uint8_t *buf, int terminal, enum proto_state state)
{
  buf[0] = PROTO_HELLO;
  buf[1] = terminal ? 1 : 0;
  buf[2] = (uint8_t)state;
  return 3;
}

size_t proto_encode_exit(uint8_t *buf, int32_t exit_status, int32_t signal)
{
  buf[0] = PROTO_EXIT;
  put_i32(buf + 1, exit_status);
  put_i32(buf + 5, signal);
  return 9;
}

size_t proto_encode_resize(uint8_t *buf, uint16_t rows, uint16_t cols)
{
  buf[0] = PROTO_RESIZE;
  put_u16(buf + 1, rows);
  put_u16(buf + 3, cols);
  return 5;
}

size_t proto_encode_empty(uint8_t *buf, enum proto_frame_type type)
{
  buf[0] = (uint8_t)type;
  return 1;
}
