/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client side of a container's attach socket (frames: monitor/proto.h):
 * output to our stdout/stderr, our stdin to the container, raw mode and
 * resizes for terminal containers, detach keys, the container's exit.
 */
#ifndef SIFOCI_ATTACH_CLIENT_H
#define SIFOCI_ATTACH_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define ATTACH_MAX_DETACH_KEYS 16

struct attach_opts {
  uint8_t detach_keys[ATTACH_MAX_DETACH_KEYS];
  size_t n_detach_keys; /* 0: no detach sequence */
  bool no_stdin;
  /* Ask the monitor to wait for us as for a pipe (HOLD): the container's
   * output waits however long we take nothing (`oci run`, and `oci attach`
   * unless --drop-if-slow).  Without it a client that takes nothing for
   * 2 s is dropped. */
  bool hold;
  /* `oci run`: called once connected (so no output is lost), before the
   * session runs: starts the container. */
  int (*connected)(void *data, oci_error **err);
  void *data;
  /* >= 0: a pidfd of the container; SIGINT, SIGTERM, SIGHUP, SIGQUIT,
   * SIGUSR1, SIGUSR2 we receive go there (`oci run`).  -1: those signals
   * end the attach (`oci attach`). */
  int forward_pidfd;
  /* `oci run`: a socket already connected to the monitor (made before
   * the container, so nothing it printed is missed), used instead of
   * connecting to DIRFD/attach; the session takes it. */
  bool use_sock;
  int sock;
};

enum attach_end {
  ATTACH_EXITED,    /* the container ended: status */
  ATTACH_DETACHED,  /* detach keys */
  ATTACH_SIGNALLED, /* we got a signal: signal */
  ATTACH_LOST,      /* the monitor closed the connection without EXIT */
};

struct attach_result {
  enum attach_end how;
  int status; /* ATTACH_EXITED: 0..255, 128+N for a signal */
  int signal; /* ATTACH_EXITED: the container's signal; ATTACH_SIGNALLED: ours */
  bool terminal;
};

/* "ctrl-p,ctrl-q" (docker's syntax: ctrl-X for X in a-z @ [ \ ] ^ _, or
 * single characters); "" disables detaching. */
int attach_parse_detach_keys(const char *spec, struct attach_opts *o, oci_error **err);

/* Connect to DIRFD/attach (or take O->sock) and run the session to its
 * end. */
int attach_session(int dirfd, const char *id, const struct attach_opts *o,
                   struct attach_result *ret, oci_error **err);

#endif
