/* SPDX-License-Identifier: Apache-2.0 */
/* Log records as `oci logs` reads them back. */
#include <stdlib.h>
#include <string.h>

#include "log-reader.h"
#include "tap.h"

static void test_log_lines(void)
{
  char scratch[256];
  struct log_record r;
  const char *f = "2024-01-01T00:00:00.000000001Z stdout F hello world";
  TAP_OK(log_parse_line(LOG_KUBERNETES, f, strlen(f), scratch, &r) == 0 && r.stream == 1 &&
             r.len == 11 && memcmp(r.text, "hello world", 11) == 0 && r.newline && r.ends_line,
         "kubernetes F record");
  const char *p = "2024-01-01T00:00:00Z stderr P part";
  TAP_OK(log_parse_line(LOG_KUBERNETES, p, strlen(p), scratch, &r) == 0 && r.stream == 2 &&
             r.len == 4 && !r.newline && !r.ends_line,
         "kubernetes P record");
  const char *empty = "2024-01-01T00:00:00Z stdout F ";
  TAP_OK(log_parse_line(LOG_KUBERNETES, empty, strlen(empty), scratch, &r) == 0 && r.len == 0 &&
             r.newline,
         "empty F record");
  const char *bare = "2024-01-01T00:00:00Z stdout F";
  TAP_OK(log_parse_line(LOG_KUBERNETES, bare, strlen(bare), scratch, &r) == 0 && r.len == 0,
         "F record without the text separator");
  const char *junk = "garbage";
  TAP_OK(log_parse_line(LOG_KUBERNETES, junk, strlen(junk), scratch, &r) < 0, "junk skipped");
  const char *j = "{\"time\":\"t\",\"stream\":\"stderr\",\"log\":\"oops\\n\"}";
  TAP_OK(log_parse_line(LOG_JSON, j, strlen(j), scratch, &r) == 0 && r.stream == 2 && r.len == 5 &&
             memcmp(r.text, "oops\n", 5) == 0 && !r.newline && r.ends_line,
         "json record");
}

int main(void)
{
  test_log_lines();
  return tap_done();
}
