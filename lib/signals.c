/* SPDX-License-Identifier: Apache-2.0 */
#include "signals.h"

const int signals_forwarded[SIGNALS_FORWARDED_COUNT] = {SIGINT,  SIGTERM, SIGHUP,
                                                        SIGQUIT, SIGUSR1, SIGUSR2};

#define SIGNALS_STOP_COUNT 4

void signals_add_stop(sigset_t *set)
{
  for (size_t i = 0; i < SIGNALS_STOP_COUNT; i++)
    sigaddset(set, signals_forwarded[i]);
}

void signals_add_forwarded(sigset_t *set)
{
  for (size_t i = 0; i < SIGNALS_FORWARDED_COUNT; i++)
    sigaddset(set, signals_forwarded[i]);
}

void signals_reset_for_exec(void)
{
  struct sigaction sa = {.sa_handler = SIG_DFL};
  sigemptyset(&sa.sa_mask);
  for (int i = 1; i < NSIG; i++)
    if (i != SIGKILL && i != SIGSTOP)
      sigaction(i, &sa, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}
