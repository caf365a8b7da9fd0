/* SPDX-License-Identifier: Apache-2.0 */
/* Log records: kubernetes P/F and the final F, JSON escaping and UTF-8,
 * rotation, write errors. */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log-writer.h"
#include "tap.h"
#include "timefmt.h"

#define TS "2026-11-23T13:45:01.000000007Z"
static const struct timespec ts = {.tv_sec = 1795441501, .tv_nsec = 7};
static char *tmpdir;
static int n_errors;
static char *last_error;

static void on_error(const char *msg, gpointer data)
{
  n_errors++;
  g_free(last_error);
  last_error = g_strdup(msg);
}

static MonLog *open_log(const char *name, MonLogFormat fmt, uint64_t max, char **ret_path)
{
  char *path = g_build_filename(tmpdir, name, NULL);
  MonLog *log = mon_log_new(path, fmt, max, on_error, NULL);
  gboolean created = FALSE;
  g_autoptr(GError) error = NULL;
  if (!mon_log_open(log, &created, &error))
    printf("# open %s: %s\n", path, error->message);
  *ret_path = path;
  return log;
}

static char *slurp(const char *path)
{
  char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, NULL))
    return g_strdup("(missing)");
  return text;
}

static void w(MonLog *log, MonStream s, const char *text)
{
  mon_log_write(log, s, &ts, text, strlen(text));
}

static void test_time(void)
{
  char buf[32];
  struct timespec t = {.tv_sec = 1, .tv_nsec = 5};
  timefmt_rfc3339(&t, buf);
  TAP_IS_STR(buf, "1970-01-01T00:00:01.000000005Z", "RFC3339Nano, 9 digits, UTC");
  timefmt_rfc3339(&ts, buf);
  TAP_IS_STR(buf, TS, "fixed test time");
}

static void test_k8s(void)
{
  g_autofree char *path = NULL;
  MonLog *log = open_log("k8s.log", MON_LOG_KUBERNETES, 0, &path);
  w(log, MON_STREAM_STDOUT, "hello\nwor");
  w(log, MON_STREAM_STDERR, "err1\n");
  w(log, MON_STREAM_STDOUT, "ld\n\n");
  w(log, MON_STREAM_STDOUT, "tail");
  w(log, MON_STREAM_STDERR, "e-partial");
  mon_log_finish(log, &ts);
  g_autofree char *got = slurp(path);
  TAP_IS_STR(got,
             TS " stdout F hello\n" TS " stdout P wor\n" TS " stderr F err1\n" TS
                " stdout F ld\n" TS " stdout F \n" TS " stdout P tail\n" TS
                " stderr P e-partial\n" TS " stdout F \n" TS " stderr F \n",
             "kubernetes records, P/F per stream, final F for each open line");
  mon_log_free(log);

  /* finish without a partial line adds nothing */
  g_autofree char *path2 = NULL;
  log = open_log("k8s2.log", MON_LOG_KUBERNETES, 0, &path2);
  w(log, MON_STREAM_STDOUT, "a\n");
  mon_log_finish(log, &ts);
  g_autofree char *got2 = slurp(path2);
  TAP_IS_STR(got2, TS " stdout F a\n", "no final record after a complete line");
  mon_log_free(log);
}

static void test_k8s_big(void)
{
  g_autofree char *path = NULL;
  MonLog *log = open_log("big.log", MON_LOG_KUBERNETES, 0, &path);
  /* one big chunk: many short lines plus a long one (written in place) */
  GString *in = g_string_new(NULL), *want = g_string_new(NULL);
  for (int i = 0; i < 3000; i++) {
    g_string_append_printf(in, "line %d\n", i);
    g_string_append_printf(want, TS " stdout F line %d\n", i);
  }
  char *longl = g_strnfill(100000, 'x');
  g_string_append_printf(in, "%s\n%s", longl, longl);
  g_string_append_printf(want, TS " stdout F %s\n" TS " stdout P %s\n" TS " stdout F \n", longl,
                         longl);
  mon_log_write(log, MON_STREAM_STDOUT, &ts, in->str, in->len);
  mon_log_finish(log, &ts);
  g_autofree char *got = slurp(path);
  TAP_OK(strcmp(got, want->str) == 0, "3000 lines and a 100000-byte line in one chunk");
  g_free(longl);
  g_string_free(in, TRUE);
  g_string_free(want, TRUE);
  mon_log_free(log);
}

