/* SPDX-License-Identifier: Apache-2.0 */
/* Bounded record queue used for attach clients and container stdin. */
#include <stdlib.h>
#include <string.h>

#include "queue.h"
#include "tap.h"

static void test_basic(void)
{
  MonQueue q;
  const uint8_t *p;
  size_t len;
  uint8_t type;
  mon_queue_init(&q, 100);
  TAP_OK(mon_queue_is_empty(&q), "new queue is empty");
  TAP_OK(!mon_queue_peek(&q, &type, &p, &len), "peek on empty queue");
  TAP_OK(mon_queue_push(&q, 2, "hello", 5), "push");
  TAP_OK(mon_queue_push(&q, 3, "", 0), "push empty payload");
  TAP_IS_INT(mon_queue_bytes(&q), 5 + 5 + 5, "bytes count payload plus overhead");
  TAP_OK(mon_queue_peek_frame(&q, &p, &len) && len == 6 && p[0] == 2 &&
             memcmp(p + 1, "hello", 5) == 0,
         "front frame is [type][payload]");
  mon_queue_consume(&q, 2);
  TAP_OK(mon_queue_peek(&q, &type, &p, &len) && type == 2 && len == 3 && memcmp(p, "llo", 3) == 0,
         "partial consume leaves the rest");
  TAP_OK(!mon_queue_peek_frame(&q, &p, &len), "no frame view once partly consumed");
  mon_queue_consume(&q, 3);
  TAP_OK(mon_queue_peek_frame(&q, &p, &len) && len == 1 && p[0] == 3, "next record");
  mon_queue_pop(&q);
  TAP_OK(mon_queue_is_empty(&q) && q.buf == NULL, "empty queue holds no buffer");
  mon_queue_clear(&q);
}

static void test_bound(void)
{
  MonQueue q;
  char data[40] = {0};
  mon_queue_init(&q, 100);
  TAP_OK(mon_queue_push(&q, 1, data, 40), "45 bytes fit");
  TAP_OK(mon_queue_push(&q, 1, data, 40), "90 bytes fit");
  TAP_OK(!mon_queue_push(&q, 1, data, 6), "96+5 > 100 refused");
  TAP_IS_INT(mon_queue_bytes(&q), 90, "refused push changed nothing");
  TAP_OK(mon_queue_push(&q, 1, data, 5), "exactly 100 fits");
  mon_queue_clear(&q);
}

/* Random push/pop against a model, through many compactions and growths. */
static void test_model(void)
{
  MonQueue q;
  GQueue model = G_QUEUE_INIT;
  gboolean ok = TRUE;
  size_t max_cap = 0;
  mon_queue_init(&q, 1u << 20);
  srand(42);
  uint8_t buf[40000];
  for (int i = 0; i < 20000 && ok; i++) {
    if (rand() % 3 != 0) {
      size_t len = (size_t)(rand() % 33000);
      for (size_t k = 0; k < len; k++)
        buf[k] = (uint8_t)(i + k);
      if (mon_queue_push(&q, (uint8_t)(i & 0xff), buf, len))
        g_queue_push_tail(&model, g_bytes_new(buf, len));
    } else if (!g_queue_is_empty(&model)) {
      GBytes *b = g_queue_pop_head(&model);
      const uint8_t *p;
      size_t len;
      ok = mon_queue_peek(&q, NULL, &p, &len) && len == g_bytes_get_size(b) &&
           (len == 0 || memcmp(p, g_bytes_get_data(b, NULL), len) == 0);
      mon_queue_pop(&q);
      g_bytes_unref(b);
    }
    max_cap = MAX(max_cap, q.cap);
  }
  TAP_OK(ok, "queue matches the model through 20000 operations");
  TAP_OK(max_cap <= 4u << 20, "buffer stays within 4x the bound (max %zu)", max_cap);
  g_queue_clear_full(&model, (GDestroyNotify)g_bytes_unref);
  mon_queue_clear(&q);
}

int main(void)
{
  test_basic();
  test_bound();
  test_model();
  return tap_done();
}
