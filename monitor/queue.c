/* SPDX-License-Identifier: Apache-2.0 */
#include "queue.h"

#include <string.h>

#define MIN_CAP (64u * 1024)

void mon_queue_init(MonQueue *q, size_t limit)
{
  memset(q, 0, sizeof(*q));
  q->limit = limit;
}

void mon_queue_clear(MonQueue *q)
{
  g_free(q->buf);
  q->buf = NULL;
  q->head = q->tail = q->cap = q->offset = 0;
}

gboolean mon_queue_is_empty(const MonQueue *q)
{
  return q->head == q->tail;
}

size_t mon_queue_bytes(const MonQueue *q)
{
  return q->tail - q->head;
}

static size_t front_len(const MonQueue *q)
{
  uint32_t len;
  memcpy(&len, q->buf + q->head, sizeof(len));
  return len;
}

gboolean mon_queue_push(MonQueue *q, uint8_t type, const void *data, size_t len)
{
  size_t need = MON_QUEUE_RECORD_OVERHEAD + len;
  if (len > UINT32_MAX || mon_queue_bytes(q) + need > q->limit)
    return FALSE;
  if (q->cap - q->tail < need) {
    size_t used = q->tail - q->head;
    if (used + need <= q->cap / 2) {
      /* At least half the buffer was consumed since the last move, so each
       * byte is moved a bounded number of times. */
      memmove(q->buf, q->buf + q->head, used);
    } else {
      size_t cap = MIN_CAP;
      while (cap < 2 * (used + need))
        cap *= 2;
      uint8_t *buf = g_malloc(cap);
      if (used > 0)
        memcpy(buf, q->buf + q->head, used);
      g_free(q->buf);
      q->buf = buf;
      q->cap = cap;
    }
    q->head = 0;
    q->tail = used;
  }
  uint32_t len32 = (uint32_t)len;
  memcpy(q->buf + q->tail, &len32, sizeof(len32));
  q->buf[q->tail + 4] = type;
  if (len > 0)
    memcpy(q->buf + q->tail + MON_QUEUE_RECORD_OVERHEAD, data, len);
  q->tail += need;
  return TRUE;
}

gboolean mon_queue_peek(const MonQueue *q, uint8_t *ret_type, const uint8_t **ret_data,
                        size_t *ret_len)
{
  if (mon_queue_is_empty(q))
    return FALSE;
  if (ret_type)
    *ret_type = q->buf[q->head + 4];
  *ret_data = q->buf + q->head + MON_QUEUE_RECORD_OVERHEAD + q->offset;
  *ret_len = front_len(q) - q->offset;
  return TRUE;
}

gboolean mon_queue_peek_frame(const MonQueue *q, const uint8_t **ret_frame, size_t *ret_len)
{
  if (mon_queue_is_empty(q) || q->offset != 0)
    return FALSE;
  *ret_frame = q->buf + q->head + 4;
  *ret_len = front_len(q) + 1;
  return TRUE;
}

void mon_queue_pop(MonQueue *q)
{
  if (mon_queue_is_empty(q))
    return;
  q->head += MON_QUEUE_RECORD_OVERHEAD + front_len(q);
  q->offset = 0;
  if (q->head == q->tail && q->keep)
    q->head = q->tail = 0;
  else if (q->head == q->tail)
    mon_queue_clear(q); /* idle queues hold no memory */
}

void mon_queue_set_keep(MonQueue *q, gboolean keep)
{
  q->keep = keep;
  if (!keep)
    mon_queue_trim(q);
}

void mon_queue_trim(MonQueue *q)
{
  if (mon_queue_is_empty(q))
    mon_queue_clear(q);
}

void mon_queue_consume(MonQueue *q, size_t n)
{
  if (mon_queue_is_empty(q))
    return;
  size_t left = front_len(q) - q->offset;
  if (n >= left)
    mon_queue_pop(q);
  else
    q->offset += n;
}
