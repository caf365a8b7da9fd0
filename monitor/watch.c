/* SPDX-License-Identifier: Apache-2.0 */
/* A GSource watching one fd whose condition can change (e.g. G_IO_OUT only
 * while a queue is non-empty).  g_unix_fd_add() cannot change it. */
#include "watch.h"

typedef struct {
  GSource source;
  gpointer tag;
} MonWatch;

static gboolean watch_dispatch(GSource *source, GSourceFunc callback, gpointer data)
{
  MonWatch *w = (MonWatch *)source;
  GIOCondition cond = g_source_query_unix_fd(source, w->tag);
  if (cond == 0)
    return G_SOURCE_CONTINUE;
  return ((MonWatchFunc)(void (*)(void))callback)(data, cond);
}

static GSourceFuncs watch_funcs = {
    .dispatch = watch_dispatch,
};

GSource *mon_watch_new(int fd, GIOCondition cond, MonWatchFunc func, gpointer data)
{
  GSource *src = g_source_new(&watch_funcs, sizeof(MonWatch));
  MonWatch *w = (MonWatch *)src;
  w->tag = g_source_add_unix_fd(src, fd, cond);
  g_source_set_callback(src, (GSourceFunc)(void (*)(void))func, data, NULL);
  g_source_attach(src, NULL);
  return src;
}

void mon_watch_set(GSource *src, GIOCondition cond)
{
  if (src == NULL)
    return;
  MonWatch *w = (MonWatch *)src;
  g_source_modify_unix_fd(src, w->tag, cond);
}

void mon_watch_destroy(GSource **src)
{
  if (*src == NULL)
    return;
  g_source_destroy(*src);
  g_source_unref(*src);
  *src = NULL;
}
