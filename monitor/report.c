/* SPDX-License-Identifier: Apache-2.0 */
/* The report to the CLI (report.h). */
#include "report.h"

#include <errno.h>
#include <glib.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"
#include "fs.h"

/* Writes LINE (one line of JSON with its newline) and closes the fd. */
static void report(int *fd, const char *line)
{
  if (*fd >= 0)
    (void)fs_write_all(*fd, line, strlen(line)); /* the CLI went away: nothing to tell it */
  mon_close(fd);
}

void mon_report_error(int *fd, const char *msg)
{
  json_auto_t *o = json_object();
  json_object_set_new(o, "error", json_string(msg));
  char *s = json_dumps(o, JSON_PRESERVE_ORDER);
  g_autofree char *line = g_strconcat(s ? s : "{\"error\": \"out of memory\"}", "\n", NULL);
  free(s);
  report(fd, line);
}

/* By hand: the first jansson object of a process seeds its hash from
 * /dev/urandom, three syscalls between `runtime create` and the report. */
void mon_report_pid(int *fd, pid_t pid)
{
  char line[40];
  g_snprintf(line, sizeof(line), "{\"pid\": %d}\n", (int)pid);
  report(fd, line);
}
