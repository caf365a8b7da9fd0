/* SPDX-License-Identifier: Apache-2.0 */
#include "timefmt.h"

#include <string.h>

static void put_digits(char *p, unsigned long v, int n)
{
  while (n-- > 0) {
    p[n] = (char)('0' + v % 10);
    v /= 10;
  }
}

void timefmt_rfc3339(const struct timespec *ts, char buf[static TIMEFMT_RFC3339_SIZE])
{
  struct tm tm;
  time_t sec = ts->tv_sec;
  gmtime_r(&sec, &tm);
  memcpy(buf, "0000-00-00T00:00:00.000000000Z", 31);
  put_digits(buf, (unsigned long)(tm.tm_year + 1900), 4);
  put_digits(buf + 5, (unsigned long)tm.tm_mon + 1, 2);
  put_digits(buf + 8, (unsigned long)tm.tm_mday, 2);
  put_digits(buf + 11, (unsigned long)tm.tm_hour, 2);
  put_digits(buf + 14, (unsigned long)tm.tm_min, 2);
  put_digits(buf + 17, (unsigned long)tm.tm_sec, 2);
  put_digits(buf + 20, (unsigned long)ts->tv_nsec, 9);
}

void timefmt_now(char buf[static TIMEFMT_RFC3339_SIZE])
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  timefmt_rfc3339(&ts, buf);
}
