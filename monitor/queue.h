/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A bounded FIFO of typed records in one contiguous buffer, used for the
 * output queued to a slow attach client (each record is one SEQPACKET frame)
 * and for stdin queued to the container (records consumed byte-wise).
 *
 * Layout of a record: [u32 payload length][u8 type][payload].  The type byte
 * sits right before the payload, so [type][payload] is a ready frame.
 * The buffer is freed whenever the queue runs empty, so an idle queue costs
 * nothing.  Plain C plus glib allocation; unit tested.
 */
#ifndef SIFOCI_MON_QUEUE_H
#define SIFOCI_MON_QUEUE_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#define MON_QUEUE_RECORD_OVERHEAD 5

typedef struct {
  uint8_t *buf;
  size_t head, tail, cap;
  size_t limit;  /* bytes (records + overhead) the queue may hold */
  size_t offset; /* bytes of the front payload already consumed */
  gboolean keep; /* the buffer stays when the queue runs empty (mon_queue_trim frees it) */
} MonQueue;

void mon_queue_init(MonQueue *q, size_t limit);
void mon_queue_clear(MonQueue *q);
/* FALSE (and nothing queued) when the record would pass the limit. */
gboolean mon_queue_push(MonQueue *q, uint8_t type, const void *data, size_t len);
gboolean mon_queue_is_empty(const MonQueue *q);
size_t mon_queue_bytes(const MonQueue *q);
/* The unconsumed part of the front payload; FALSE when empty. */
gboolean mon_queue_peek(const MonQueue *q, uint8_t *ret_type, const uint8_t **ret_data,
                        size_t *ret_len);
/* The front record as a frame [type][payload]; only while nothing of it was
 * consumed. */
gboolean mon_queue_peek_frame(const MonQueue *q, const uint8_t **ret_frame, size_t *ret_len);
/* Consume N bytes of the front payload; the record goes when it is used up. */
void mon_queue_consume(MonQueue *q, size_t n);
void mon_queue_pop(MonQueue *q);
/* A queue that fills and drains all the time (a pipe's writer) keeps its
 * buffer when it runs empty, instead of a new mmap and its page faults
 * each time; mon_queue_trim() gives an empty one back (when idle). */
void mon_queue_set_keep(MonQueue *q, gboolean keep);
void mon_queue_trim(MonQueue *q);

#endif
