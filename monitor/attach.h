/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MonAttach, the attach socket: any number of SOCK_SEQPACKET clients
 * (proto.h).  Output is sent without blocking; what a client cannot take
 * yet waits in its own queue.  Backpressure: when a queue reaches
 * MON_CLIENT_QUEUE_HIGH the part asks its owner to stop reading the
 * container's output (on_backpressure(TRUE)) until every queue is below
 * MON_CLIENT_QUEUE_LOW (on_backpressure(FALSE)), so a client that reads,
 * however slowly, gets every byte.  A client that takes nothing for the
 * stall time (MON_CLIENT_STALL_MS) while output waits for it is dropped:
 * the container waits for readers, never for a client that stopped --
 * except a client that sent HOLD (the one a foreground `oci run` or
 * `oci attach` depends on): that one is waited for as long as it lives,
 * as a pipe is.
 * What clients send comes up through callbacks; the part never touches the
 * container's stdio itself.
 */
#ifndef SIFOCI_MON_ATTACH_H
#define SIFOCI_MON_ATTACH_H

#include <glib.h>
#include <stddef.h>

#include "notes.h"
#include "proto.h"

#define MON_MAX_CLIENTS 64
/* The largest mon_attach_broadcast(): one read of the container's output. */
#define MON_ATTACH_BROADCAST_MAX (1u << 20)
/* A client's queue can pass HIGH by at most one broadcast, so the hard
 * bound never drops a client that reads. */
#define MON_CLIENT_QUEUE_HIGH (2u << 20)
#define MON_CLIENT_QUEUE_LOW (512u << 10)
#define MON_CLIENT_STALL_MS PROTO_STALL_MS
#define MON_CLIENT_QUEUE_MAX (MON_CLIENT_QUEUE_HIGH + MON_ATTACH_BROADCAST_MAX + 4096)

typedef struct {
  /* STDIN from a client.  Return FALSE when no more is welcome for now:
   * clients are then not read until mon_attach_resume_readers(). */
  gboolean (*on_stdin)(const guint8 *data, size_t len, gpointer user_data);
  void (*on_resize)(guint16 rows, guint16 cols, gpointer user_data);
  void (*on_close_stdin)(gpointer user_data);
  /* TRUE: a client is behind, stop reading output; FALSE: go on. */
  void (*on_backpressure)(gboolean pause, gpointer user_data);
  /* The last client went away. */
  void (*on_idle)(gpointer user_data);
  /* The state for a new client's HELLO: asked when it connects, since the
   * runtime's `start` happens without the monitor knowing. */
  enum proto_state (*state)(gpointer user_data);
} MonAttachEvents;

typedef struct MonAttach MonAttach;

MonAttach *mon_attach_new(gboolean terminal, MonNotes *notes, const MonAttachEvents *events,
                          gpointer user_data);
void mon_attach_free(MonAttach *attach);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MonAttach, mon_attach_free)

/* Listens on "attach" under DIRFD (mode 0600; a stale socket is replaced).
 * DIRFD must outlive the part; SHOWN_DIR names it in errors. */
gboolean mon_attach_listen(MonAttach *attach, int dirfd, const char *shown_dir, GError **error);
/* A connected client (what the listener does on accept; tests hand in a
 * socketpair).  Takes FD. */
void mon_attach_add_client(MonAttach *attach, int fd);
/* The same, held from the start (as if it had sent HOLD): the foreground
 * `oci run`'s connection, made before the container exists.  OUT_FDS
 * (taken; -1 or NULL for none): the client's own stdout and stderr,
 * nonblocking, that its output is written to instead of frames (still
 * in order with the frames, EXIT last; backpressure and the queue bound
 * as for frames). */
void mon_attach_add_held_client(MonAttach *attach, int fd, const int out_fds[2]);
/* Output (PROTO_STDOUT / PROTO_STDERR), at most MON_ATTACH_BROADCAST_MAX,
 * to every client. */
void mon_attach_broadcast(MonAttach *attach, enum proto_frame_type type, const guint8 *data,
                          size_t len);
/* Ends every connection after what is queued: with EXIT when KNOWN, without
 * it when not (the client then reads exit.json).  Later clients get HELLO
 * and the same end. */
void mon_attach_send_exit(MonAttach *attach, gboolean known, int status, int signal);
/* Input is welcome again: read the clients paused by on_stdin. */
void mon_attach_resume_readers(MonAttach *attach);
/* Closes every client now (no on_idle). */
void mon_attach_close_all(MonAttach *attach);
/* Closes every client that did not send HOLD (no on_idle); returns how
 * many. */
guint mon_attach_close_unheld(MonAttach *attach);
/* Stops listening and removes the socket. */
void mon_attach_unlink(MonAttach *attach);
guint mon_attach_n_clients(const MonAttach *attach);
/* Gives back the receive buffer (when idle). */
void mon_attach_trim(MonAttach *attach);

/* For tests: a shorter stall time, and the largest client queue. */
void mon_attach_set_stall_ms(MonAttach *attach, guint ms);
size_t mon_attach_max_queued(const MonAttach *attach);

#endif
