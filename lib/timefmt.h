/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 3339 with nanoseconds, UTC: 2024-01-02T03:04:05.123456789Z, the time
 * format of CRI log records, exit.json and state.json.  Formatted by hand:
 * the log writer stamps every record, and strftime costs a locale lookup.
 */
#ifndef SIFOCI_TIMEFMT_H
#define SIFOCI_TIMEFMT_H

#include <time.h>

/* 30 characters and the NUL */
#define TIMEFMT_RFC3339_SIZE 32

void timefmt_rfc3339(const struct timespec *ts, char buf[static TIMEFMT_RFC3339_SIZE]);
/* CLOCK_REALTIME now */
void timefmt_now(char buf[static TIMEFMT_RFC3339_SIZE]);

#endif
