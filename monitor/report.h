/* SPDX-License-Identifier: Apache-2.0 */
/* The one JSON line to the CLI on --report-fd: {"pid": N} or
 * {"error": "text"}.  Each writes its line and closes *FD (-1 after). */
#ifndef SIFOCI_MON_REPORT_H
#define SIFOCI_MON_REPORT_H

#include <sys/types.h>

void mon_report_error(int *fd, const char *msg);
void mon_report_pid(int *fd, pid_t pid);

#endif
