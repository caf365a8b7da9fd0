/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running a helper (the runtime) and waiting for it: stdio wiring, output
 * capture, signal forwarding.  The child starts with default signal
 * dispositions and an empty signal mask, whatever the caller had.
 */
#ifndef SIFOCI_SPAWN_H
#define SIFOCI_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

enum spawn_io {
  SPAWN_NULL,    /* /dev/null */
  SPAWN_INHERIT, /* our own fd */
  SPAWN_CAPTURE, /* into the result buffer */
  SPAWN_TEE,     /* to our own fd, and its tail into the result buffer */
  /* SPAWN_TEE, except that a final complete line is held back while the
   * child lives (for at most SPAWN_HOLD_MS) and, if still held when it
   * exits, handed to the caller in `held` instead of written: the runtime's
   * own failure line, which the caller may say better. */
  SPAWN_TEE_HOLD_LAST,
};

#define SPAWN_HOLD_MS 200

struct spawn_opts {
  enum spawn_io in, out, err; /* `in`: SPAWN_NULL or SPAWN_INHERIT */
  /* Pass SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 that another
   * process sends us on to the child (a terminal's ^C reaches the child
   * through its process group already). */
  bool forward_signals;
};

struct spawn_result {
  int status;      /* exit code, or 128+N when killed by signal N */
  char *out, *err; /* captured (NUL-terminated), or NULL */
  size_t out_len, err_len;
  char *held; /* SPAWN_TEE_HOLD_LAST: the line not yet written, or NULL */
  size_t held_len;
};

/* Run ARGV (argv[0] an absolute path) to its end.  Fails only when it
 * could not be run; a non-zero exit is ret->status. */
int spawn_run(char *const argv[], const struct spawn_opts *o, struct spawn_result *ret,
              oci_error **err);
void spawn_result_clear(struct spawn_result *r);
/* Write the held line to FD after all (the caller does not replace it). */
void spawn_result_release_held(struct spawn_result *r, int fd);

/* Reset signal dispositions and mask; for a child about to exec. */
void spawn_child_reset_signals(void);

#endif
