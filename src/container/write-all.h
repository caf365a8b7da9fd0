/* SPDX-License-Identifier: Apache-2.0 */
/* Writing all of a buffer to an fd that may be non-blocking (a terminal or
 * pipe the user handed us): what the attach client and spawn's tee share. */
#ifndef SIFOCI_WRITE_ALL_H
#define SIFOCI_WRITE_ALL_H

#include <stdbool.h>
#include <stddef.h>

/* Write LEN bytes of BUF to FD, waiting in poll() while it is full.  False
 * (errno set) when FD stopped taking data: its reader is gone. */
bool write_all_wait(int fd, const void *buf, size_t len);

#endif