static void test_json(void)
{
  g_autofree char *path = NULL;
  MonLog *log = open_log("j.log", MON_LOG_JSON, 0, &path);
  w(log, MON_STREAM_STDOUT, "a\"b\\c\td\x01\n");
  w(log, MON_STREAM_STDERR, "part");
  w(log, MON_STREAM_STDERR, "ial\n");
  w(log, MON_STREAM_STDOUT, "caf\xc3");       /* é cut in two */
  w(log, MON_STREAM_STDOUT, "\xa9 ok\xff\n"); /* ...completed; 0xff is invalid */
  w(log, MON_STREAM_STDOUT, "x\xe2\x82");     /* € cut, never completed */
  mon_log_finish(log, &ts);
  g_autofree char *got = slurp(path);
  TAP_IS_STR(got,
             "{\"time\":\"" TS "\",\"stream\":\"stdout\",\"log\":\"a\\\"b\\\\c\\td\\u0001\\n\"}\n"
             "{\"time\":\"" TS "\",\"stream\":\"stderr\",\"log\":\"part\"}\n"
             "{\"time\":\"" TS "\",\"stream\":\"stderr\",\"log\":\"ial\\n\"}\n"
             "{\"time\":\"" TS "\",\"stream\":\"stdout\",\"log\":\"caf\"}\n"
             "{\"time\":\"" TS "\",\"stream\":\"stdout\",\"log\":\"\xc3\xa9 ok\xef\xbf\xbd\\n\","
             "\"logBase64\":\"w6kgb2v/Cg==\"}\n"
             "{\"time\":\"" TS "\",\"stream\":\"stdout\",\"log\":\"x\"}\n"
             "{\"time\":\"" TS "\",\"stream\":\"stdout\",\"log\":\"\xef\xbf\xbd\xef\xbf\xbd\","
             "\"logBase64\":\"4oI=\"}\n",
             "json records: escapes, partial lines, UTF-8 kept whole across reads, invalid bytes "
             "also in base64");
  mon_log_free(log);

  /* a cut character that turns out invalid: the carried byte is in the
   * next record's base64; a NUL is an escape */
  g_autofree char *path2 = NULL;
  log = open_log("j2.log", MON_LOG_JSON, 0, &path2);
  w(log, MON_STREAM_STDOUT, "a\xc3");
  mon_log_write(log, MON_STREAM_STDOUT, &ts, "(\0b\n", 4);
  mon_log_finish(log, &ts);
  g_autofree char *got2 = slurp(path2);
  TAP_IS_STR(got2,
             "{\"time\":\"" TS "\",\"stream\":\"stdout\",\"log\":\"a\"}\n"
             "{\"time\":\"" TS "\",\"stream\":\"stdout\",\"log\":\"\xef\xbf\xbd(\\u0000b\\n\","
             "\"logBase64\":\"wygAYgo=\"}\n",
             "json: a carried byte that does not complete a character is kept in base64");
  mon_log_free(log);
}

static gboolean all_records_fit(const char *text, uint64_t max)
{
  return strlen(text) <= max;
}

static void test_rotation(void)
{
  g_autofree char *path = NULL;
  const uint64_t max = 200;
  MonLog *log = open_log("rot.log", MON_LOG_KUBERNETES, max, &path);
  g_autofree char *path1 = g_strconcat(path, ".1", NULL);
  /* 45-byte records: 4 fit in 200 bytes */
  for (int i = 0; i < 10; i++) {
    g_autofree char *line = g_strdup_printf("l%d\n", i);
    w(log, MON_STREAM_STDOUT, line);
  }
  mon_log_finish(log, &ts);
  g_autofree char *cur = slurp(path);
  g_autofree char *old = slurp(path1);
  TAP_IS_STR(old, TS " stdout F l4\n" TS " stdout F l5\n" TS " stdout F l6\n" TS " stdout F l7\n",
             "rotated file keeps the previous records");
  TAP_IS_STR(cur, TS " stdout F l8\n" TS " stdout F l9\n", "new file has the latest");

  /* a line longer than the whole file is split into pieces that fit */
  char *longl = g_strnfill(500, 'y');
  g_autofree char *in = g_strconcat(longl, "\n", NULL);
  w(log, MON_STREAM_STDOUT, in);
  g_free(cur);
  g_free(old);
  cur = slurp(path);
  old = slurp(path1);
  TAP_OK(all_records_fit(cur, max) && all_records_fit(old, max), "files stay within %d bytes",
         (int)max);
  TAP_OK(g_str_has_suffix(cur, "yyy\n") && strstr(cur, " stdout F y") != NULL,
         "the last piece of a split line is an F record");
  TAP_OK(strstr(old, " stdout P y") != NULL, "earlier pieces are P records");
  g_free(longl);
  mon_log_free(log);
}

static void test_rotation_json(void)
{
  g_autofree char *path = NULL;
  const uint64_t max = 300;
  MonLog *log = open_log("rotj.log", MON_LOG_JSON, max, &path);
  g_autofree char *path1 = g_strconcat(path, ".1", NULL);
  char *longl = g_strnfill(1000, '"'); /* escapes double it */
  g_autofree char *in = g_strconcat(longl, "\n", NULL);
  w(log, MON_STREAM_STDOUT, in);
  mon_log_finish(log, &ts);
  g_autofree char *cur = slurp(path);
  g_autofree char *old = slurp(path1);
  TAP_OK(all_records_fit(cur, max) && all_records_fit(old, max),
         "json: files stay within %d bytes (%zu, %zu)", (int)max, strlen(cur), strlen(old));
  TAP_OK(g_str_has_suffix(cur, "\\n\"}\n"), "json: last piece ends the line");
  g_free(longl);
  mon_log_free(log);
}

