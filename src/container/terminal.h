/* SPDX-License-Identifier: Apache-2.0 */
/* The local terminal of an attach: raw mode and window size. */
#ifndef SIFOCI_TERMINAL_H
#define SIFOCI_TERMINAL_H

#include <stdbool.h>
#include <stdint.h>
#include <termios.h>

#include "error.h"

struct term_saved {
  int fd; /* -1 when nothing to restore */
  struct termios tio;
};

/* Put FD in raw mode, remembering how it was. */
int term_make_raw(int fd, struct term_saved *saved, oci_error **err);
/* Put it back; safe to call twice. */
void term_restore(struct term_saved *saved);
/* The first of stdin/stdout that is a terminal, or -1. */
int term_find_tty(void);
/* Window size of FD; false when it has none. */
bool term_get_size(int fd, uint16_t *rows, uint16_t *cols);

#endif
