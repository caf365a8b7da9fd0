/* SPDX-License-Identifier: Apache-2.0 */
/* Driving the default main context by hand in the monitor's unit tests. */
#ifndef SIFOCI_TEST_SPIN_H
#define SIFOCI_TEST_SPIN_H

#include <glib.h>

/* Dispatches whatever is ready until COND (re-evaluated) holds, for at
 * most MS milliseconds. */
#define SPIN_UNTIL(cond, ms)                                                                       \
  do {                                                                                             \
    gint64 spin_end_ = g_get_monotonic_time() + (ms)*1000;                                         \
    while (!(cond) && g_get_monotonic_time() < spin_end_)                                          \
      if (!g_main_context_iteration(NULL, FALSE))                                                  \
        g_usleep(1000);                                                                            \
  } while (0)

/* Runs the loop for MS milliseconds. */
static inline void spin(int ms)
{
  SPIN_UNTIL(FALSE, ms);
}

#endif
