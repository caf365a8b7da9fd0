/* SPDX-License-Identifier: Apache-2.0 */
/* A GSource watching one fd whose condition can change (e.g. G_IO_OUT only
 * while a queue is non-empty).  g_unix_fd_add() cannot change it.  Sources
 * attach to the default main context, like g_timeout_add()'s. */
#ifndef SIFOCI_MON_WATCH_H
#define SIFOCI_MON_WATCH_H

#include <glib.h>

typedef gboolean (*MonWatchFunc)(gpointer data, GIOCondition cond);
GSource *mon_watch_new(int fd, GIOCondition cond, MonWatchFunc func, gpointer data);
void mon_watch_set(GSource *src, GIOCondition cond);
/* Destroys and unrefs *SRC (may be NULL), sets it to NULL. */
void mon_watch_destroy(GSource **src);

#endif