static void test_errors(void)
{
  /* a file size limit makes every write fail (EFBIG), like a full disk */
  g_autofree char *path = NULL;
  MonLog *log = open_log("limited.log", MON_LOG_KUBERNETES, 0, &path);
  w(log, MON_STREAM_STDOUT, "before\n");
  struct rlimit old, lim;
  getrlimit(RLIMIT_FSIZE, &old);
  lim = old;
  lim.rlim_cur = 40;
  signal(SIGXFSZ, SIG_IGN);
  setrlimit(RLIMIT_FSIZE, &lim);
  n_errors = 0;
  for (int i = 0; i < 100; i++)
    w(log, MON_STREAM_STDOUT, "a line\n");
  mon_log_finish(log, &ts);
  setrlimit(RLIMIT_FSIZE, &old);
  TAP_IS_INT(n_errors, 1, "a write error reported once for 100 failed writes");
  TAP_OK(last_error && strstr(last_error, "File too large"), "message says why: %s", last_error);
  TAP_IS_INT(mon_log_dropped_bytes(log), 100 * (30 + 10 + 7), "dropped bytes counted");
  g_autofree char *got = slurp(path);
  TAP_IS_STR(got, TS " stdout F before\n", "the file keeps its whole records");
  w(log, MON_STREAM_STDOUT, "after\n");
  g_free(got);
  got = slurp(path);
  TAP_IS_STR(got, TS " stdout F before\n" TS " stdout F after\n", "logging works again");
  TAP_IS_INT(n_errors, 2, "... and says so once");
  mon_log_free(log);
}

/* Only a regular file: anything else fails at once, never blocks. */
static void test_not_regular(void)
{
  g_autofree char *fifo = g_build_filename(tmpdir, "fifo", NULL);
  g_autofree char *link = g_build_filename(tmpdir, "link", NULL);
  g_autofree char *target = g_build_filename(tmpdir, "target", NULL);
  struct {
    const char *path, *what;
  } cases[] = {{fifo, "FIFO"},
               {"/dev/null", "character device"},
               {tmpdir, "directory"},
               {link, "symbolic link"}};
  TAP_OK(mkfifo(fifo, 0600) == 0 && symlink(target, link) == 0, "made a FIFO and a symlink");
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    MonLog *log = mon_log_new(cases[i].path, MON_LOG_KUBERNETES, 0, on_error, NULL);
    g_autoptr(GError) error = NULL;
    gboolean ok = mon_log_open(log, NULL, &error);
    g_autofree char *want =
        g_strdup_printf("log '%s' is a %s, not a regular file", cases[i].path, cases[i].what);
    TAP_IS_STR(ok ? "opened" : error->message, want, "%s refused at once", cases[i].what);
    mon_log_free(log);
  }
  TAP_OK(access(target, F_OK) != 0, "the symlink's target was not created");
  /* a FIFO with a reader opens without blocking, and is refused too */
  int rd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  MonLog *log = mon_log_new(fifo, MON_LOG_KUBERNETES, 0, on_error, NULL);
  g_autoptr(GError) error = NULL;
  TAP_OK(rd >= 0 && !mon_log_open(log, NULL, &error) && strstr(error->message, "is a FIFO"),
         "a FIFO with a reader is refused");
  mon_log_free(log);
  close(rd);
  unlink(fifo);
  unlink(link);
}

/* logrotate: mv LOG LOG.1, then reopen: new records go to a new LOG */
static void test_reopen(void)
{
  g_autofree char *path = NULL;
  MonLog *log = open_log("reopen.log", MON_LOG_KUBERNETES, 0, &path);
  g_autofree char *moved = g_strconcat(path, ".1", NULL);
  w(log, MON_STREAM_STDOUT, "one\npart");
  TAP_OK(rename(path, moved) == 0, "log moved away");
  w(log, MON_STREAM_STDOUT, "ial\n");
  g_autoptr(GError) error = NULL;
  TAP_OK(mon_log_reopen(log, &error), "reopen");
  w(log, MON_STREAM_STDOUT, "two\n");
  TAP_OK(mon_log_reopen(log, &error), "reopen of a log that was not moved");
  w(log, MON_STREAM_STDOUT, "three\n");
  mon_log_finish(log, &ts);
  g_autofree char *old = slurp(moved);
  g_autofree char *cur = slurp(path);
  TAP_IS_STR(old, TS " stdout F one\n" TS " stdout P part\n" TS " stdout F ial\n",
             "until the reopen, the moved file is written");
  TAP_IS_STR(cur, TS " stdout F two\n" TS " stdout F three\n", "after it, the new file");
  mon_log_free(log);
}

int main(void)
{
  g_autoptr(GError) error = NULL;
  tmpdir = g_dir_make_tmp("test-log-writer-XXXXXX", &error);
  if (!tmpdir) {
    printf("Bail out! %s\n", error->message);
    return 1;
  }
  test_time();
  test_k8s();
  test_k8s_big();
  test_json();
  test_rotation();
  test_rotation_json();
  test_errors();
  test_not_regular();
  test_reopen();
  g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
  if (system(cmd) != 0)
    printf("# could not remove %s\n", tmpdir);
  g_free(tmpdir);
  g_free(last_error);
  return tap_done();
}
