/* SPDX-License-Identifier: Apache-2.0 */
/* Log records as `oci logs` reads them back. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static void test_json_exact(void)
{
  char scratch[256];
  struct log_record r;
  const char *j = "{\"time\":\"t\",\"stream\":\"stdout\",\"log\":\"a\xef\xbf\xbd\\n\","
                  "\"logBase64\":\"Yf8K\"}";
  TAP_OK(log_parse_line(LOG_JSON, j, strlen(j), scratch, &r) == 0 && r.len == 3 &&
             memcmp(r.text, "a\xff\n", 3) == 0 && r.ends_line,
         "json record with logBase64: the exact bytes");
  const char *nul = "{\"time\":\"t\",\"stream\":\"stdout\",\"log\":\"\\u0000\\u001b\"}";
  TAP_OK(log_parse_line(LOG_JSON, nul, strlen(nul), scratch, &r) == 0 && r.len == 2 &&
             memcmp(r.text, "\0\x1b", 2) == 0,
         "json NUL and ESC escapes");
  const char *bad = "{\"time\":\"t\",\"stream\":\"stdout\",\"log\":\"\",\"logBase64\":\"Y!==\"}";
  TAP_OK(log_parse_line(LOG_JSON, bad, strlen(bad), scratch, &r) < 0, "broken base64: skipped");
}

/* log_print() to a file: fd 1 and 2 redirected for the call */
static char *print_log(const char *path, enum log_format fmt, long tail)
{
  char out[] = "/tmp/test-log-reader-out.XXXXXX";
  int fd = mkostemp(out, O_CLOEXEC);
  fflush(stdout);
  int save1 = dup(1), save2 = dup(2);
  dup2(fd, 1);
  dup2(fd, 2);
  oci_error *e = NULL;
  int r = log_print(path, fmt, tail, NULL, &e);
  dup2(save1, 1);
  dup2(save2, 2);
  close(save1);
  close(save2);
  char *text = calloc(1, 4096);
  ssize_t n = pread(fd, text, 4095, 0);
  close(fd);
  unlink(out);
  if (r < 0 || n < 0) {
    oci_error_free(&e);
    strcpy(text, "(error)");
  }
  return text;
}

static void write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "we");
  fputs(text, f);
  fclose(f);
}

/* echo one; printf four; echo three >&2: the last line is "four", whose
 * piece came before the stderr line */
static void test_tail_pieces(void)
{
  char path[] = "/tmp/test-log-reader.XXXXXX";
  int fd = mkostemp(path, O_CLOEXEC);
  close(fd);
  write_file(path, "T stdout F one\nT stdout P four\nT stderr F three\nT stdout F \n");
  char *got = print_log(path, LOG_KUBERNETES, 1);
  TAP_IS_STR(got, "four\n", "--tail 1: the last line with its piece from before the stderr line");
  free(got);
  got = print_log(path, LOG_KUBERNETES, 2);
  TAP_IS_STR(got,
             "four"
             "three\n"
             "\n",
             "--tail 2: both lines, in the order they were written");
  free(got);
  got = print_log(path, LOG_KUBERNETES, 0);
  TAP_IS_STR(got, "", "--tail 0: nothing");
  free(got);
  got = print_log(path, LOG_KUBERNETES, 10);
  TAP_IS_STR(got,
             "one\nfour"
             "three\n"
             "\n",
             "--tail 10: all");
  free(got);
  /* json: no final record; a line that has not ended is the last one */
  write_file(path, "{\"stream\":\"stdout\",\"log\":\"one\\n\"}\n"
                   "{\"stream\":\"stdout\",\"log\":\"fo\"}\n"
                   "{\"stream\":\"stderr\",\"log\":\"three\\n\"}\n"
                   "{\"stream\":\"stdout\",\"log\":\"ur\"}\n");
  got = print_log(path, LOG_JSON, 1);
  TAP_IS_STR(got, "four", "json --tail 1: the unfinished line, both its pieces");
  free(got);
  got = print_log(path, LOG_JSON, 2);
  TAP_IS_STR(got, "fothree\nur", "json --tail 2: in the order written");
  free(got);
  unlink(path);
}

int main(void)
{
  test_log_lines();
  test_json_exact();
  test_tail_pieces();
  return tap_done();
}
