/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The signals a foreground `oci` (run, exec, attach) passes on to the
 * container, written once.  The first four end a command that has nobody
 * to pass them to (a ^C while a create is under way aborts it).
 */
#ifndef SIFOCI_SIGNALS_H
#define SIFOCI_SIGNALS_H

#include <signal.h>
#include <stddef.h>

#define SIGNALS_FORWARDED_COUNT 6
extern const int signals_forwarded[SIGNALS_FORWARDED_COUNT];

/* SIGINT, SIGTERM, SIGHUP, SIGQUIT */
void signals_add_stop(sigset_t *set);
/* the stop signals, SIGUSR1 and SIGUSR2 */
void signals_add_forwarded(sigset_t *set);

/* Every disposition back to the default and an empty mask: for a child
 * about to exec, whatever its parent had. */
void signals_reset_for_exec(void);

#endif
