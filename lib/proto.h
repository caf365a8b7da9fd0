/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Wire protocol between `oci` and `oci-monitor`.  Plain C (no glib), shared
 * by both programs and fuzzed (tests/fuzz).
 *
 * Attach socket: AF_UNIX SOCK_SEQPACKET at STATE_DIR/attach (mode 0600),
 * or a socket pair the foreground `oci run` hands the monitor at start
 * (--attach-fd, held from the start; with --attach-stdout-fd /
 * --attach-stderr-fd that stream is written to the client's own fd and
 * comes in no STDOUT / STDERR frames: monitor/README.md).
 * Every record is one frame: [1 byte type][payload].  A record is at most
 * PROTO_MAX_FRAME bytes.
 *
 *   monitor -> client
 *     HELLO   payload: u8 terminal (0/1), u8 state (PROTO_STATE_*)
 *             sent first on every connection
 *     STDOUT  payload: output bytes (1..PROTO_MAX_PAYLOAD)
 *     STDERR  payload: output bytes
 *     EXIT    payload: i32 LE exit status (0..255, 128+N for a signal),
 *                      i32 LE signal number (0 when it exited normally)
 *             sent once when the container has ended and every byte of its
 *             output has been sent; the monitor then closes the connection
 *
 *   client -> monitor
 *     STDIN        payload: bytes for the container's stdin (or PTY)
 *     RESIZE       payload: u16 LE rows, u16 LE cols
 *     CLOSE_STDIN  no payload: close the container's stdin (EOF)
 *     DETACH       no payload: the client is going away on purpose
 *     HOLD         no payload: wait for me.  The container's output waits
 *                  for this client as for a pipe, however long it takes
 *                  nothing (it is never dropped for not reading); sent by
 *                  the client a foreground `oci run` / `oci attach` is
 *
 * Report (monitor -> `oci create`, on the inherited fd named by
 * --report-fd): one line of JSON, {"pid": N} or {"error": "text"}.
 *
 * Exit record (STATE_DIR/exit.json, written atomically by the monitor):
 *   {"exitCode": N, "signal": S, "finishedAt": "RFC3339Nano"}
 * with "signal" 0 for a normal exit.  When the status cannot be known (the
 * container's init was not the monitor's child, so no waitpid() could tell):
 *   {"exitCode": null, "signal": null, "finishedAt": "RFC3339Nano", "error": "why"}
 * and attach clients get no EXIT frame, only the end of the connection
 * (monitor/README.md).
 */
#ifndef SIFOCI_PROTO_H
#define SIFOCI_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROTO_MAX_PAYLOAD 32768
#define PROTO_MAX_FRAME (PROTO_MAX_PAYLOAD + 1)
/* A client that did not send HOLD and takes nothing for this long while
 * output waits for it is dropped (the CLI names the time when it is). */
#define PROTO_STALL_MS 2000

enum proto_frame_type {
  PROTO_HELLO = 1,
  PROTO_STDOUT = 2,
  PROTO_STDERR = 3,
  PROTO_EXIT = 4,
  PROTO_STDIN = 5,
  PROTO_RESIZE = 6,
  PROTO_CLOSE_STDIN = 7,
  PROTO_DETACH = 8,
  PROTO_HOLD = 9,
  PROTO_FRAME_TYPE_MAX,
};

enum proto_state {
  PROTO_STATE_CREATED = 1,
  PROTO_STATE_RUNNING = 2,
  PROTO_STATE_STOPPED = 3,
  PROTO_STATE_MAX,
};

struct proto_frame {
  enum proto_frame_type type;
  const uint8_t *data; /* points into the parsed buffer */
  size_t len;
  /* Decoded fields, valid for the matching type. */
  uint8_t terminal, state;     /* HELLO */
  int32_t exit_status, signal; /* EXIT */
  uint16_t rows, cols;         /* RESIZE */
};

/* Parse one received record.  Returns 0, or -EINVAL for a malformed frame
 * (unknown type, wrong payload length). */
int proto_parse(const uint8_t *buf, size_t len, struct proto_frame *ret);

/* Encoders write into BUF (at least PROTO_MAX_FRAME bytes for data frames,
 * 16 for the others) and return the record length. */
size_t proto_encode_data(uint8_t *buf, enum proto_frame_type type, const void *data, size_t len);
size_t proto_encode_hello(uint8_t *buf, int terminal, enum proto_state state);
size_t proto_encode_exit(uint8_t *buf, int32_t exit_status, int32_t signal);
size_t proto_encode_resize(uint8_t *buf, uint16_t rows, uint16_t cols);
size_t proto_encode_empty(uint8_t *buf, enum proto_frame_type type);

#endif
